package dev.netboot.web;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ByteRangeTest {

    @Test
    void parsesTheThreeFormsOfOneRange() {
        assertThat(ByteRange.parse("bytes=0-99", 1000)).isEqualTo(new ByteRange.Partial(new ByteRange(0, 99)));
        assertThat(ByteRange.parse("bytes=900-", 1000)).isEqualTo(new ByteRange.Partial(new ByteRange(900, 999)));
        assertThat(ByteRange.parse("bytes=-100", 1000)).isEqualTo(new ByteRange.Partial(new ByteRange(900, 999)));
        assertThat(ByteRange.parse("bytes=990-5000", 1000)).isEqualTo(new ByteRange.Partial(new ByteRange(990, 999)));
        assertThat(ByteRange.parse("bytes=-5000", 1000)).isEqualTo(new ByteRange.Partial(new ByteRange(0, 999)));
    }

    @Test
    void unsatisfiableRanges() {
        assertThat(ByteRange.parse("bytes=1000-", 1000)).isInstanceOf(ByteRange.Unsatisfiable.class);
        assertThat(ByteRange.parse("bytes=-0", 1000)).isInstanceOf(ByteRange.Unsatisfiable.class);
        assertThat(ByteRange.parse("bytes=0-", 0)).isInstanceOf(ByteRange.Unsatisfiable.class);
    }

    @Test
    void anythingElseMeansTheWholeFile() {
        for (String header : new String[]{null, "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=0-1,5-6", "bytes=-", "bytes=1"}) {
            assertThat(ByteRange.parse(header, 1000)).as(String.valueOf(header)).isInstanceOf(ByteRange.Whole.class);
        }
    }
}
