package dev.netboot.images;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The ext2/3/4 filesystems of a raw disk image and where they start: the whole file when it is a bare
 * filesystem, else every partition of its MBR (primary and logical) or GPT that holds one. Which of them
 * is the root is the importer's question (it looks inside); the client's initrd finds the same one
 * again on the AoE disk (e{shelf}.{slot}pN) by looking for the image's init.
 */
final class DiskLayout {

    /** An ext filesystem in a disk image: partition {@code number} (0 = the whole disk) at byte {@code offset}. */
    record ExtFilesystem(int number, long offset) {
        /** How debugfs and the initrd name it: "the whole disk" or "partition N". */
        String describe() { return number == 0 ? "the whole disk" : "partition " + number; }
    }

    private static final int EXT_MAGIC = 0xEF53;
    private static final long SECTOR = 512;
    private static final int GPT_MAX_ENTRIES = 128;
    /** A chain of extended boot records is a linked list on disk: a loop in a damaged one must end. */
    private static final int MAX_LOGICAL = 64;

    private DiskLayout() {}

    /** Every ext filesystem of the image, in partition order; empty when it has none (or is no disk at all). */
    static List<ExtFilesystem> extFilesystems(Path image) throws IOException {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            if (isExt(ch, 0)) return List.of(new ExtFilesystem(0, 0));
            ByteBuffer mbr = read(ch, 0, 512);
            if (mbr == null || (mbr.getShort(510) & 0xffff) != 0xAA55) return List.of();
            List<ExtFilesystem> found = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int entry = 446 + 16 * i;
                int type = mbr.get(entry + 4) & 0xff;
                long start = Integer.toUnsignedLong(mbr.getInt(entry + 8));
                if (type == 0xEE) return gpt(ch);               // protective MBR
                if (type == 0 || start == 0) continue;
                if (isExtended(type)) logical(ch, start, found);
                else if (isExt(ch, start * SECTOR)) found.add(new ExtFilesystem(i + 1, start * SECTOR));
            }
            found.sort((a, b) -> Integer.compare(a.number(), b.number()));
            return List.copyOf(found);
        }
    }

    private static boolean isExtended(int type) {
        return type == 0x05 || type == 0x0F || type == 0x85;
    }

    /** Logical partitions (numbered from 5, as Linux does): a chain of EBRs inside the extended partition. */
    private static void logical(FileChannel ch, long extendedStart, List<ExtFilesystem> found) throws IOException {
        long ebr = extendedStart;
        for (int number = 5; number < 5 + MAX_LOGICAL; number++) {
            ByteBuffer b = read(ch, ebr * SECTOR, 512);
            if (b == null || (b.getShort(510) & 0xffff) != 0xAA55) return;
            int type = b.get(446 + 4) & 0xff;
            long start = ebr + Integer.toUnsignedLong(b.getInt(446 + 8));       // relative to this EBR
            if (type != 0 && isExt(ch, start * SECTOR)) found.add(new ExtFilesystem(number, start * SECTOR));
            long next = Integer.toUnsignedLong(b.getInt(446 + 16 + 8));         // relative to the extended partition
            if ((b.get(446 + 16 + 4) & 0xff) == 0 || next == 0) return;
            ebr = extendedStart + next;
        }
    }

    private static List<ExtFilesystem> gpt(FileChannel ch) throws IOException {
        ByteBuffer header = read(ch, SECTOR, 92);
        if (header == null || header.getLong(0) != 0x5452415020494645L) return List.of(); // "EFI PART"
        long entries = header.getLong(72);
        int count = header.getInt(80);
        int entrySize = header.getInt(84);
        if (entrySize < 128 || entrySize > 4096 || count < 0) return List.of();
        List<ExtFilesystem> found = new ArrayList<>();
        for (int i = 0; i < Math.min(count, GPT_MAX_ENTRIES); i++) {
            ByteBuffer e = read(ch, entries * SECTOR + (long) i * entrySize, entrySize);
            if (e == null) break;
            boolean unused = e.getLong(0) == 0 && e.getLong(8) == 0;               // type GUID all zero
            long start = e.getLong(32);
            if (!unused && start > 0 && isExt(ch, start * SECTOR)) found.add(new ExtFilesystem(i + 1, start * SECTOR));
        }
        return List.copyOf(found);
    }

    private static boolean isExt(FileChannel ch, long fsStart) throws IOException {
        ByteBuffer sb = read(ch, fsStart + 1024 + 56, 2);
        return sb != null && (sb.getShort(0) & 0xffff) == EXT_MAGIC;
    }

    private static ByteBuffer read(FileChannel ch, long offset, int length) throws IOException {
        if (offset < 0 || offset + length > ch.size()) return null;
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) if (ch.read(b, offset + b.position()) < 0) return null;
        return b.flip();
    }
}
