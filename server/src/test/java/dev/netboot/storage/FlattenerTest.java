package dev.netboot.storage;

import org.junit.jupiter.api.Test;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FlattenerTest {

    private static final int DISK = 8 << 20;

    @TempDir
    Path dir;

    /** A clone of a half-sparse base with client writes all over it; returns what the disk holds. */
    private byte[] cloneWithWrites(Path base, Path overlay) throws Exception {
        byte[] model = new byte[DISK];
        Random r = new Random(42);
        r.nextBytes(model);
        java.util.Arrays.fill(model, DISK / 2, DISK, (byte) 0);
        try (RandomAccessFile raf = new RandomAccessFile(base.toFile(), "rw")) {
            raf.setLength(DISK);
            raf.write(model, 0, DISK / 2);
        }
        try (CowBlockStore s = CowBlockStore.create(base, overlay)) {
            for (int i = 0; i < 300; i++) {
                int off = r.nextInt(DISK - 10_000), len = 1 + r.nextInt(10_000);
                byte[] d = new byte[len];
                r.nextBytes(d);
                CowBlockStoreTest.write(s, off, d);
                System.arraycopy(d, 0, model, off, len);
            }
        }
        return model;
    }

    @Test
    void flattenMakesAPlainDiskAndReportsProgress() throws Exception {
        Path base = dir.resolve("base.img"), overlay = dir.resolve("a.img");
        byte[] model = cloneWithWrites(base, overlay);
        byte[] baseBytes = Files.readAllBytes(base);
        List<long[]> updates = new ArrayList<>();
        Flattener.flatten(overlay, (phase, done, total) -> updates.add(new long[]{done, total}));

        assertThat(CowBlockStore.isClone(overlay)).isFalse();
        assertThat(CowBlockStore.sidecarOf(overlay)).doesNotExist();
        try (BlockStore plain = BlockStores.open(overlay, false, false)) {
            assertThat(plain).isInstanceOf(FileBlockStore.class);
            assertSameBytes(CowBlockStoreTest.readAll(plain), model);
        }
        assertSameBytes(Files.readAllBytes(base), baseBytes);
        assertThat(updates).hasSize(1 + DISK / (1 << 20));
        assertThat(updates.getFirst()).containsExactly(0, DISK);
        assertThat(updates.getLast()).containsExactly(DISK, DISK);
        for (int i = 1; i < updates.size(); i++) assertThat(updates.get(i)[0]).isGreaterThan(updates.get(i - 1)[0]);
        assertThatThrownBy(() -> Flattener.flatten(overlay, (phase, d, t) -> {})).hasMessageContaining("not a clone");
    }

    @Test
    void anInterruptedFlattenLeavesAUsableCloneThatASecondRunFinishes() throws Exception {
        Path base = dir.resolve("base.img"), overlay = dir.resolve("a.img");
        byte[] model = cloneWithWrites(base, overlay);
        assertThatThrownBy(() -> Flattener.flatten(overlay, (phase, done, total) -> {
            if (done >= 3 << 20) throw new IllegalStateException("operator pressed ^C");
        }, 1 << 20)).hasMessageContaining("^C");
        assertThat(CowBlockStore.isClone(overlay)).isTrue();
        try (CowBlockStore s = CowBlockStore.open(overlay, false)) {
            assertSameBytes(CowBlockStoreTest.readAll(s), model);
            assertThat(s.allocatedBytes()).isGreaterThanOrEqualTo(3 << 20).isLessThan(DISK);
        }
        Flattener.flatten(overlay, (phase, d, t) -> {});
        assertSameBytes(Files.readAllBytes(overlay), model);
    }

    @Test
    void aFlattenKilledWithSignal9IsResumedByTheNextRun() throws Exception {
        Path base = dir.resolve("base.img"), overlay = dir.resolve("a.img");
        byte[] model = cloneWithWrites(base, overlay);
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                CowCrashChild.class.getName(), overlay.toString(), "flatten")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        long done = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; (line = out.readLine()) != null; ) {
                assertThat(line).as("killed before the end").startsWith("DONE ");
                done = Long.parseLong(line.substring(5));
                if (done >= 4 << 20) child.toHandle().destroyForcibly();
            }
        } finally {
            child.toHandle().destroyForcibly();
        }
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).isEqualTo(137);
        assertThat(CowBlockStore.isClone(overlay)).isTrue();
        try (CowBlockStore s = CowBlockStore.open(overlay, false)) {
            assertSameBytes(CowBlockStoreTest.readAll(s), model);
            // the checkpoints before the kill were kept
            assertThat(s.allocatedBytes()).isGreaterThanOrEqualTo(3 << 20);
        }
        Flattener.flatten(overlay, (phase, d, t) -> {});
        assertSameBytes(Files.readAllBytes(overlay), model);
    }

    @Test
    void flatteningACloneOfASparseBaseKeepsTheHoles() throws Exception {
        Path base = dir.resolve("base.img"), overlay = dir.resolve("a.img");
        try (RandomAccessFile raf = new RandomAccessFile(base.toFile(), "rw")) {
            raf.setLength(1L << 30);
        }
        try (CowBlockStore s = CowBlockStore.create(base, overlay)) {
            CowBlockStoreTest.write(s, 100 << 20, new byte[]{1, 2, 3});
        }
        Flattener.flatten(overlay, (phase, d, t) -> {});
        assertThat(CowBlockStore.isClone(overlay)).isFalse();
        assertThat(Files.size(overlay)).isEqualTo(1L << 30);
        Process stat = new ProcessBuilder("stat", "-c", "%b", overlay.toString()).start();
        long blocks = Long.parseLong(new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim());
        assertThat(blocks * 512).as("bytes allocated").isLessThanOrEqualTo(64 << 10);
        try (FileBlockStore plain = FileBlockStore.open(overlay, true, false)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4);
            plain.read((100 << 20) - 1, b);
            assertThat(b.array()).containsExactly(0, 1, 2, 3);
        }
    }
}
