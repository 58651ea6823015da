package dev.netboot.replication;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One bit per region of a disk: set while the peer lacks the region's current data (written while
 * disconnected, a failed peer write, a verify mismatch, an activity-log extent after a crash), cleared
 * once a resync has rewritten it. Plain words of 64 bits, worked on a word at a time, because a 1 TiB
 * disk at 4 KiB per bit has 2^28 bits and a resync walks all of them.
 *
 * <p>Not thread-safe: it belongs to the disk's state machine, which one thread at a time drives.
 * The persistent form is the words in little-endian order ({@link #toBytes()} / {@link #fromBytes});
 * disk size and region size are kept beside it by the owner, and a mismatch is refused on load.
 */
public final class DirtyBitmap {

    /** One page, the filesystem block of every Linux guest we boot: a 4 KiB random write dirties one bit. */
    public static final int DEFAULT_REGION = 4096;

    /** A run of adjacent dirty regions, in bytes (the last region of a disk may be short). */
    public record Extent(long offset, long length) {
        public long end() { return offset + length; }
    }

    private final long diskBytes;
    private final int regionShift;
    private final long regions;
    private final long[] words;
    private long dirty;

    public DirtyBitmap(long diskBytes, int regionSize) {
        if (diskBytes < 0) throw new IllegalArgumentException("disk of " + diskBytes + " bytes");
        if (regionSize < 512 || Integer.bitCount(regionSize) != 1) throw new IllegalArgumentException("region size " + regionSize + " is not a power of two ≥ 512");
        this.diskBytes = diskBytes;
        this.regionShift = Integer.numberOfTrailingZeros(regionSize);
        this.regions = (diskBytes + regionSize - 1) >>> regionShift;
        long n = (regions + 63) >>> 6;
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("bitmap of " + regions + " regions is too large; use larger regions");
        this.words = new long[(int) n];
    }

    public long diskBytes() { return diskBytes; }
    public int regionSize() { return 1 << regionShift; }
    public long regions() { return regions; }
    public long dirtyRegions() { return dirty; }
    public boolean isClean() { return dirty == 0; }

    public long regionOf(long offset) { return offset >>> regionShift; }

    /** Bytes a resync of the dirty regions moves (the last region may be short). */
    public long dirtyBytes() {
        long bytes = dirty << regionShift;
        if (regions > 0 && isDirty(regions - 1)) bytes -= ((long) regions << regionShift) - diskBytes;
        return bytes;
    }

    public boolean isDirty(long region) {
        checkRegion(region);
        return (words[(int) (region >>> 6)] & (1L << region)) != 0;
    }

    /** Marks every region the byte range touches (partly touched ones too: they changed). Returns how many were clean. */
    public long markBytes(long offset, long length) {
        if (length == 0) return 0;
        checkBytes(offset, length);
        return setRegions(regionOf(offset), regionOf(offset + length - 1) - regionOf(offset) + 1, true);
    }

    /** Marks {@code count} regions from {@code first}. Returns how many were clean before. */
    public long markRegions(long first, long count) { return setRegions(first, count, true); }

    /** Clears {@code count} regions from {@code first} (a resync rewrote them). Returns how many were dirty. */
    public long clearRegions(long first, long count) { return setRegions(first, count, false); }

    public void markAll() { setRegions(0, regions, true); }

    private long setRegions(long first, long count, boolean value) {
        if (count == 0) return 0;
        checkRegion(first);
        if (count < 0 || count > regions - first) throw new IndexOutOfBoundsException(count + " regions from " + first + " of " + regions);
        long last = first + count - 1;
        int fw = (int) (first >>> 6), lw = (int) (last >>> 6);
        long changed = 0;
        for (int w = fw; w <= lw; w++) {
            long mask = -1L;
            if (w == fw) mask &= -1L << first;          // shifts use the low 6 bits: the bit within the word
            if (w == lw) mask &= -1L >>> (63 - (last & 63));
            long before = words[w];
            long after = value ? before | mask : before & ~mask;
            changed += Long.bitCount(before ^ after);
            words[w] = after;
        }
        dirty += value ? changed : -changed;
        return changed;
    }

    /** The first dirty region at or after {@code from}, or -1. */
    public long nextDirty(long from) { return next(from, false); }

    /** The first clean region at or after {@code from}, or {@link #regions()} if all the rest is dirty. */
    public long nextClean(long from) {
        long r = next(from, true);
        return r < 0 ? regions : r;
    }

    private long next(long from, boolean clean) {
        if (from >= regions) return -1;
        int w = (int) (from >>> 6);
        long word = (clean ? ~words[w] : words[w]) & (-1L << from);
        while (true) {
            if (word != 0) {
                long r = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                return r < regions ? r : -1;
            }
            if (++w >= words.length) return -1;
            word = clean ? ~words[w] : words[w];
        }
    }

    /** The dirty runs from byte {@code offset} on, adjacent regions merged, each at most {@code maxLength} bytes. */
    public List<Extent> extents(long offset, long maxLength, int maxCount) {
        List<Extent> out = new ArrayList<>();
        long r = nextDirty(regionOf(offset));
        while (r >= 0 && out.size() < maxCount) {
            long end = nextClean(r);
            long start = r << regionShift;
            long stop = Math.min(end << regionShift, diskBytes);
            for (long s = start; s < stop && out.size() < maxCount; ) {
                long n = Math.min(maxLength, stop - s);   // not s += maxLength: "no limit" is Long.MAX_VALUE
                out.add(new Extent(s, n));
                s += n;
            }
            r = end >= regions ? -1 : nextDirty(end);
        }
        return out;
    }

    /** Every dirty run, merged, unsplit. */
    public List<Extent> extents() { return extents(0, Long.MAX_VALUE, Integer.MAX_VALUE); }

    /** Sets every bit set in {@code wordsLe} (little-endian words from region {@code firstRegion}, a multiple of 64). */
    public void or(long firstRegion, ByteBuffer wordsLe) {
        if (firstRegion % 64 != 0 || wordsLe.remaining() % 8 != 0) throw new IllegalArgumentException("bitmap words must start at a multiple of 64 regions and be whole words");
        ByteBuffer in = wordsLe.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int w = (int) (firstRegion >>> 6);
        if (w + in.remaining() / 8 > words.length) throw new IllegalArgumentException("bitmap words beyond the disk's " + regions + " regions");
        while (in.hasRemaining()) {
            long add = in.getLong();
            if (w == words.length - 1) add &= lastWordMask();
            dirty += Long.bitCount(add & ~words[w]);
            words[w++] |= add;
        }
    }

    /** {@code count} words from word {@code firstWord}, little-endian, for a BitmapChunk or a partial persist. */
    public ByteBuffer words(int firstWord, int count) {
        ByteBuffer out = ByteBuffer.allocate(count * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) out.putLong(words[firstWord + i]);
        return out.flip();
    }

    public int wordCount() { return words.length; }

    public ByteBuffer toBytes() { return words(0, words.length); }

    public static DirtyBitmap fromBytes(long diskBytes, int regionSize, ByteBuffer wordsLe) {
        DirtyBitmap b = new DirtyBitmap(diskBytes, regionSize);
        if (wordsLe.remaining() != b.words.length * 8L)
            throw new IllegalArgumentException("stored bitmap has " + wordsLe.remaining() + " bytes, a disk of " + diskBytes + " bytes at " + regionSize + " per bit needs " + b.words.length * 8L);
        ByteBuffer in = wordsLe.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < b.words.length; i++) {
            long w = in.getLong();
            if (i == b.words.length - 1 && (w & ~b.lastWordMask()) != 0) throw new IllegalArgumentException("stored bitmap has bits past the end of the disk");
            b.words[i] = w;
            b.dirty += Long.bitCount(w);
        }
        return b;
    }

    private long lastWordMask() {
        int used = (int) (regions & 63);
        return used == 0 ? -1L : (1L << used) - 1;
    }

    private void checkRegion(long region) {
        if (region < 0 || region >= regions) throw new IndexOutOfBoundsException("region " + region + " of " + regions);
    }

    private void checkBytes(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > diskBytes || offset + length < 0)
            throw new IndexOutOfBoundsException("bytes " + offset + "+" + length + " of a " + diskBytes + "-byte disk");
    }
}
