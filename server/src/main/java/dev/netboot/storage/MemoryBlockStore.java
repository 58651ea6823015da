package dev.netboot.storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/** A store in a heap array: for tests and for models of what a disk should contain. */
public final class MemoryBlockStore implements BlockStore {

    private final byte[] bytes;
    private volatile boolean failing;
    private final java.util.concurrent.atomic.AtomicLong writeCalls = new java.util.concurrent.atomic.AtomicLong();

    public MemoryBlockStore(int size) {
        this.bytes = new byte[size];
    }

    /** Makes every following operation fail, as a dying disk would. */
    public void failing(boolean fail) { this.failing = fail; }

    /** How many times {@link #write} was called: a test of how writes are combined reads it. */
    public long writeCalls() { return writeCalls.get(); }

    public byte[] snapshot() {
        synchronized (bytes) {
            return bytes.clone();
        }
    }

    @Override
    public long size() { return bytes.length; }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (failing) throw new IOException("simulated read error");
        checkBounds(offset, dst.remaining());
        synchronized (bytes) {
            dst.put(bytes, (int) offset, dst.remaining());
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (failing) throw new IOException("simulated write error");
        checkBounds(offset, src.remaining());
        writeCalls.incrementAndGet();
        synchronized (bytes) {
            src.get(bytes, (int) offset, src.remaining());
        }
    }

    @Override
    public void flush() throws IOException {
        if (failing) throw new IOException("simulated flush error");
    }

    @Override
    public void close() {}
}
