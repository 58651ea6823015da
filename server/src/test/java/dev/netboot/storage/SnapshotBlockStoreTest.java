package dev.netboot.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A snapshot opened with its origin (plain files stand in for the two LVM devices: both are read and written
 * through the same positional I/O): a range owns data exactly where it reads otherwise than the origin.
 */
class SnapshotBlockStoreTest {

    @TempDir
    Path dir;

    static byte[] pattern(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 31 + seed);
        return b;
    }

    @Test
    void aRangeIsTheSnapshotsOwnOnlyWhereItReadsOtherThanItsOrigin() throws IOException {
        byte[] image = pattern(1 << 20, 3);
        Path origin = Files.write(dir.resolve("img"), image);
        Path volume = Files.write(dir.resolve("client"), image);   // a fresh snapshot reads as its origin
        try (SnapshotBlockStore s = SnapshotBlockStore.open(volume, origin, false, false, ReadTuning.DEFAULT)) {
            assertThat(s.ownsAny(0, 1 << 20)).isFalse();
            s.write(70_000, ByteBuffer.wrap(new byte[]{1, 2, 3}));
            assertThat(s.ownsAny(65_536, 65_536)).isTrue();
            assertThat(s.ownsAny(0, 65_536)).isFalse();
            assertThat(s.ownsAny(131_072, 65_536)).isFalse();
            ByteBuffer base = ByteBuffer.allocate(65_536);
            s.readBase(65_536, base);
            assertThat(base.array()).isEqualTo(Arrays.copyOfRange(image, 65_536, 131_072));
            ByteBuffer own = ByteBuffer.allocate(3);
            s.read(70_000, own);
            assertThat(own.array()).containsExactly(1, 2, 3);
            // Writing the image's bytes back makes the range the image's again.
            s.write(70_000, ByteBuffer.wrap(Arrays.copyOfRange(image, 70_000, 70_003)));
            assertThat(s.ownsAny(65_536, 65_536)).isFalse();
        }
        assertThat(Files.readAllBytes(origin)).as("the origin is only read").isEqualTo(image);
    }

    @Test
    void anOriginOfAnotherSizeIsRefused() throws IOException {
        Path origin = Files.write(dir.resolve("img"), new byte[8192]);
        Path volume = Files.write(dir.resolve("client"), new byte[16384]);
        assertThatThrownBy(() -> SnapshotBlockStore.open(volume, origin, false, false, ReadTuning.DEFAULT))
                .hasMessageContaining("not a snapshot of it");
    }
}
