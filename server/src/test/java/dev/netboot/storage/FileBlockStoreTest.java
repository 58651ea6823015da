package dev.netboot.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileBlockStoreTest {

    @TempDir
    Path dir;

    /** Holes are known without reading; a write not yet flushed counts as data (the page cache is asked too). */
    @Test
    void holesAreToldApartFromDataWithoutReadingAndAnUnflushedWriteIsData() throws Exception {
        try (FileBlockStore s = FileBlockStore.createSparse(dir.resolve("h.img"), 8 << 20)) {
            // createSparse sets the length by writing the last byte: its page is data.
            assertThat(s.isHole(0, (8 << 20) - 4096)).isTrue();
            s.write((3 << 20) + 100, ByteBuffer.wrap(new byte[] {1}));
            assertThat(s.isHole(3 << 20, 1 << 20)).as("a written byte, not flushed").isFalse();
            assertThat(s.isHole(0, 3 << 20)).isTrue();
            assertThat(s.isHole(4 << 20, 3 << 20)).isTrue();
            assertThat(s.isHole(2 << 20, 2 << 20)).as("a range that ends after the data starts").isFalse();
            assertThatThrownBy(() -> s.isHole(8 << 20, 4096)).isInstanceOf(IOException.class);
        }
    }

    @Test
    void sparseFileReadsZerosAndKeepsWhatIsWritten() throws Exception {
        Path img = dir.resolve("disks/a.img");
        try (FileBlockStore s = FileBlockStore.createSparse(img, 1 << 20)) {
            assertThat(s.size()).isEqualTo(1 << 20);
            ByteBuffer zeros = ByteBuffer.allocateDirect(4096);
            s.read(8192, zeros);
            assertThat(zeros.position()).isEqualTo(4096);
            for (int i = 0; i < 4096; i++) assertThat(zeros.get(i)).isZero();
            ByteBuffer data = ByteBuffer.allocateDirect(1024);
            for (int i = 0; i < 1024; i++) data.put(i, (byte) i);
            s.write(512, data);
            assertThat(data.hasRemaining()).isFalse();
            s.flush();
            ByteBuffer heap = ByteBuffer.allocate(1024);
            s.read(512, heap);
            assertThat(heap.flip()).isEqualTo(data.flip());
        }
        // Sparse: far fewer blocks allocated than the size.
        assertThat(Files.size(img)).isEqualTo(1 << 20);
        assertThatThrownBy(() -> FileBlockStore.createSparse(img, 1 << 20)).isInstanceOf(IOException.class);
    }

    @Test
    void outOfBoundsIoIsRefusedAndWritesNothing() throws Exception {
        try (FileBlockStore s = FileBlockStore.createSparse(dir.resolve("b.img"), 4096)) {
            assertThatThrownBy(() -> s.write(3584, ByteBuffer.allocate(1024))).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> s.read(-1, ByteBuffer.allocate(1))).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> s.read(Long.MAX_VALUE, ByteBuffer.allocate(1))).isInstanceOf(IOException.class);
        }
        assertThat(Files.size(dir.resolve("b.img"))).isEqualTo(4096);
    }

    @Test
    void readOnlyStoreRefusesWrites() throws Exception {
        FileBlockStore.createSparse(dir.resolve("c.img"), 4096).close();
        try (FileBlockStore s = FileBlockStore.open(dir.resolve("c.img"), true, false)) {
            assertThatThrownBy(() -> s.write(0, ByteBuffer.allocateDirect(512))).isInstanceOf(IOException.class);
        }
    }

    @Test
    void missingFileIsAClearError() {
        assertThatThrownBy(() -> FileBlockStore.open(dir.resolve("nope.img"), false, false))
                .isInstanceOf(IOException.class).hasMessageContaining("nope.img");
    }

    @Test
    void concurrentWritersAndReadersAtDifferentOffsets() throws Exception {
        try (FileBlockStore s = FileBlockStore.createSparse(dir.resolve("d.img"), 8 << 20);
             ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                jobs.add(pool.submit(() -> {
                    ByteBuffer b = ByteBuffer.allocateDirect(4096);
                    for (int round = 0; round < 200; round++) {
                        for (int i = 0; i < 4096; i++) b.put(i, (byte) (id + round));
                        s.write((long) (id * 256 + round % 256) * 4096, b.clear());
                        ByteBuffer back = ByteBuffer.allocateDirect(4096);
                        s.read((long) (id * 256 + round % 256) * 4096, back);
                        assertThat(back.get(4095)).isEqualTo((byte) (id + round));
                    }
                    return null;
                }));
            }
            for (Future<?> j : jobs) j.get();
        }
    }

    @Test
    void aPinShowsTheFileAsItIsNowAndCloseWaitsUntilItIsReleased() throws Exception {
        FileBlockStore store = FileBlockStore.createSparse(dir.resolve("pinned.img"), 1 << 20);
        store.write(4096, ByteBuffer.wrap("first".getBytes()));
        BlockStore.Pinned pin = store.pin(4096, 8704);
        assertThat(pin).as("a regular file is mapped for zero-copy sends").isNotNull();
        assertThat(pin.offset()).isEqualTo(4096);
        assertThat(pin.data().byteSize()).isEqualTo(8704);
        assertThat(new String(pinned(pin, 5))).isEqualTo("first");
        store.write(4096, ByteBuffer.wrap("later".getBytes()));
        assertThat(new String(pinned(pin, 5))).as("the mapping shares the page cache with pwrite").isEqualTo("later");
        assertThatThrownBy(() -> store.pin((1 << 20) - 256, 8704)).isInstanceOf(IOException.class);
        assertThat(store.pin(8192, 4096)).as("a page or less is cheaper to pread").isNull();
        assertThat(store.pin(8192, 1024)).isNull();
        BlockStore.Pinned pages = store.pin(16384, 8704);
        assertThat(pages).isNotNull();
        pages.release();

        // close() must not unmap under a send in flight: it returns only after the pin is released.
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                store.close();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        closer.join(200);
        assertThat(closer.isAlive()).as("close waits for the pin").isTrue();
        pinned(pin, 5);   // still mapped while close waits
        pin.release();
        closer.join(5000);
        assertThat(closer.isAlive()).isFalse();
        assertThat(store.pin(0, 8704)).as("a closed store pins nothing").isNull();
    }

    /** The first {@code n} bytes a pin shows, read through its mapping. */
    static byte[] pinned(BlockStore.Pinned pin, int n) {
        byte[] b = new byte[n];
        java.lang.foreign.MemorySegment.copy(pin.data(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0, b, 0, n);
        return b;
    }
}
