package dev.netboot.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CowBlockStoreTest {

    @TempDir
    Path dir;

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static Path baseWith(Path file, byte[] content) throws IOException {
        Files.write(file, content);
        return file;
    }

    static byte[] readAll(BlockStore s) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(s.size()));
        s.read(0, b);
        return b.array();
    }

    /** Like isEqualTo, but names the first differing byte instead of printing megabytes. */
    static void assertSameBytes(byte[] actual, byte[] expected) {
        assertSameBytes(actual, expected, "");
    }

    static void assertSameBytes(byte[] actual, byte[] expected, String what) {
        int i = Arrays.mismatch(actual, expected);
        if (i < 0) return;
        if (i >= Math.min(actual.length, expected.length))
            throw new AssertionError(what + " length " + actual.length + ", expected " + expected.length);
        throw new AssertionError(what + " byte " + i + " is " + actual[i] + ", expected " + expected[i] + " (of " + expected.length + ")");
    }

    static void write(BlockStore s, long offset, byte[] data) throws IOException {
        s.write(offset, ByteBuffer.wrap(data));
    }

    @Test
    void onlyDataTheCloneStillReadsFromItsImageIsPinnedInTheImage() throws Exception {
        byte[] content = randomBytes(40 * 4096, 3);
        Path base = baseWith(dir.resolve("base.img"), content);
        try (CowBlockStore s = CowBlockStore.create(base, dir.resolve("pin.img"))) {
            BlockStore.Pinned pin = s.pin(4096 + 100, 8704);
            assertThat(pin).as("untouched chunks: the image's mapping").isNotNull();
            assertSameBytes(FileBlockStoreTest.pinned(pin, 8704), Arrays.copyOfRange(content, 4096 + 100, 4096 + 100 + 8704));
            pin.release();

            write(s, 3 * 4096, new byte[]{1});   // the clone's own chunk 3, inside the range below
            assertThat(s.pin(4096 + 100, 8704)).as("a chunk of the clone's own: read, not pinned").isNull();
            assertThat(s.pin(8 * 4096, 8704)).isNotNull().satisfies(BlockStore.Pinned::release);
        }
    }

    @Test
    void aNewCloneReadsTheBaseAndOwnsNoData() throws Exception {
        byte[] content = randomBytes(40 * 4096, 1);
        Path base = baseWith(dir.resolve("base.img"), content);
        Path overlay = dir.resolve("clients/a.img");
        try (CowBlockStore s = CowBlockStore.create(base, overlay)) {
            assertThat(s.size()).isEqualTo(content.length);
            assertSameBytes(readAll(s), content);
            assertThat(s.allocatedBytes()).isZero();
            assertThat(s.base()).isEqualTo(base.toAbsolutePath());
        }
        assertThat(CowBlockStore.isClone(overlay)).isTrue();
        assertThat(CowBlockStore.isClone(base)).isFalse();
        assertThat(Files.size(overlay)).isEqualTo(content.length);
        assertThat(BlockStores.open(overlay, false, false)).isInstanceOf(CowBlockStore.class).satisfies(BlockStore::close);
        assertThat(BlockStores.open(base, true, false)).isInstanceOf(FileBlockStore.class).satisfies(BlockStore::close);
    }

    @Test
    void aPartialFirstWriteCopiesTheRestOfTheChunkFromTheBase() throws Exception {
        byte[] content = randomBytes(16 * 4096, 2);
        Path base = baseWith(dir.resolve("base.img"), content);
        byte[] model = content.clone();
        try (CowBlockStore s = CowBlockStore.create(base, dir.resolve("a.img"))) {
            byte[] data = randomBytes(1024, 3);
            write(s, 5 * 4096 + 1024, data); // the aoe driver's 1 KiB frame, second quarter of chunk 5
            System.arraycopy(data, 0, model, 5 * 4096 + 1024, 1024);
            assertThat(s.allocatedBytes()).isEqualTo(4096);
            assertSameBytes(readAll(s), model);
            // a write straddling chunks 7 and 8, unaligned at both ends
            byte[] more = randomBytes(3000, 4);
            write(s, 8 * 4096 - 1000, more);
            System.arraycopy(more, 0, model, 8 * 4096 - 1000, 3000);
            assertThat(s.allocatedBytes()).isEqualTo(3 * 4096);
            assertSameBytes(readAll(s), model);
        }
        assertSameBytes(Files.readAllBytes(base), content);
        try (CowBlockStore s = CowBlockStore.open(dir.resolve("a.img"), false)) {
            assertSameBytes(readAll(s), model);
            assertThat(s.allocatedBytes()).isEqualTo(3 * 4096);
        }
    }

    @Test
    void readsSpanningBaseAndOverlayAreSplit() throws Exception {
        byte[] content = randomBytes(8 * 4096, 5);
        Path base = baseWith(dir.resolve("base.img"), content);
        byte[] model = content.clone();
        try (CowBlockStore s = CowBlockStore.create(base, dir.resolve("a.img"))) {
            for (int chunk : new int[]{1, 2, 4, 7}) {
                byte[] d = randomBytes(4096, chunk);
                write(s, chunk * 4096L, d);
                System.arraycopy(d, 0, model, chunk * 4096, 4096);
            }
            for (int off = 0; off < model.length; off += 1500) {
                int len = Math.min(9000, model.length - off);
                ByteBuffer direct = ByteBuffer.allocateDirect(len);
                s.read(off, direct);
                byte[] got = new byte[len];
                direct.flip().get(got);
                assertSameBytes(got, Arrays.copyOfRange(model, off, off + len), "read at " + off);
            }
        }
    }

    @Test
    void aDiskWhoseSizeIsNoMultipleOfTheChunkSize() throws Exception {
        byte[] content = randomBytes(3 * 4096 + 1536, 6);
        Path base = baseWith(dir.resolve("base.img"), content);
        byte[] model = content.clone();
        try (CowBlockStore s = CowBlockStore.create(base, dir.resolve("a.img"))) {
            byte[] tail = randomBytes(512, 7);
            write(s, content.length - 512, tail);
            System.arraycopy(tail, 0, model, content.length - 512, 512);
            assertThat(s.allocatedBytes()).isEqualTo(1536);
            assertSameBytes(readAll(s), model);
            assertThatThrownBy(() -> write(s, content.length - 511, tail)).isInstanceOf(IOException.class);
        }
        Flattener.flatten(dir.resolve("a.img"), (phase, d, t) -> {});
        assertSameBytes(Files.readAllBytes(dir.resolve("a.img")), model);
    }

    @Test
    void concurrentFirstWritesIntoTheSameChunkAllSurvive() throws Exception {
        // Four writers each own one 1 KiB quarter of every chunk, as four aoe frames of one 4 KiB
        // block arriving on different threads: without the chunk lock one copy-up overwrites another.
        int chunks = 512;
        byte[] content = randomBytes(chunks * 4096, 8);
        Path base = baseWith(dir.resolve("base.img"), content);
        try (CowBlockStore s = CowBlockStore.create(base, dir.resolve("a.img"));
             ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int q = 0; q < 4; q++) {
                int quarter = q;
                jobs.add(pool.submit(() -> {
                    byte[] d = new byte[1024];
                    Arrays.fill(d, (byte) (0x10 + quarter));
                    for (int c = 0; c < chunks; c++) write(s, c * 4096L + quarter * 1024L, d);
                    return null;
                }));
            }
            for (Future<?> j : jobs) j.get();
            byte[] all = readAll(s);
            for (int i = 0; i < all.length; i++) {
                if (all[i] != (byte) (0x10 + (i % 4096) / 1024)) throw new AssertionError("byte " + i + " lost its write: " + all[i]);
            }
            assertThat(s.allocatedBytes()).isEqualTo(chunks * 4096L);
        }
        assertSameBytes(Files.readAllBytes(base), content);
    }

    @Test
    void readersRacingFirstWritesSeeEachChunkOldOrNewNeverAHole() throws Exception {
        // A read decides per run of chunks where to read from; a chunk allocated meanwhile must not
        // send the rest of a base run to the overlay, whose unwritten chunks are holes.
        int chunks = 4096;
        byte[] content = new byte[chunks * 4096];
        Arrays.fill(content, (byte) 0x5a);
        Path base = baseWith(dir.resolve("base.img"), content);
        try (CowBlockStore s = CowBlockStore.create(base, dir.resolve("a.img"));
             ExecutorService pool = Executors.newFixedThreadPool(3)) {
            var done = new java.util.concurrent.atomic.AtomicBoolean();
            Future<?> writer = pool.submit(() -> {
                byte[] d = new byte[4096];
                Arrays.fill(d, (byte) 0x77);
                List<Integer> order = new ArrayList<>();
                for (int c = 0; c < chunks; c++) order.add(c);
                java.util.Collections.shuffle(order, new Random(20));
                for (int c : order) write(s, c * 4096L, d);
                done.set(true);
                return null;
            });
            List<Future<?>> readers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int seed = t;
                readers.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    ByteBuffer b = ByteBuffer.allocateDirect(64 << 10);
                    while (!done.get()) {
                        long at = 4096L * r.nextInt(chunks - 16);
                        s.read(at, b.clear());
                        for (int i = 0; i < b.capacity(); i++) {
                            byte v = b.get(i);
                            if (v != 0x5a && v != 0x77) throw new AssertionError("byte " + (at + i) + " read as " + v);
                        }
                    }
                    return null;
                }));
            }
            writer.get();
            for (Future<?> f : readers) f.get();
        }
    }

    @Test
    void flushedAndClosedWritesSurviveReopen() throws Exception {
        byte[] content = randomBytes(64 * 4096, 9);
        Path base = baseWith(dir.resolve("base.img"), content);
        Path overlay = dir.resolve("a.img");
        byte[] model = content.clone();
        CowBlockStore.create(base, overlay).close();
        for (int round = 0; round < 3; round++) {
            try (CowBlockStore s = CowBlockStore.open(overlay, round == 1)) {
                assertSameBytes(readAll(s), model);
                byte[] d = randomBytes(6000, 10 + round);
                long at = 10_000L * (round + 1);
                write(s, at, d);
                System.arraycopy(d, 0, model, (int) at, d.length);
                if (round == 0) s.flush();
            }
        }
        try (CowBlockStore s = CowBlockStore.open(overlay, true, false)) {
            assertSameBytes(readAll(s), model);
            assertThatThrownBy(() -> write(s, 0, new byte[512])).hasMessageContaining("read-only");
        }
    }

    @Test
    void aChangedOrMissingBaseIsRefusedWithTheReason() throws Exception {
        Path base = baseWith(dir.resolve("base.img"), randomBytes(8 * 4096, 11));
        Path overlay = dir.resolve("a.img");
        CowBlockStore.create(base, overlay).close();
        Files.setLastModifiedTime(base, FileTime.fromMillis(Files.getLastModifiedTime(base).toMillis() - 60_000));
        assertThatThrownBy(() -> CowBlockStore.open(overlay, false)).isInstanceOf(IOException.class)
                .hasMessageContaining("base image " + base).hasMessageContaining("changed since clone").hasMessageContaining("modified at");
        assertThatThrownBy(() -> BlockStores.open(overlay, false, false)).hasMessageContaining("changed since clone");
        // a copy to put in its place later: another inode, since both files exist at once
        Files.write(dir.resolve("copy.img"), randomBytes(8 * 4096, 11));
        Files.setLastModifiedTime(dir.resolve("copy.img"), Files.getLastModifiedTime(base));
        Files.delete(base);
        assertThatThrownBy(() -> CowBlockStore.open(overlay, false)).hasMessageContaining("is missing");
        Files.move(dir.resolve("copy.img"), base);
        assertThatThrownBy(() -> CowBlockStore.open(overlay, false)).hasMessageContaining("replaced by another file");
    }

    @Test
    void aDamagedSidecarIsRefusedNotServedAsAPlainDisk() throws Exception {
        Path base = baseWith(dir.resolve("base.img"), randomBytes(8 * 4096, 12));
        Path overlay = dir.resolve("a.img");
        CowBlockStore.create(base, overlay).close();
        try (FileChannel ch = FileChannel.open(CowBlockStore.sidecarOf(overlay), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[]{1, 2, 3}), 20);
        }
        assertThat(CowBlockStore.isClone(overlay)).isTrue();
        assertThatThrownBy(() -> BlockStores.open(overlay, false, false)).hasMessageContaining("damaged");
    }

    @Test
    void aCloneIsOpenedByOneWriterAtATime() throws Exception {
        Path base = baseWith(dir.resolve("base.img"), randomBytes(8 * 4096, 13));
        Path overlay = dir.resolve("a.img");
        try (CowBlockStore s = CowBlockStore.create(base, overlay)) {
            assertThatThrownBy(() -> CowBlockStore.open(overlay, false)).hasMessageContaining("in use");
            assertThatThrownBy(() -> CowBlockStore.open(overlay, true, false)).hasMessageContaining("in use");
            assertThatThrownBy(() -> Flattener.flatten(overlay, (phase, d, t) -> {})).hasMessageContaining("in use");
            assertThat(s.size()).isPositive();
        }
        try (CowBlockStore a = CowBlockStore.open(overlay, true, false); CowBlockStore b = CowBlockStore.open(overlay, true, false)) {
            assertSameBytes(readAll(a), readAll(b));
        }
    }

    @Test
    void createOverwritesNothingAndDoesNotStackClones() throws Exception {
        Path base = baseWith(dir.resolve("base.img"), randomBytes(8 * 4096, 14));
        Path overlay = dir.resolve("a.img");
        CowBlockStore.create(base, overlay).close();
        assertThatThrownBy(() -> CowBlockStore.create(base, overlay)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> CowBlockStore.create(overlay, dir.resolve("b.img"))).hasMessageContaining("itself a clone");
        assertThatThrownBy(() -> CowBlockStore.create(dir.resolve("nope.img"), dir.resolve("c.img"))).hasMessageContaining("nope.img");
        assertThat(dir.resolve("b.img")).doesNotExist();
    }

    @Test
    void deleteTakesTheSidecarFirstAndNotWhileOpen() throws Exception {
        Path base = baseWith(dir.resolve("base.img"), randomBytes(8 * 4096, 21));
        Path overlay = dir.resolve("a.img");
        try (CowBlockStore s = CowBlockStore.create(base, overlay)) {
            assertThatThrownBy(() -> CowBlockStore.delete(overlay)).hasMessageContaining("in use");
            assertThat(s.size()).isPositive();
        }
        CowBlockStore.delete(overlay);
        assertThat(overlay).doesNotExist();
        assertThat(CowBlockStore.sidecarOf(overlay)).doesNotExist();
        assertThat(CowBlockStore.isClone(overlay)).isFalse();
        assertThat(base).exists();
    }

    @Test
    void syncWritesAllocateDurablyOneByOne() throws Exception {
        byte[] content = randomBytes(32 * 4096, 15);
        Path base = baseWith(dir.resolve("base.img"), content);
        Path overlay = dir.resolve("a.img");
        CowBlockStore.create(base, overlay).close();
        byte[] model = content.clone();
        try (CowBlockStore s = CowBlockStore.open(overlay, true)) {
            for (int c = 0; c < 32; c += 3) {
                byte[] d = randomBytes(700, c);
                write(s, c * 4096L + 100, d);
                System.arraycopy(d, 0, model, c * 4096 + 100, d.length);
                // the map page on disk already claims the chunk, before any flush
                assertThat(persistedBit(overlay, c)).isTrue();
            }
            assertSameBytes(readAll(s), model);
        }
    }

    static boolean persistedBit(Path overlay, long chunk) throws IOException {
        try (FileChannel ch = FileChannel.open(CowBlockStore.sidecarOf(overlay), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, CloneHeader.BYTES + chunk / 8);
            return (b.get(0) & (1 << (chunk % 8))) != 0;
        }
    }

    @Test
    void unflushedAllocationsAreNotPersistedButFlushedOnesAre() throws Exception {
        Path base = baseWith(dir.resolve("base.img"), randomBytes(32 * 4096, 16));
        Path overlay = dir.resolve("a.img");
        try (CowBlockStore s = CowBlockStore.create(base, overlay)) {
            write(s, 3 * 4096L, new byte[4096]);
            assertThat(persistedBit(overlay, 3)).isFalse();
            s.flush();
            assertThat(persistedBit(overlay, 3)).isTrue();
        }
    }

    /**
     * What the files hold while the store is open is what a kill -9 leaves (the page cache stays).
     * In the same boot a write that returned is there without any flush; after a power loss (another
     * boot) the unsynced live map is not trusted and only flushed writes count, the rest reading the
     * base again, never zeros.
     */
    @Test
    void aReturnedWriteSurvivesAProcessCrashAndAPowerLossFallsBackToTheLastFlush() throws Exception {
        byte[] content = randomBytes(32 * 4096, 20);
        Path base = baseWith(dir.resolve("base.img"), content);
        Path overlay = dir.resolve("a.img");
        CowBlockStore.create(base, overlay).close();
        byte[] flushed = randomBytes(700, 21), unflushed = randomBytes(700, 22);
        Path sameBoot = dir.resolve("same.img"), otherBoot = dir.resolve("other.img");
        try (CowBlockStore s = CowBlockStore.open(overlay, false)) {
            write(s, 3 * 4096L + 100, flushed);
            s.flush();
            write(s, 5 * 4096L + 100, unflushed);
            for (Path copy : List.of(sameBoot, otherBoot)) {
                Files.copy(overlay, copy);
                Files.copy(CowBlockStore.sidecarOf(overlay), CowBlockStore.sidecarOf(copy));
            }
        }
        byte[] afterKill = content.clone();
        System.arraycopy(flushed, 0, afterKill, 3 * 4096 + 100, flushed.length);
        byte[] afterPowerLoss = afterKill.clone();
        System.arraycopy(unflushed, 0, afterKill, 5 * 4096 + 100, unflushed.length);
        try (CowBlockStore s = CowBlockStore.open(sameBoot, false)) {
            assertSameBytes(readAll(s), afterKill, "after kill -9");
            s.flush(); // the recovered bit becomes durable
        }
        assertThat(persistedBit(sameBoot, 5)).isTrue();
        try (CowBlockStore s = CowBlockStore.open(otherBoot, false, false, java.util.Optional.of("another-boot"))) {
            assertSameBytes(readAll(s), afterPowerLoss, "after a power loss");
        }
    }

    @Test
    void cloningAnEightGibImageTakesUnderOneSecond() throws Exception {
        Path base = dir.resolve("big.img");
        try (RandomAccessFile raf = new RandomAccessFile(base.toFile(), "rw")) {
            raf.setLength(8L << 30); // sparse
        }
        long t0 = System.nanoTime();
        try (CowBlockStore s = CowBlockStore.create(base, dir.resolve("clone.img"))) {
            long elapsed = System.nanoTime() - t0;
            assertThat(elapsed).as("clone time in ns").isLessThan(1_000_000_000L);
            assertThat(s.size()).isEqualTo(8L << 30);
            // a write near the end lands, and costs no data copy of the rest
            write(s, (8L << 30) - 4096, randomBytes(4096, 17));
            assertThat(s.allocatedBytes()).isEqualTo(4096);
        }
    }

    @Test
    void overlayDataTheMapDoesNotClaimIsIgnoredAndFlattenedAway() throws Exception {
        // What a crash leaves after an unflushed copy-up: data in the overlay, no bit in the map.
        // The base is a hole there, so a flatten that trusted the overlay's hole-ness of the base
        // alone would keep the stale bytes.
        Path base = dir.resolve("base.img");
        try (RandomAccessFile raf = new RandomAccessFile(base.toFile(), "rw")) {
            raf.setLength(4L << 20);
            raf.seek(0);
            raf.write(randomBytes(4096, 18));
        }
        byte[] expected = Files.readAllBytes(base);
        Path overlay = dir.resolve("a.img");
        CowBlockStore.create(base, overlay).close();
        try (FileChannel ch = FileChannel.open(overlay, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(randomBytes(4096, 19)), 3L << 20);
        }
        try (CowBlockStore s = CowBlockStore.open(overlay, false)) {
            assertSameBytes(readAll(s), expected);
        }
        Flattener.flatten(overlay, (phase, d, t) -> {});
        assertSameBytes(Files.readAllBytes(overlay), expected);
    }
}
