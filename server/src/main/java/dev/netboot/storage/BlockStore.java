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

    /** Makes every completed write durable (fdatasync). */
    void flush() throws IOException;

    @Override
    void close() throws IOException;

    default void checkBounds(long offset, int length) throws IOException {
        if (offset < 0 || length < 0 || offset > size() || length > size() - offset)
            throw new IOException("I/O of " + length + " bytes at " + offset + " is outside a store of " + size() + " bytes");
    }
}
