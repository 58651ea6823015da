package dev.netboot.files;

import java.nio.ByteBuffer;

/** Content held in memory: generated files (menus, netascii conversions) served like any other. */
public record BytesFile(byte[] bytes) implements ServedFile {

    @Override public long size() { return bytes.length; }

    @Override
    public int read(long position, ByteBuffer dst) {
        int n = (int) Math.max(0, Math.min(dst.remaining(), bytes.length - position));
        dst.put(bytes, (int) position, n);
        return n;
    }

    @Override public void close() {}
}
