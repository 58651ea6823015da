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
}
