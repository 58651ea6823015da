package dev.netboot.replication;

import dev.netboot.replication.BootState.DiskRecord;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each disk's file identities cross the link; an older peer's state (no identities) is still read. */
class BootStateCodecTest {

    static BootState state(String identity, List<String> replaced) {
        return new BootState(List.of(), List.of(
                new DiskRecord("1.3", "client-5254", "disks/client-5254.img", "demo2", "clone", 64L << 20, List.of("52:54:00:00:00:01"),
                        false, false, List.of("eth1"), identity, replaced),
                new DiskRecord("1.4", "", "/dev/vg/pc4", "", "", 1L << 30, List.of(), true, false, List.of())), List.of(), List.of());
    }

    @Test
    void fileIdentitiesSurviveARoundTrip() {
        BootState s = state("0123456789abcdef", List.of("1111111111111111", "2222222222222222"));
        BootState back = BootStateCodec.decode(BootStateCodec.encode(s));
        assertThat(back).isEqualTo(s);
        assertThat(back.disks().getFirst().fileIdentity()).isEqualTo("0123456789abcdef");
        assertThat(back.disks().getFirst().replacedIdentities()).containsExactly("1111111111111111", "2222222222222222");
        assertThat(back.disks().get(1).fileIdentity()).isEmpty();
        assertThat(BootStateCodec.decode(BootStateCodec.encode(state("x", List.of()))).disks().getFirst().fileIdentity()).isEqualTo("x");
    }

    @Test
    void aStateOfTheFormatWithoutIdentitiesIsReadWithNone() {
        byte[] old = BootStateCodec.encode(state("0123456789abcdef", List.of("1111111111111111")), BootStateCodec.FORMAT_WITHOUT_IDENTITIES);
        assertThat(old[0]).isEqualTo((byte) 1);
        BootState back = BootStateCodec.decode(old);
        assertThat(back).isEqualTo(state("", List.of()));
        byte[] future = BootStateCodec.encode(state("", List.of()));
        future[0] = 3;
        assertThatThrownBy(() -> BootStateCodec.decode(future)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("format 3");
    }
}
