package dev.netboot.storage;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.netboot.storage.CowBlockStoreTest.assertSameBytes;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * kill -9 of a process writing to a clone: every write it reported durable is there after reopening,
 * every other byte holds either its last durable value or a value a later write put there, the base
 * is unchanged, and a flatten afterwards keeps exactly what the clone showed.
 */
class CowBlockStoreCrashTest {

    private static final int DISK = 8 << 20; // 1024 slots of 8 KiB: the second pass overwrites allocated chunks

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"flush", "sync", "ack"})
    void everyWriteReportedDurableSurvivesKill9(String mode) throws Exception {
        long seed = new Random().nextLong();
        // somewhere in the first pass (fresh chunks, copy-ups) or the second (overwrites)
        int killAfter = 200 + new Random(seed).nextInt(CowCrashChild.writes(DISK) - 400);
        Path base = dir.resolve("base.img");
        byte[] baseBytes = new byte[DISK];
        new Random(seed).nextBytes(baseBytes);
        // data in the first half, holes in the second, as an installed image
        java.util.Arrays.fill(baseBytes, DISK / 2, DISK, (byte) 0);
        try (RandomAccessFile raf = new RandomAccessFile(base.toFile(), "rw")) {
            raf.setLength(DISK);
            raf.write(baseBytes, 0, DISK / 2);
        }
        Path overlay = dir.resolve("clone.img");
        CowBlockStore.create(base, overlay).close();

        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                CowCrashChild.class.getName(), overlay.toString(), mode, Long.toString(seed))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        int durable = -1;
        boolean killed = false;
        List<String> other = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("FLUSHED ") || line.startsWith("WRITTEN ")) durable = Math.max(durable, Integer.parseInt(line.substring(8)));
                else other.add(line);
                if (!killed && durable >= killAfter) {
                    // SIGKILL, in the middle of the stream. Through the handle: Process.destroyForcibly
                    // would also close our end of its stdout, losing acknowledgements still in the pipe.
                    child.toHandle().destroyForcibly();
                    killed = true;
                }
            }
        } finally {
            child.destroyForcibly();
        }
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(other).as("child output besides acknowledgements").isEmpty();
        assertThat(killed).isTrue();
        assertThat(child.exitValue()).isEqualTo(137);

        // What the disk may hold: each byte its value after writes 0..durable, or a later write's.
        long diskSize = DISK;
        byte[] expected = baseBytes.clone();
        byte[][] later = {new byte[DISK], new byte[DISK]};
        byte[] laterCount = new byte[DISK];
        int total = CowCrashChild.writes(diskSize);
        for (int i = 0; i < total; i++) {
            CowCrashChild.Planned p = CowCrashChild.planned(seed, i, diskSize);
            int off = (int) p.offset();
            if (i <= durable) {
                System.arraycopy(p.data(), 0, expected, off, p.data().length);
            } else {
                for (int k = 0; k < p.data().length; k++) later[laterCount[off + k]++][off + k] = p.data()[k];
            }
        }
        byte[] seen;
        try (CowBlockStore store = CowBlockStore.open(overlay, false)) {
            seen = CowBlockStoreTest.readAll(store);
        }
        int laterBytes = 0;
        for (int b = 0; b < DISK; b++) {
            if (seen[b] == expected[b]) continue;
            boolean fromLater = false;
            for (int k = 0; k < laterCount[b]; k++) fromLater |= later[k][b] == seen[b];
            if (!fromLater) throw new AssertionError("byte " + b + " is " + seen[b] + ", expected " + expected[b] + " (durable up to write " + durable + ", seed " + seed + ")");
            laterBytes++;
        }
        System.out.printf("%s (seed %d): killed after write %d of %d was durable; %d bytes of later writes present%n", mode, seed, durable,
                CowCrashChild.writes(DISK), laterBytes);
        assertSameBytes(Files.readAllBytes(base), baseBytes);

        Flattener.flatten(overlay, (phase, d, t) -> {});
        assertThat(CowBlockStore.isClone(overlay)).isFalse();
        assertSameBytes(Files.readAllBytes(overlay), seen);
    }
}
