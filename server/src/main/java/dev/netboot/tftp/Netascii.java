package dev.netboot.tftp;

import dev.netboot.files.BytesFile;
import dev.netboot.files.ServedFile;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * RFC 1350 netascii: LF becomes CR LF and a bare CR becomes CR NUL. Converted whole in memory,
 * because retransmission needs random access to the converted bytes; netascii is only ever used
 * for small text files (menus, configs), so the size is capped.
 */
final class Netascii {

    static final long MAX_SIZE = 16L << 20;

    private Netascii() {}

    static ServedFile convert(ServedFile file) throws IOException {
        if (file.size() > MAX_SIZE) throw new IOException("file too large for netascii mode (" + file.size() + " bytes)");
        ByteBuffer raw = ByteBuffer.allocate((int) file.size());
        file.read(0, raw);
        raw.flip();
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.remaining() + raw.remaining() / 16);
        while (raw.hasRemaining()) {
            byte b = raw.get();
            if (b == '\n') out.write('\r');
            out.write(b);
            if (b == '\r') out.write(0);
        }
        return new BytesFile(out.toByteArray());
    }
}
