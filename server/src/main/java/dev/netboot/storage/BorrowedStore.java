package dev.netboot.storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A store lent by its owner to someone who will close it: {@link #close()} only ends the loan. The
 * replication owns a replicated disk's store for the life of the process (it writes the peer's data into
 * it as standby), and lends it to the AoE target while this node is primary; the target closes its stores
 * when it stops, and a second open of the same file would fail on its lock.
 */
public final class BorrowedStore implements BlockStore {

    private final BlockStore owner;

    public BorrowedStore(BlockStore owner) { this.owner = owner; }

    @Override public long size() { return owner.size(); }
    @Override public void read(long offset, ByteBuffer dst) throws IOException { owner.read(offset, dst); }
    @Override public void write(long offset, ByteBuffer src) throws IOException { owner.write(offset, src); }
    @Override public Pinned pin(long offset, int length) throws IOException { return owner.pin(offset, length); }
    @Override public void flush() throws IOException { owner.flush(); }

    /** Ends the loan; the owner's store stays open. */
    @Override public void close() { }
}
