package dev.netboot.images;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Where the root filesystem of a raw disk image starts: at 0 for a bare ext2/3/4 filesystem, or at
 * the first partition (MBR or GPT) that holds one. The client's initrd mounts the whole AoE disk or its
 * first partition (e{shelf}.{slot}p1), so those are the layouts an image may have.
 */
final class DiskLayout {

    private static final int EXT_MAGIC = 0xEF53;
    private static final long SECTOR = 512;

    private DiskLayout() {}

    /** Byte offset of the ext filesystem, or empty when the file is neither a filesystem nor a partitioned disk with one first. */
    static Optional<Long> rootFilesystemOffset(Path image) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            if (isExt(ch, 0)) return Optional.of(0L);
            ByteBuffer mbr = read(ch, 0, 512);
            if (mbr == null || (mbr.getShort(510) & 0xffff) != 0xAA55) return Optional.empty();
            for (int i = 0; i < 4; i++) {
                int entry = 446 + 16 * i;
                int type = mbr.get(entry + 4) & 0xff;
                long start = Integer.toUnsignedLong(mbr.getInt(entry + 8));
                if (type == 0xEE) return gpt(ch);
                if (type != 0 && start != 0) return isExt(ch, start * SECTOR) ? Optional.of(start * SECTOR) : Optional.empty();
            }
            return Optional.empty();
        }
    }

    private static Optional<Long> gpt(FileChannel ch) throws IOException {
        ByteBuffer header = read(ch, SECTOR, 92);
        if (header == null || header.getLong(0) != 0x5452415020494645L) return Optional.empty(); // "EFI PART"
        long entries = header.getLong(72);
        int entrySize = header.getInt(84);
        if (entrySize < 128 || entrySize > 4096) return Optional.empty();
        ByteBuffer first = read(ch, entries * SECTOR, entrySize);
        if (first == null) return Optional.empty();
        long start = first.getLong(32);
        return start > 0 && isExt(ch, start * SECTOR) ? Optional.of(start * SECTOR) : Optional.empty();
    }

    private static boolean isExt(FileChannel ch, long fsStart) throws IOException {
        ByteBuffer sb = read(ch, fsStart + 1024 + 56, 2);
        return sb != null && (sb.getShort(0) & 0xffff) == EXT_MAGIC;
    }

    private static ByteBuffer read(FileChannel ch, long offset, int length) throws IOException {
        if (offset + length > ch.size()) return null;
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) if (ch.read(b, offset + b.position()) < 0) return null;
        return b.flip();
    }
}
