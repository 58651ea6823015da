package dev.netboot.replication;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DirtyBitmapTest {

    @Test
    void aWriteAcrossARegionBoundaryDirtiesBothAndAdjacentRegionsMerge() {
        DirtyBitmap b = new DirtyBitmap(1 << 20, 4096);
        assertThat(b.markBytes(4095, 2)).isEqualTo(2);
        assertThat(b.markBytes(8192, 4096)).isEqualTo(1);
        assertThat(b.markBytes(8192, 1)).isZero();
        assertThat(b.extents()).containsExactly(new DirtyBitmap.Extent(0, 3 * 4096));
    }

    @Test
    void theShortLastRegionCountsOnlyItsBytes() {
        DirtyBitmap b = new DirtyBitmap(4096 * 2 + 100, 4096);
        assertThat(b.regions()).isEqualTo(3);
        b.markAll();
        assertThat(b.dirtyBytes()).isEqualTo(4096 * 2 + 100);
        assertThat(b.extents()).containsExactly(new DirtyBitmap.Extent(0, 4096 * 2 + 100));
    }

    @Test
    void aStoredBitmapOfTheWrongSizeOrWithBitsPastTheEndIsRefused() {
        DirtyBitmap b = new DirtyBitmap(100 * 4096, 4096);
        assertThatThrownBy(() -> DirtyBitmap.fromBytes(200 * 4096, 4096, b.toBytes())).hasMessageContaining("needs");
        ByteBuffer bad = b.toBytes();
        bad.put(15, (byte) 0x80);   // bit 127 of a 100-region disk
        assertThatThrownBy(() -> DirtyBitmap.fromBytes(100 * 4096, 4096, bad)).hasMessageContaining("past the end");
    }

    @Test
    void wordBoundariesAreHandledWordWise() {
        DirtyBitmap b = new DirtyBitmap(1000L * 4096, 4096);
        b.markRegions(60, 200);
        assertThat(b.dirtyRegions()).isEqualTo(200);
        assertThat(b.nextDirty(0)).isEqualTo(60);
        assertThat(b.nextClean(60)).isEqualTo(260);
        b.clearRegions(64, 64);
        assertThat(b.extents()).isEqualTo(List.of(new DirtyBitmap.Extent(60 * 4096L, 4 * 4096L), new DirtyBitmap.Extent(128 * 4096L, 132 * 4096L)));
    }
}
