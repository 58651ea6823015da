package dev.netboot.aoe;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The 512-byte IDENTIFY DEVICE block. The Linux aoe driver ({@code ataid_complete}) ORs words 83
 * and 86 and takes bit 10 as LBA48, then reads the capacity from words 100-103; without it, from
 * words 60-61. We always claim LBA48 (so every capacity works) and FLUSH CACHE (EXT) support, and
 * a write cache, because writes are acknowledged from the page cache unless the target syncs.
 */
public final class IdentifyData {

    private IdentifyData() {}

    public static ByteBuffer build(long sectors, String serial, String firmware, String model) {
        ByteBuffer id = ByteBuffer.allocate(Ata.SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        word(id, 0, 0x0040);                 // fixed (non-removable) device
        ataString(id, 10, 20, serial);
        ataString(id, 23, 8, firmware);
        ataString(id, 27, 40, model);
        word(id, 47, 0x8000);                // READ/WRITE MULTIPLE: none
        word(id, 49, 0x0300);                // LBA and DMA supported
        word(id, 50, 0x4000);
        word(id, 53, 0x0006);                // words 64-70 and 88 valid
        long lba28 = Math.min(sectors, Ata.LBA28_LIMIT - 1);
        word(id, 60, (int) (lba28 & 0xFFFF));
        word(id, 61, (int) (lba28 >>> 16));
        word(id, 80, 0x00F0);                // ATA-4 .. ATA-7
        word(id, 82, 0x4020);                // write cache supported
        word(id, 83, 0x7400);                // valid, FLUSH CACHE EXT, FLUSH CACHE, LBA48
        word(id, 84, 0x4000);
        word(id, 85, 0x4020);                // write cache enabled
        word(id, 86, 0x3400);                // FLUSH CACHE EXT, FLUSH CACHE, LBA48 enabled
        word(id, 87, 0x4000);
        word(id, 93, 0x400B);
        for (int i = 0; i < 4; i++) word(id, 100 + i, (int) (sectors >>> (16 * i)) & 0xFFFF);
        return id.clear().order(ByteOrder.BIG_ENDIAN);
    }

    private static void word(ByteBuffer id, int word, int value) {
        id.putShort(word * 2, (short) value);
    }

    /** ATA strings: space-padded ASCII with the two bytes of each word swapped. */
    private static void ataString(ByteBuffer id, int word, int length, String text) {
        byte[] ascii = text.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < length; i++) {
            byte b = i < ascii.length ? ascii[i] : (byte) ' ';
            id.put(word * 2 + (i ^ 1), b);
        }
    }

    /** Reads back an ATA string (for tests and for showing what a peer reports). */
    public static String readString(ByteBuffer id, int word, int length) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) out[i] = id.get(id.position() + word * 2 + (i ^ 1));
        return new String(out, StandardCharsets.US_ASCII).trim();
    }

    public static int readWord(ByteBuffer id, int word) {
        int p = id.position() + word * 2;
        return (id.get(p) & 0xFF) | (id.get(p + 1) & 0xFF) << 8;
    }

    public static long readLba48Capacity(ByteBuffer id) {
        long v = 0;
        for (int i = 3; i >= 0; i--) v = v << 16 | readWord(id, 100 + i);
        return v;
    }
}
