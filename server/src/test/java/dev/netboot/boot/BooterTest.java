package dev.netboot.boot;

import dev.netboot.dhcp.BootPlan;
import dev.netboot.inventory.Assignment;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

class BooterTest {

    static final String A = "52:54:00:00:00:0a";
    static final String B = "52:54:00:00:00:0b";
    static final String C = "52:54:00:00:00:0c";

    /** The inventory's assignments, and a cloner that assigns the next free slot and says whom it cloned for. */
    final Map<String, Assignment> assignments = new ConcurrentHashMap<>();
    final List<String> cloned = new CopyOnWriteArrayList<>();
    final MutableClock clock = new MutableClock();

    DefaultImageClones.Cloner cloner = mac -> {
        cloned.add(mac);
        Assignment a = new Assignment(mac, "demo", "/images/demo", 1, assignments.size());
        assignments.put(mac, a);
        return Optional.of(a);
    };

    Booter booter(int max, int perMinute) {
        DefaultImageClones defaults = new DefaultImageClones("demo", cloner, () -> cloned.size(), max, perMinute, clock);
        return new Booter(m -> BootPlan.NONE, mac -> Optional.ofNullable(assignments.get(mac)), defaults, "console=ttyS0");
    }

    @Test
    void anAssignedClientBootsItsImagesKernelAndInitrdWithItsDiskOnTheCommandLine() {
        assignments.put(A, new Assignment(A, "debian", "/images/debian", 3, 7));
        ClientBoot boot = booter(10, 10).bootFor(A);
        assertThat(boot.isWaiting()).isFalse();
        ClientBoot.Boots b = boot.boots().orElseThrow();
        assertThat(b.kernel().path()).isEqualTo("images/debian/vmlinuz");
        assertThat(b.initrd().path()).isEqualTo("images/debian/initrd.img");
        assertThat(b.cmdline()).isEqualTo("netboot.mac=" + A + " netboot.aoe=3.7 rw console=ttyS0");
        assertThat(b.aoeDevice()).isEqualTo("/dev/etherd/e3.7");
    }

    @Test
    void readingWhatAClientBootsNeverCreatesADisk() {
        Booter booter = booter(10, 10);
        ClientBoot boot = booter.bootFor(A);
        assertThat(boot.isWaiting()).isTrue();
        assertThat(boot.waitingFor()).isEqualTo(ClientBoot.WAITING_FOR_OPERATOR);
        assertThat(cloned).as("a menu request of a MAC whose boot nobody saw clones nothing").isEmpty();
    }

    @Test
    void aNetworkBootAnsweredGivesADisklessMachineACloneItsNextMenuFinds() {
        Booter booter = booter(10, 10);
        booter.networkBootAnswered(A);
        ClientBoot boot = booter.bootFor(A); // waits for the clone under way
        assertThat(cloned).containsExactly(A);
        assertThat(boot.boots()).get().extracting(ClientBoot.Boots::image).isEqualTo("demo");
    }

    @Test
    void aMachineThatHasADiskGetsNoSecondOne() throws Exception {
        assignments.put(A, new Assignment(A, "debian", "/images/debian", 3, 7));
        Booter booter = booter(10, 10);
        booter.networkBootAnswered(A);
        booter.bootFor(A);
        Thread.sleep(100);
        assertThat(cloned).isEmpty();
    }

    @Test
    void theCapOnDisksNobodyAssignedHoldsAndTheConsoleSaysWhy() {
        Booter booter = booter(1, 10);
        booter.networkBootAnswered(A);
        booter.bootFor(A);
        booter.networkBootAnswered(B);
        ClientBoot b = booter.bootFor(B);
        assertThat(cloned).containsExactly(A);
        assertThat(b.isWaiting()).isTrue();
        assertThat(b.waitingFor()).contains("at most 1", "disks.maxAutoClones");
    }

    @Test
    void theRateLimitRefusesAFloodAndAllowsAgainAMinuteLater() {
        Booter booter = booter(100, 2);
        for (String mac : List.of(A, B, C)) {
            booter.networkBootAnswered(mac);
            booter.bootFor(mac);
        }
        assertThat(cloned).containsExactly(A, B);
        assertThat(booter.bootFor(C).waitingFor()).contains("disks.autoClonesPerMinute");
        clock.advance(Duration.ofSeconds(31));
        booter.networkBootAnswered(C);
        assertThat(booter.bootFor(C).isWaiting()).as("one token back after half a minute at 2 a minute").isFalse();
        assertThat(cloned).containsExactly(A, B, C);
    }

    @Test
    void noDefaultImageMeansNoCloneEver() {
        Booter booter = new Booter(m -> BootPlan.NONE, mac -> Optional.ofNullable(assignments.get(mac)), DefaultImageClones.NONE, "");
        booter.networkBootAnswered(A);
        assertThat(booter.bootFor(A).isWaiting()).isTrue();
        assertThat(cloned).isEmpty();
    }

    static final class MutableClock extends Clock {
        private volatile Instant now = Instant.parse("2026-12-01T00:00:00Z");

        void advance(Duration d) { now = now.plus(d); }

        @Override public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }
}
