package dev.netboot.replication;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The word-wise bitmap against a one-bit-at-a-time model (java.util.BitSet, set bit by bit). */
class DirtyBitmapProperties {

    sealed interface Op {
        record Mark(long offset, long length) implements Op {}
        record Clear(long first, long count) implements Op {}
    }

    @Property(tries = 1500)
    void behavesLikeTheModel(@ForAll @IntRange(min = 0, max = 3000) int regionsish, @ForAll("regionSizes") int regionSize,
                             @ForAll("opSeeds") List<long[]> seeds) {
        long disk = (long) regionsish * regionSize + (regionsish % 3 == 0 ? 0 : regionSize / 3);   // sometimes a short last region
        DirtyBitmap bitmap = new DirtyBitmap(disk, regionSize);
        BitSet model = new BitSet();
        long regions = bitmap.regions();
        for (long[] seed : seeds) {
            if (regions == 0) break;
            if (seed[0] % 3 != 0) {
                long offset = Math.floorMod(seed[1], disk);
                long length = Math.floorMod(seed[2], Math.min(disk - offset, 300_000L) + 1);
                long before = model.cardinality();
                if (length > 0) for (long b = offset / regionSize; b <= (offset + length - 1) / regionSize; b++) model.set((int) b);
                assertThat(bitmap.markBytes(offset, length)).isEqualTo(model.cardinality() - before);
            } else {
                long first = Math.floorMod(seed[1], regions);
                long count = Math.floorMod(seed[2], regions - first + 1);
                long before = model.cardinality();
                model.clear((int) first, (int) (first + count));
                assertThat(bitmap.clearRegions(first, count)).isEqualTo(before - model.cardinality());
            }
            assertThat(bitmap.dirtyRegions()).isEqualTo(model.cardinality());
        }
        for (long r = 0; r < regions; r++) assertThat(bitmap.isDirty(r)).as("region %d", r).isEqualTo(model.get((int) r));
        assertThat(bitmap.extents()).isEqualTo(runs(model, regionSize, disk));
        long bytes = 0;
        for (DirtyBitmap.Extent e : bitmap.extents()) bytes += e.length();
        assertThat(bitmap.dirtyBytes()).isEqualTo(bytes);

        DirtyBitmap reloaded = DirtyBitmap.fromBytes(disk, regionSize, bitmap.toBytes());
        assertThat(reloaded.extents()).isEqualTo(bitmap.extents());
        assertThat(reloaded.dirtyRegions()).isEqualTo(bitmap.dirtyRegions());

        // Merging a peer's bitmap (BitmapChunks of 8 words) into a clean one gives the same set.
        DirtyBitmap merged = new DirtyBitmap(disk, regionSize);
        for (int w = 0; w < bitmap.wordCount(); w += 8) merged.or(w * 64L, bitmap.words(w, Math.min(8, bitmap.wordCount() - w)));
        assertThat(merged.extents()).isEqualTo(bitmap.extents());
        assertThat(merged.dirtyRegions()).isEqualTo(bitmap.dirtyRegions());
    }

    @Property(tries = 500)
    void extentsAreSplitAtTheMaximumAndCoverTheSameBytes(@ForAll("opSeeds") List<long[]> seeds, @ForAll @IntRange(min = 1, max = 40) int maxRegions) {
        long disk = 1_000_000;
        DirtyBitmap bitmap = new DirtyBitmap(disk, 4096);
        for (long[] s : seeds) {
            long offset = Math.floorMod(s[1], disk);
            bitmap.markBytes(offset, Math.floorMod(s[2], Math.min(disk - offset, 90_000) + 1));
        }
        long max = maxRegions * 4096L;
        List<DirtyBitmap.Extent> split = bitmap.extents(0, max, Integer.MAX_VALUE);
        long covered = 0;
        for (DirtyBitmap.Extent e : split) {
            assertThat(e.length()).isBetween(1L, max);
            covered += e.length();
        }
        assertThat(covered).isEqualTo(bitmap.dirtyBytes());
    }

    static List<DirtyBitmap.Extent> runs(BitSet model, int regionSize, long disk) {
        List<DirtyBitmap.Extent> out = new ArrayList<>();
        for (int r = model.nextSetBit(0); r >= 0; ) {
            int end = model.nextClearBit(r);
            long start = (long) r * regionSize;
            out.add(new DirtyBitmap.Extent(start, Math.min((long) end * regionSize, disk) - start));
            r = model.nextSetBit(end);
        }
        return out;
    }

    @Provide
    Arbitrary<Integer> regionSizes() { return Arbitraries.of(512, 4096, 65536); }

    @Provide
    Arbitrary<List<long[]>> opSeeds() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.longs(), Arbitraries.longs())
                .as((a, b, c) -> new long[] {a, b, c}).list().ofMaxSize(30);
    }
}
