package dev.netboot.storage;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Which chunks of a clone live in the overlay: one bit per chunk, set once and never cleared (a
 * chunk never goes back to the base). Sans-I/O: the store decides when pages are written.
 *
 * <p>On disk the bits are pages of 4 KiB, chunk {@code c} at byte {@code c / 8}, bit {@code c % 8}
 * (little-endian longs). Pages, because the store rewrites only the pages that changed since the
 * last flush, and because bits only ever go from 0 to 1 a torn page write is harmless: any mix of
 * the old and the new page only claims chunks whose data was durable before the page was written.
 *
 * <p>Reads of a bit take no lock (volatile). Setting a bit and taking the dirty pages are
 * synchronized with each other so that a flush that starts after a bit became visible always
 * persists it: otherwise a writer could see a chunk allocated, write into it, and have its own
 * flush miss the page because the allocating thread had not marked it dirty yet.
 */
final class AllocationMap {

    static final int PAGE_BYTES = 4096;
    static final int CHUNKS_PER_PAGE = PAGE_BYTES * 8;
    private static final int WORDS_PER_PAGE = PAGE_BYTES / 8;
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    private final long chunks;
    private final long[] words;
    private final BitSet dirtyPages = new BitSet();
    private long allocated;

    AllocationMap(long chunks) {
        if (chunks <= 0 || pagesFor(chunks) > Integer.MAX_VALUE / WORDS_PER_PAGE) throw new IllegalArgumentException("unsupported chunk count " + chunks);
        this.chunks = chunks;
        this.words = new long[pagesFor(chunks) * WORDS_PER_PAGE];
    }

    static int pagesFor(long chunks) {
        return (int) Math.min(Integer.MAX_VALUE, (chunks + CHUNKS_PER_PAGE - 1) / CHUNKS_PER_PAGE);
    }

    /** Reads the persisted pages; bits past the last chunk are ignored. Nothing is dirty afterwards. */
    static AllocationMap load(long chunks, ByteBuffer pages) {
        AllocationMap m = new AllocationMap(chunks);
        ByteBuffer b = pages.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < m.words.length; i++) m.words[i] = b.getLong();
        int lastWord = (int) ((chunks - 1) >>> 6);
        int used = (int) (chunks - ((long) lastWord << 6));
        if (used < 64) m.words[lastWord] &= (1L << used) - 1;
        for (int i = lastWord + 1; i < m.words.length; i++) m.words[i] = 0;
        for (long w : m.words) m.allocated += Long.bitCount(w);
        return m;
    }

    /**
     * ORs in the bits of another copy of the map (the live map, see {@link CowBlockStore}) and marks
     * the pages that gained bits dirty, so the next flush makes them durable. Bits past the last
     * chunk are ignored.
     */
    synchronized void merge(ByteBuffer pages) {
        AllocationMap other = load(chunks, pages);
        for (int i = 0; i < words.length; i++) {
            long gained = other.words[i] & ~words[i];
            if (gained == 0) continue;
            WORD.getAndBitwiseOrRelease(words, i, gained);
            allocated += Long.bitCount(gained);
            dirtyPages.set(i / WORDS_PER_PAGE);
        }
    }

    /** All pages as they are now, for a full copy of the map. */
    synchronized ByteBuffer allPages() {
        ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < words.length; i++) b.putLong((long) WORD.getAcquire(words, i));
        return b.flip();
    }

    /** The word (64 chunks) that holds {@code chunk}, at byte {@link #wordOffset} of the map. */
    long wordWith(long chunk) {
        return (long) WORD.getAcquire(words, (int) (chunk >>> 6)) | (1L << chunk);
    }

    static long wordOffset(long chunk) { return (chunk >>> 6) * 8; }

    long chunks() { return chunks; }
    int pages() { return words.length / WORDS_PER_PAGE; }
    long byteSize() { return (long) pages() * PAGE_BYTES; }

    boolean isAllocated(long chunk) {
        long w = (long) WORD.getAcquire(words, (int) (chunk >>> 6));
        return (w & (1L << chunk)) != 0;
    }

    /**
     * Number of consecutive chunks from {@code chunk} (at most {@code max}) whose state is {@code state},
     * which the caller read for {@code chunk} itself. Passed in rather than read again: a chunk can
     * become allocated in between, and a run counted as unallocated must not then be read from the
     * overlay, whose other chunks in it are holes.
     */
    int run(long chunk, int max, boolean state) {
        int n = 1;
        while (n < max && chunk + n < chunks && isAllocated(chunk + n) == state) n++;
        return n;
    }

    /** Call only once the chunk's data is in the overlay: from now on reads go there. True if it was not allocated. */
    synchronized boolean markAllocated(long chunk) {
        if (chunk < 0 || chunk >= chunks) throw new IndexOutOfBoundsException(chunk);
        int i = (int) (chunk >>> 6);
        long old = (long) WORD.getAndBitwiseOrRelease(words, i, 1L << chunk);
        if ((old & (1L << chunk)) != 0) return false;
        dirtyPages.set(i / WORDS_PER_PAGE);
        allocated++;
        return true;
    }

    synchronized long allocatedChunks() { return allocated; }

    synchronized boolean complete() { return allocated == chunks; }

    /** A page as it should be on disk, and where. */
    record Page(int index, ByteBuffer bytes) {
        long offsetInMap() { return (long) index * PAGE_BYTES; }
    }

    /**
     * The pages changed since the last call, as they are now, and marks them clean. Every bit in
     * them was set after its chunk's data was written, so an fdatasync of the overlay started after
     * this call makes all of them safe to persist.
     */
    synchronized List<Page> takeDirty() {
        List<Page> out = new ArrayList<>();
        for (int p = dirtyPages.nextSetBit(0); p >= 0; p = dirtyPages.nextSetBit(p + 1)) out.add(page(p));
        dirtyPages.clear();
        return out;
    }

    /** Puts pages back after a failed write, so the next flush retries them. */
    synchronized void redirty(List<Page> pages) {
        for (Page p : pages) dirtyPages.set(p.index());
    }

    /**
     * The page holding {@code chunk}, as it would be with the chunk allocated, without changing the
     * map: for synchronous writes, which persist the bit before any reader may see it.
     */
    synchronized Page pageWith(long chunk) {
        Page p = page((int) (chunk / CHUNKS_PER_PAGE));
        int byteInPage = (int) ((chunk % CHUNKS_PER_PAGE) >>> 3);
        p.bytes().put(byteInPage, (byte) (p.bytes().get(byteInPage) | (1 << (chunk & 7))));
        return p;
    }

    private Page page(int p) {
        ByteBuffer b = ByteBuffer.allocateDirect(PAGE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int w = 0; w < WORDS_PER_PAGE; w++) b.putLong((long) WORD.getAcquire(words, p * WORDS_PER_PAGE + w));
        return new Page(p, b.flip());
    }
}
