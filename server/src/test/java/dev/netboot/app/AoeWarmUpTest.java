package dev.netboot.app;

import dev.netboot.storage.ReadTuning;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The start-up warm-up of the AoE path talks to a target of its own over the loopback interface, through both receive
 * paths, and checks what it reads (a failure throws: the appliance logs it and starts without the warm-up).
 */
class AoeWarmUpTest {

    @TempDir Path scratch;

    @Test
    void framesGoThroughTheRealServerOnLoopbackWithTheRingAndWithRecvmmsg() throws Exception {
        for (boolean ring : new boolean[]{true, false}) {
            AtomicInteger discovered = new AtomicInteger();
            Duration took = AoeWarmUp.run(3000, 64, ring, 0, ReadTuning.DEFAULT, scratch, (client, target) -> discovered.incrementAndGet());
            assertThat(took).isPositive();
            // Config queries all through the run (both targets answer each), not only at its start: a PC's initrd
            // sends them while it reads, and a path compiled without them is thrown away at the first one.
            assertThat(discovered.get()).as("discoveries (ring: " + ring + ")").isGreaterThanOrEqualTo(2 * (3000 / 64));
        }
        try (var left = Files.list(scratch)) {
            assertThat(left.toList()).as("scratch disks removed").isEmpty();
        }
    }
}
