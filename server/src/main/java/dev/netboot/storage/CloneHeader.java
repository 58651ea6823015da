package dev.netboot.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * The first 4 KiB of a clone's sidecar: what the clone was made from. Written once when the clone
 * is created and never rewritten, so it cannot be torn by a crash later; the CRC catches a sidecar
 * that was truncated or overwritten by something else.
 *
 * <pre>
 * 0   8  magic "NBCLONE1"
 * 8   4  chunk size in bytes
 * 12  8  disk size (= base size)
 * 20  8  base size      ┐
 * 28  8  base mtime, ns │ BaseIdentity: any change means the base is no longer what the
 * 36  8  base inode     │ overlay was made against
 * 44  8  base device    ┘
 * 52  2  base path length, then the absolute base path in UTF-8
 * 4092 4 CRC32C of bytes 0..4091
 * </pre>
 */
record CloneHeader(int chunkSize, long diskSize, Path base, BaseIdentity baseIdentity) {

    static final int BYTES = 4096;
    private static final byte[] MAGIC = "NBCLONE1".getBytes(StandardCharsets.US_ASCII);
    private static final int PATH_AT = 54, CRC_AT = BYTES - 4;

    CloneHeader {
        if (chunkSize <= 0 || Integer.bitCount(chunkSize) != 1) throw new IllegalArgumentException("chunk size must be a power of two: " + chunkSize);
        if (diskSize <= 0) throw new IllegalArgumentException("disk size must be positive: " + diskSize);
        if (!base.isAbsolute()) throw new IllegalArgumentException("base path must be absolute: " + base);
    }

    long chunks() { return (diskSize + chunkSize - 1) / chunkSize; }

    /** What identifies the base file's content without reading it: if any of these change, so may the data. */
    record BaseIdentity(long size, long mtimeNanos, long inode, long device) {

        static BaseIdentity of(Path base) throws IOException {
            Map<String, Object> a = Files.readAttributes(base, "unix:size,lastModifiedTime,ino,dev");
            return new BaseIdentity((Long) a.get("size"), ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
                    (Long) a.get("ino"), (Long) a.get("dev"));
        }

        /** Human-readable differences, empty when equal. */
        List<String> differencesTo(BaseIdentity now) {
            List<String> d = new ArrayList<>();
            if (size != now.size) d.add("size " + size + " → " + now.size);
            if (mtimeNanos != now.mtimeNanos) d.add("modified at " + FileTime.from(mtimeNanos, TimeUnit.NANOSECONDS) + " → " + FileTime.from(now.mtimeNanos, TimeUnit.NANOSECONDS));
            if (inode != now.inode || device != now.device) d.add("replaced by another file (inode " + inode + " → " + now.inode + ")");
            return d;
        }
    }

    byte[] encode() {
        byte[] path = base.toString().getBytes(StandardCharsets.UTF_8);
        if (path.length > CRC_AT - PATH_AT) throw new IllegalArgumentException("base path too long: " + base);
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.BIG_ENDIAN);
        b.put(MAGIC).putInt(chunkSize).putLong(diskSize)
                .putLong(baseIdentity.size).putLong(baseIdentity.mtimeNanos).putLong(baseIdentity.inode).putLong(baseIdentity.device)
                .putShort((short) path.length).put(path);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, CRC_AT);
        b.putInt(CRC_AT, (int) crc.getValue());
        return b.array();
    }

    static boolean hasMagic(byte[] start) {
        return start.length >= MAGIC.length && java.util.Arrays.equals(start, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    static CloneHeader decode(byte[] bytes, Path sidecar) throws IOException {
        if (bytes.length < BYTES || !hasMagic(bytes)) throw new IOException(sidecar + " is not a netboot clone header");
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, BYTES).order(ByteOrder.BIG_ENDIAN);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, CRC_AT);
        if (b.getInt(CRC_AT) != (int) crc.getValue()) throw new IOException(sidecar + " is damaged (header checksum mismatch)");
        b.position(MAGIC.length);
        int chunkSize = b.getInt();
        long diskSize = b.getLong();
        BaseIdentity id = new BaseIdentity(b.getLong(), b.getLong(), b.getLong(), b.getLong());
        int pathLength = Short.toUnsignedInt(b.getShort());
        if (pathLength > CRC_AT - PATH_AT) throw new IOException(sidecar + " is damaged (base path length " + pathLength + ")");
        String path = new String(bytes, PATH_AT, pathLength, StandardCharsets.UTF_8);
        try {
            return new CloneHeader(chunkSize, diskSize, Path.of(path), id);
        } catch (IllegalArgumentException e) {
            throw new IOException(sidecar + " is damaged: " + e.getMessage(), e);
        }
    }
}
