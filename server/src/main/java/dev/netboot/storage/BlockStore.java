package dev.netboot.storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A fixed-size array of bytes with positional I/O. Implementations are safe for concurrent use:
 * reads and writes at different offsets proceed in parallel (pread/pwrite, no shared position).
 */
public interface BlockStore extends AutoCloseable {

    long size();

    /** Fills {@code dst} completely from {@code offset}; past-the-end reads are a caller bug and throw. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Writes all of {@code src} at {@code offset}; a write past the end throws and writes nothing. */
    void write(long offset, ByteBuffer src) throws IOException;

    /**
     * Bytes [offset, offset + length) where they lie in memory (a read-only mapping of the file), for a
     * network send to copy straight from: one copy instead of two. Null when this store cannot (then
     * {@link #read} it). The store stays open until the pin is {@linkplain Pinned#release() released}.
     */
    default Pinned pin(long offset, int length) throws IOException { return null; }

    /**
     * True when the store knows without reading that [offset, offset + length) holds no data (a hole of a sparse
     * file: it reads as zeros); false when it holds data or the store cannot tell (then read it). A full sync of a
     * mostly sparse disk asks this for every region instead of reading megabytes of zeros on both sides.
     */
    default boolean isHole(long offset, int length) throws IOException { return false; }

    /** Data of a store held in place for a send; {@link #release()} exactly once, after the send. */
    interface Pinned {
        java.lang.foreign.MemorySegment data();

        /** Where the data starts in its store: the fallback {@link #read} when the kernel cannot copy from the mapping. */
        long offset();

        BlockStore store();

        void release();
    }

    /** Makes every completed write durable (fdatasync). */
    void flush() throws IOException;

    @Override
    void close() throws IOException;

    default void checkBounds(long offset, int length) throws IOException {
        if (offset < 0 || length < 0 || offset > size() || length > size() - offset)
            throw new IOException("I/O of " + length + " bytes at " + offset + " is outside a store of " + size() + " bytes");
    }
}
