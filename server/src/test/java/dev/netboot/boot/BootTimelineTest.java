package dev.netboot.boot;

import dev.netboot.inventory.BootEvent;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Where one boot of a client ends and the next begins, from the events the server recorded. */
class BootTimelineTest {

    static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
    static final String MAC = "52:54:00:00:00:01";

    static BootEvent at(int seconds, String kind, String file) {
        return new BootEvent(MAC, T0.plusSeconds(seconds), kind, "10.0.0.7", file, "");
    }

    /** A BIOS PC: the ROM's DHCP, iPXE's DHCP seconds later, its files, its disk; then reset and the same again. */
    static List<BootEvent> twoBoots() {
        return List.of(
                at(0, "dhcp-discover", ""), at(0, "dhcp-boot", "undionly.kpxe"), at(1, "tftp", "undionly.kpxe"),
                at(4, "dhcp-discover", ""), at(4, "dhcp-boot", "boot.ipxe"), at(5, "http", "boot.ipxe"),
                at(6, "http", "images/demo/vmlinuz"), at(8, "http", "images/demo/initrd.img"), at(12, "aoe-discover", "e1.0"),
                // reset 20 s later: a new power-on although less than a minute went by, because the first reached its disk
                at(32, "dhcp-discover", ""), at(32, "dhcp-boot", "undionly.kpxe"));
    }

    @Test
    void aResetAfterTheDiskWasFoundStartsANewBootAndiPxesSecondDiscoverDoesNot() {
        List<BootEvent> shuffled = new ArrayList<>(twoBoots());
        java.util.Collections.reverse(shuffled);
        List<BootTimeline> boots = BootTimeline.of(shuffled);
        assertThat(boots).hasSize(2);
        assertThat(boots.get(0).events()).hasSize(9).extracting(BootEvent::kind).startsWith("dhcp-discover").endsWith("aoe-discover");
        assertThat(boots.get(0).reachedDisk()).isTrue();
        assertThat(boots.get(0).took().toSeconds()).isEqualTo(12);
        assertThat(boots.get(1).started()).isEqualTo(T0.plusSeconds(32));
        assertThat(boots.get(1).reachedDisk()).isFalse();
    }

    @Test
    void aDiscoverAfterAMinuteOfSilenceIsANewBootEvenIfTheDiskWasNeverFound() {
        List<BootTimeline> boots = BootTimeline.of(List.of(at(0, "dhcp-discover", ""), at(1, "tftp", "undionly.kpxe"),
                at(59, "dhcp-discover", ""), at(121, "dhcp-discover", "")));
        assertThat(boots).extracting(b -> b.events().size()).containsExactly(3, 1);
    }

    @Test
    void stepsAfterTenMinutesOfSilenceAreANewBootWithoutADiscover() {
        List<BootTimeline> boots = BootTimeline.of(List.of(at(0, "dhcp-discover", ""), at(2, "http", "boot.ipxe"), at(700, "http", "boot.ipxe")));
        assertThat(boots).hasSize(2);
        assertThat(BootTimeline.of(List.of())).isEmpty();
    }
}
