package dev.netboot.aoe;

import java.nio.ByteBuffer;

/** Where encoded reply frames go: a socket's transmit batch, or a list in a test. */
public interface FrameSink {

    /** A buffer with at least {@code capacity} bytes remaining to encode one frame into (position 0, big-endian). */
    ByteBuffer claim(int capacity);

    /** The frame claimed last is complete: bytes [0, position) of the claimed buffer. */
    void commit(ByteBuffer frame);

    /** Drops the frame claimed last (its storage operation failed before anything was sent). */
    default void abandon(ByteBuffer frame) {}

    /** Whether a frame may end in data left where a store holds it ({@link #commitWithData}) until it is sent. */
    default boolean takesPinnedData() { return false; }

    /**
     * The frame claimed last is its bytes [0, position) followed by {@code data}, which the send copies
     * from the store's memory; the sink releases the pin once the frame is sent (or given up).
     */
    default void commitWithData(ByteBuffer header, dev.netboot.storage.BlockStore.Pinned data) {
        throw new UnsupportedOperationException("this sink takes no pinned data");
    }
}
