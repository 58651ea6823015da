package dev.netboot.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The page between a clone's durable map and its live map (see {@link CowBlockStore}): the kernel
 * boot in which the live map was last written. The live map is written without fsync, so it is
 * only as good as the page cache that holds it: trustworthy after a crash of the process (same
 * boot), not after a power loss or a reboot (another boot), when only the durable map counts.
 *
 * <pre>
 * 0   8  magic "NBLIVE01"
 * 8   2  boot id length, then the boot id in ASCII (/proc/sys/kernel/random/boot_id)
 * 4092 4 CRC32C of bytes 0..4091
 * </pre>
 */
record LiveMapStamp(String bootId) {

    static final int BYTES = 4096;
    private static final byte[] MAGIC = "NBLIVE01".getBytes(StandardCharsets.US_ASCII);
    private static final int CRC_AT = BYTES - 4;
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    /** This boot's id, or empty where the kernel does not say (then the live map is never trusted). */
    static Optional<String> currentBootId() {
        try {
            String id = Files.readString(BOOT_ID, StandardCharsets.US_ASCII).trim();
            return id.isEmpty() ? Optional.empty() : Optional.of(id);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    ByteBuffer encode() {
        byte[] id = bootId.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.BIG_ENDIAN);
        b.put(MAGIC).putShort((short) id.length).put(id);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, CRC_AT);
        b.putInt(CRC_AT, (int) crc.getValue());
        return b.clear();
    }

    /** The stamp in {@code page}, or empty if there is none (an older sidecar, a hole) or it is damaged. */
    static Optional<LiveMapStamp> decode(byte[] page) {
        if (page.length < BYTES || !Arrays.equals(page, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) return Optional.empty();
        ByteBuffer b = ByteBuffer.wrap(page).order(ByteOrder.BIG_ENDIAN);
        CRC32C crc = new CRC32C();
        crc.update(page, 0, CRC_AT);
        if (b.getInt(CRC_AT) != (int) crc.getValue()) return Optional.empty();
        int length = Short.toUnsignedInt(b.getShort(MAGIC.length));
        if (length > CRC_AT - MAGIC.length - 2) return Optional.empty();
        return Optional.of(new LiveMapStamp(new String(page, MAGIC.length + 2, length, StandardCharsets.US_ASCII)));
    }
}
