package dev.netboot.tftp;

import dev.netboot.files.ServedFile;

import java.nio.ByteBuffer;

/** Test content with deterministic, position-dependent bytes, so a misplaced block shows up. */
record InMemoryFile(byte[] bytes) implements ServedFile {

    static InMemoryFile ofSize(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 31 + (i >>> 8));
        return new InMemoryFile(b);
    }

    @Override public long size() { return bytes.length; }

    @Override
    public int read(long position, ByteBuffer dst) {
        int n = (int) Math.max(0, Math.min(dst.remaining(), bytes.length - position));
        dst.put(bytes, (int) position, n);
        return n;
    }

    @Override public void close() {}
}
