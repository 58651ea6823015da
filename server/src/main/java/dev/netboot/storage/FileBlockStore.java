package dev.netboot.storage;

import java.io.EOFException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Set;

/**
 * A regular file (sparse: holes read as zeros and take no space) or a block device such as an LVM
 * logical volume. Reads and writes copy to and from a shared mapping of the page cache: no
 * system call and no lock per request, so readers never queue behind writers. With syncWrites the
 * writes are pwrite on an O_DSYNC descriptor instead. Mapping and pwrite share the page cache, so
 * a read always sees every completed write.
 */
public final class FileBlockStore implements BlockStore {

    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final boolean syncWrites;
    /** Reads copy straight out of a shared read-only mapping: no system call per read. */
    private final Arena mappingArena;
    private final MemorySegment mapping;

    private final boolean writeThroughMapping;

    private FileBlockStore(Path path, FileChannel channel, long size, boolean readOnly, boolean syncWrites) {
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.syncWrites = syncWrites;
        // Writes go through the mapping too (a memcpy instead of a pwrite) unless every write must
        // be synchronous; a failure to allocate a page then shows up as an error reply (SIGBUS is
        // turned into InternalError by the JVM) rather than a crash.
        boolean mappedWrites = !readOnly && !syncWrites && !Boolean.getBoolean("netboot.storage.pwrite");
        Arena arena = Arena.ofShared();
        MemorySegment m;
        try {
            m = channel.map(mappedWrites ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException | UnsupportedOperationException e) {
            // Some devices cannot be mapped; pread serves them.
            arena.close();
            arena = null;
            m = null;
        }
        this.mappingArena = arena;
        this.mapping = m;
        this.writeThroughMapping = mappedWrites && m != null;
    }

    /**
     * Creates a sparse file of {@code size} bytes (parent directories too). Refuses to overwrite.
     */
    public static FileBlockStore createSparse(Path path, long size) throws IOException {
        if (size <= 0 || size % 512 != 0) throw new IOException("size must be a positive multiple of 512 bytes, got " + size);
        Files.createDirectories(path.toAbsolutePath().getParent());
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.SPARSE)) {
            // Setting the length by writing one byte at the end: truncate() cannot grow a file.
            ch.write(ByteBuffer.allocate(1), size - 1);
        }
        return open(path, false, false);
    }

    /**
     * Opens an existing file or block device.
     *
     * @param syncWrites O_DSYNC: every acknowledged write is on stable storage (slower; for clients whose
     *                   driver never flushes, such as Linux aoe)
     */
    public static FileBlockStore open(Path path, boolean readOnly, boolean syncWrites) throws IOException {
        Set<StandardOpenOption> options = EnumSet.of(StandardOpenOption.READ);
        if (!readOnly) options.add(StandardOpenOption.WRITE);
        if (syncWrites && !readOnly) options.add(StandardOpenOption.DSYNC);
        FileChannel ch = FileChannel.open(path, options);
        try {
            long size = Files.isRegularFile(path) ? ch.size() : blockDeviceSize(path, ch);
            if (size <= 0) throw new IOException(path + " is empty");
            return new FileBlockStore(path, ch, size, readOnly, syncWrites);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** fstat reports 0 bytes for a block device; the kernel gives its size in /sys in 512-byte units. */
    private static long blockDeviceSize(Path path, FileChannel ch) throws IOException {
        Object rdev = Files.getAttribute(path, "unix:rdev");
        long dev = ((Number) rdev).longValue();
        long major = (dev >>> 8) & 0xFFF | (dev >>> 32) & ~0xFFFL;
        long minor = dev & 0xFF | (dev >>> 12) & ~0xFFL;
        Path sys = Path.of("/sys/dev/block/" + major + ":" + minor + "/size");
        if (Files.isReadable(sys)) return Long.parseLong(Files.readString(sys).trim()) * 512;
        return ch.size();
    }

    public Path path() { return path; }
    public boolean syncWrites() { return syncWrites; }

    @Override
    public long size() { return size; }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkBounds(offset, dst.remaining());
        if (mapping != null) {
            int n = dst.remaining();
            try {
                MemorySegment.copy(mapping, offset, MemorySegment.ofBuffer(dst), 0, n);
            } catch (InternalError | IllegalStateException e) {
                // SIGBUS (the file was truncated, or the device failed) or a store closed meanwhile.
                throw new IOException("reading " + path + " at " + offset + " failed: " + e.getMessage(), e);
            }
            dst.position(dst.position() + n);
            return;
        }
        long at = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) {
                // A file shrunk under us (someone truncated it): zeros are what a hole would read.
                if (at >= size) throw new EOFException(path + " ends at " + at);
                while (dst.hasRemaining()) dst.put((byte) 0);
                break;
            }
            at += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkBounds(offset, src.remaining());
        if (writeThroughMapping) {
            int n = src.remaining();
            try {
                MemorySegment.copy(MemorySegment.ofBuffer(src), 0, mapping, offset, n);
            } catch (InternalError | IllegalStateException e) {
                throw new IOException("writing " + path + " at " + offset + " failed (file system full?): " + e.getMessage(), e);
            }
            src.position(src.position() + n);
            return;
        }
        long at = offset;
        while (src.hasRemaining()) at += channel.write(src, at);
    }

    @Override
    public void flush() throws IOException {
        // fdatasync writes back dirty pages of the mapping as well as those of pwrite.
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        if (mappingArena != null) {
            try {
                mappingArena.close();
            } catch (IllegalStateException e) {
                // a reader is inside a copy right now; the mapping goes when the arena is unreachable
            }
        }
        channel.close();
    }

    @Override
    public String toString() { return path.toString(); }
}
