package dev.netboot.tftp;

import dev.netboot.files.BytesFile;

/** Test content with deterministic, position-dependent bytes, so a misplaced block shows up. */
final class InMemoryFile {
    private InMemoryFile() {}

    static BytesFile ofSize(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 31 + (i >>> 8));
        return new BytesFile(b);
    }
}
