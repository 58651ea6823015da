package dev.netboot.files;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Two pieces of content served as one: a stock initrd (a large mapped file) with a small generated
 * archive after it, which Linux unpacks in turn. Nothing is copied or written to disk.
 */
public final class ConcatenatedFile implements ServedFile {

    private final ServedFile first;
    private final ServedFile second;

    public ConcatenatedFile(ServedFile first, ServedFile second) {
        this.first = first;
        this.second = second;
    }

    @Override public long size() { return first.size() + second.size(); }

    /** A view when the range lies within one piece (all but one TFTP block), else a copy of both parts. */
    @Override
    public ByteBuffer slice(long position, int length) throws IOException {
        if (position + length <= first.size()) return first.slice(position, length);
        if (position >= first.size()) return second.slice(position - first.size(), length);
        return ServedFile.super.slice(position, length);
    }

    @Override
    public int read(long position, ByteBuffer dst) throws IOException {
        int total = 0;
        if (position < first.size()) {
            int n = first.read(position, dst);
            total += n;
            position += n;
            if (position < first.size()) return total;
        }
        if (dst.hasRemaining()) total += second.read(position - first.size(), dst);
        return total;
    }

    @Override
    public void close() {
        try {
            first.close();
        } finally {
            second.close();
        }
    }
}
