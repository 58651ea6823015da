package dev.netboot.boot.installer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The version of a Linux x86 kernel image (bzImage), read from its boot protocol header: the
 * {@code kernel_version} field (offset 0x20E) points, less 0x200, at "6.1.0-50-amd64 (debian-kernel@...) #1 ...".
 * This names the {@code lib/modules/<version>} an installer's AoE module must come from.
 */
public final class KernelVersion {

    private KernelVersion() {}

    public static String of(Path bzImage) throws IOException {
        byte[] head;
        try (var in = Files.newInputStream(bzImage)) {
            head = in.readNBytes(64 * 1024);
        }
        return of(head, bzImage.toString());
    }

    static String of(byte[] head, String what) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        if (head.length < 0x210 || b.getInt(0x202) != 0x53726448) { // "HdrS"
            throw new IOException(what + " is not a Linux x86 kernel image (no boot protocol header)");
        }
        int pointer = Short.toUnsignedInt(b.getShort(0x20E));
        int at = pointer + 0x200;
        if (pointer == 0 || at >= head.length) throw new IOException(what + ": its header names no kernel version");
        int end = at;
        while (end < head.length && head[end] != 0 && head[end] != ' ') end++;
        String version = new String(head, at, end - at, StandardCharsets.US_ASCII);
        if (version.isEmpty() || !version.matches("[A-Za-z0-9._+~-]+")) throw new IOException(what + ": unreadable kernel version '" + version + "'");
        return version;
    }
}
