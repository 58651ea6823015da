package dev.netboot.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Copies a disk image and leaves the blocks that are all zeros unwritten: they stay holes in a new
 * sparse file and unallocated chunks in a thin volume, both of which read as zeros. A mostly empty
 * 8 GiB image then costs what its data costs.
 */
public final class ZeroSkippingCopy {

    /** The zero-check granularity: dm-thin's default chunk, and a multiple of every filesystem block. */
    public static final int BLOCK_BYTES = 64 << 10;
    private static final int BUFFER_BYTES = 1 << 20;

    private ZeroSkippingCopy() {}

    /** Copies a whole block store (a client's clone: its image's blocks with its own writes over them) the same way. */
    public static void copy(BlockStore from, FileChannel out, String phase, Progress progress) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect(BLOCK_BYTES);
        ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES);
        long size = from.size();
        for (long pos = 0; pos < size; ) {
            buf.clear().limit((int) Math.min(BUFFER_BYTES, size - pos));
            from.read(pos, buf);
            buf.flip();
            writeNonZeroBlocks(buf, pos, zeros, out);
            pos += buf.limit();
            progress.update(phase, pos, size);
        }
        if (out.size() < size) out.write(ByteBuffer.allocate(1), size - 1);
    }

    /** Copies the first {@code size} bytes of {@code from} to the same offsets of {@code out}; progress after every MiB. */
    public static void copy(Path from, FileChannel out, long size, String phase, Progress progress) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect(BLOCK_BYTES);
        ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES);
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ)) {
            for (long pos = 0; pos < size; ) {
                buf.clear().limit((int) Math.min(BUFFER_BYTES, size - pos));
                while (buf.hasRemaining()) {
                    if (in.read(buf, pos + buf.position()) < 0) throw new IOException(from + " ended at " + (pos + buf.position()) + " of " + size + " bytes");
                }
                buf.flip();
                writeNonZeroBlocks(buf, pos, zeros, out);
                pos += buf.limit();
                progress.update(phase, pos, size);
            }
        }
    }

    /** Writes the blocks of {@code buf} (read from offset {@code pos}) that are not all zeros to the same offsets of {@code out}. */
    private static void writeNonZeroBlocks(ByteBuffer buf, long pos, ByteBuffer zeros, FileChannel out) throws IOException {
        for (int off = 0; off < buf.limit(); off += BLOCK_BYTES) {
            ByteBuffer block = buf.slice(off, Math.min(BLOCK_BYTES, buf.limit() - off));
            if (block.mismatch(zeros.slice(0, block.remaining())) < 0) continue;
            long at = pos + off;
            while (block.hasRemaining()) at += out.write(block, at);
        }
    }
}
