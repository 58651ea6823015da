package dev.netboot.ndp;

import dev.netboot.testlib.Fuzz;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** 10^6 mutations of real router solicitations and advertisements (and random frames): decoded, ignored or refused, never a crash. */
class NdpMillionInputsTest {

    @Test
    void aMillionInputsNeverCrashTheDecoder() {
        Fuzz.Outcome o = Fuzz.run(List.of(NdpCodecTest.LINUX_RS, NdpCodecTest.RDISC6_RS, NdpCodecTest.OUR_RA), Fuzz.MILLION, 0x6d9_0001L,
                MalformedNdpException.class, b -> NdpCodec.decode(ByteBuffer.wrap(b)));
        assertThat(o.decoded() + o.refused()).isEqualTo(Fuzz.MILLION);
        assertThat(o.refused()).isGreaterThan(Fuzz.MILLION / 20);
    }
}
