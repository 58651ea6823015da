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

    @Override
    public ByteBuffer slice(long position, int length) {
        int n = (int) Math.max(0, Math.min(length, bytes.length - position));
        return ByteBuffer.wrap(bytes, (int) Math.min(position, bytes.length), n).slice().asReadOnlyBuffer();
    }

    @Override public void close() {}
}
