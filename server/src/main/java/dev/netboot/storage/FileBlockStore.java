package dev.netboot.storage;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A regular file (sparse: holes read as zeros and take no space) or a block device such as an LVM
 * logical volume, with pread/pwrite straight between the page cache and the network buffers (FFM
 * calls, no extra copy). Positional I/O shares no file position, so any number of threads read and
 * write at once and readers never queue behind writers. {@code syncWrites} opens with O_DSYNC.
 *
 * <p>With {@code tuning.mmapReads} requests copy to and from a shared mapping instead
 * (no system call per request). Measured here it loses on random reads: every first touch of a
 * page costs a page fault, so pread stays the default.
 *
 * <p>A regular file is also mapped read-only for {@link #pin}: an AoE read reply then goes out with
 * its data copied by the kernel straight from the page cache into the frame (a second iovec), not
 * first into the transmit buffer by pread ({@code tuning.zeroCopyReads: false} turns it
 * off). {@link #close} waits until every pin is released, so a mapping is never unmapped (and its
 * addresses reused for another client's disk) under a send in flight.
 */
public final class FileBlockStore implements BlockStore {

    private final Path path;
    private final PosixFile file;
    private final long size;
    private final boolean syncWrites;
    private final Arena mappingArena;
    private final MemorySegment mapping;
    private final boolean writeThroughMapping;
    /** The read-only mapping pins point into (the mmap mode's mapping where that is on), or null. */
    private final MemorySegment pinMapping;
    private final Arena pinArena;
    private final java.util.concurrent.atomic.AtomicInteger pins = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closing;
    private static final int PAGE = 4096;

    private FileBlockStore(Path path, PosixFile file, long size, boolean readOnly, boolean syncWrites, ReadTuning tuning) {
        this.path = path;
        this.file = file;
        this.size = size;
        this.syncWrites = syncWrites;
        Arena arena = null;
        MemorySegment m = null;
        if (tuning.mmapReads()) {
            arena = Arena.ofShared();
            boolean rw = !readOnly && !syncWrites;
            try (FileChannel ch = FileChannel.open(path, rw ? new StandardOpenOption[]{StandardOpenOption.READ, StandardOpenOption.WRITE}
                    : new StandardOpenOption[]{StandardOpenOption.READ})) {
                m = ch.map(rw ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY, 0, size, arena);
            } catch (IOException | UnsupportedOperationException e) {
                arena.close();
                arena = null;
            }
        }
        this.mappingArena = arena;
        this.mapping = m;
        this.writeThroughMapping = m != null && !readOnly && !syncWrites;
        Arena pa = null;
        MemorySegment pm = m;
        if (m == null && tuning.zeroCopyReads() && Files.isRegularFile(path)) {
            pa = Arena.ofShared();
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                pm = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, pa);
            } catch (IOException | UnsupportedOperationException e) {
                pa.close();
                pa = null;
                pm = null;
            }
        }
        this.pinArena = pa;
        this.pinMapping = pm;
    }

    /** Creates a sparse file of {@code size} bytes (parent directories too). Refuses to overwrite. */
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
        return open(path, readOnly, syncWrites, ReadTuning.DEFAULT);
    }

    public static FileBlockStore open(Path path, boolean readOnly, boolean syncWrites, ReadTuning tuning) throws IOException {
        if (Files.isDirectory(path)) throw new IOException(path + " is a directory");
        PosixFile f = PosixFile.open(path, readOnly, syncWrites);
        try {
            long size = f.size();
            if (size <= 0) throw new IOException(path + " is empty");
            return new FileBlockStore(path, f, size, readOnly, syncWrites, tuning);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    public Path path() { return path; }
    public boolean syncWrites() { return syncWrites; }

    /** The first offset at or after {@code offset} holding data, -1 if only holes follow (lets a flatten skip them). */
    long nextData(long offset) throws IOException { return file.nextData(offset); }

    /** SEEK_DATA: the file system's own map of holes (pages written but not yet on disk count as data). */
    @Override
    public boolean isHole(long offset, int length) throws IOException {
        checkBounds(offset, length);
        long data = nextData(offset);
        return data < 0 || data >= offset + length;
    }

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
        if (!file.readFully(offset, dst)) {
            // The file shrank under us (someone truncated it).
            throw new EOFException(path + " ends before byte " + (offset + dst.remaining()));
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
        file.writeFully(offset, src);
    }

    @Override
    public void flush() throws IOException {
        // fdatasync writes back dirty pages of a mapping as well as those of pwrite.
        file.fdatasync();
    }

    @Override
    public Pinned pin(long offset, int length) throws IOException {
        // Only data of more than a page (jumbo frames) goes out from the mapping. Measured (bench/aoe.sh,
        // docs/aoe.md): 8.5 KiB frames cost 14-16 % less CPU and seq reads ran 17 % faster; a random 4 KiB
        // page cost 9 % more (a TLB miss and page walk in the mapping, where pread goes through the
        // kernel's own mapping); 1 KiB frames cost 11 % less CPU but ran 2-5 % slower in both runs.
        if (pinMapping == null || length <= PAGE) return null;
        checkBounds(offset, length);
        pins.incrementAndGet();
        if (closing) {           // close() checks pins after setting closing: one of the two sees the other
            pins.decrementAndGet();
            return null;
        }
        return new Pin(pinMapping.asSlice(offset, length), offset);
    }

    private final class Pin implements Pinned {
        private final MemorySegment data;
        private final long offset;

        Pin(MemorySegment data, long offset) {
            this.data = data;
            this.offset = offset;
        }

        @Override public MemorySegment data() { return data; }
        @Override public long offset() { return offset; }
        @Override public BlockStore store() { return FileBlockStore.this; }
        @Override public void release() { pins.decrementAndGet(); }
    }

    @Override
    public void close() throws IOException {
        closing = true;
        boolean unmap = true;
        if (pinMapping != null) {
            // Sends in flight copy from the mapping: wait for them (a batch is sent within microseconds).
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (pins.get() > 0 && System.nanoTime() < deadline) Thread.onSpinWait();
            // A sender that died holding a pin: keep the mapping (a leak) rather than unmap it under a send.
            unmap = pins.get() == 0;
        }
        if (pinArena != null && unmap) pinArena.close();
        if (mappingArena != null && unmap) {
            try {
                mappingArena.close();
            } catch (IllegalStateException e) {
                // a reader is inside a copy right now; the mapping goes when the arena is unreachable
            }
        }
        file.close();
    }


    @Override
    public String toString() { return path.toString(); }
}
