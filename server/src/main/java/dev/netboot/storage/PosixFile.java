package dev.netboot.storage;

import dev.netboot.posix.Libc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A file descriptor with pread/pwrite/fdatasync called directly through the FFM API. Cheaper per
 * call than FileChannel (no interruptible-I/O bookkeeping, no temporary buffers) and it works the
 * same for regular files and block devices (the size comes from lseek). Thread-safe: positional
 * I/O has no shared file position.
 */
final class PosixFile implements AutoCloseable {

    private static final int O_RDONLY = 0, O_RDWR = 2, O_DSYNC = 0x1000, O_CLOEXEC = 0x80000;
    private static final int SEEK_END = 2, SEEK_DATA = 3;
    private static final int EINTR = 4, ENXIO = 6, EWOULDBLOCK = 11;
    private static final int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout ADDR = ValueLayout.ADDRESS;

    private static final MethodHandle OPEN = find("open", FunctionDescriptor.of(INT, ADDR, INT, INT));
    private static final MethodHandle PREAD = find("pread", FunctionDescriptor.of(LONG, INT, ADDR, LONG, LONG));
    private static final MethodHandle PWRITE = find("pwrite", FunctionDescriptor.of(LONG, INT, ADDR, LONG, LONG));
    private static final MethodHandle LSEEK = find("lseek", FunctionDescriptor.of(LONG, INT, LONG, INT));
    private static final MethodHandle FDATASYNC = find("fdatasync", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle CLOSE = find("close", FunctionDescriptor.of(INT, INT));
    private static final MethodHandle FLOCK = find("flock", FunctionDescriptor.of(INT, INT, INT));


    private final Path path;
    private final int fd;
    private volatile boolean closed;

    private PosixFile(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    private static MethodHandle find(String name, FunctionDescriptor fd) {
        return Libc.function(name, fd);
    }

    static PosixFile open(Path path, boolean readOnly, boolean dsync) throws IOException {
        int flags = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (dsync && !readOnly ? O_DSYNC : 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(path.toString(), StandardCharsets.UTF_8);
            MemorySegment cap = Libc.threadCapture();
            int fd = (int) OPEN.invokeExact(cap, name, flags, 0);
            if (fd < 0) throw new IOException("cannot open " + path + ": " + strerror(errno(cap)));
            return new PosixFile(path, fd);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /** The size in bytes: lseek to the end works for files and block devices alike. */
    long size() throws IOException {
        MemorySegment cap = Libc.threadCapture();
        long n;
        try {
            n = (long) LSEEK.invokeExact(cap, fd, 0L, SEEK_END);
        } catch (Throwable t) {
            throw new IOException(t);
        }
        if (n < 0) throw new IOException("lseek " + path + ": " + strerror(errno(cap)));
        return n;
    }

    /**
     * The first offset at or after {@code offset} that holds data (SEEK_DATA), or -1 when only holes
     * follow. File systems without hole tracking report everything as data, which is merely slower.
     */
    long nextData(long offset) throws IOException {
        MemorySegment cap = Libc.threadCapture();
        long n;
        try {
            n = (long) LSEEK.invokeExact(cap, fd, offset, SEEK_DATA);
        } catch (Throwable t) {
            throw new IOException(t);
        }
        if (n >= 0) return n;
        int e = errno(cap);
        if (e == ENXIO) return -1;
        throw new IOException("lseek SEEK_DATA " + path + ": " + strerror(e));
    }

    /**
     * flock(2) without waiting; false when another open file holds a conflicting lock. flock rather
     * than fcntl locks (FileChannel.lock): those vanish when any descriptor of the file closes in
     * this process, and never conflict within one process.
     */
    boolean tryLock(boolean exclusive) throws IOException {
        MemorySegment cap = Libc.threadCapture();
        int rc;
        try {
            rc = (int) FLOCK.invokeExact(cap, fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
        } catch (Throwable t) {
            throw new IOException(t);
        }
        if (rc == 0) return true;
        int e = errno(cap);
        if (e == EWOULDBLOCK) return false;
        throw new IOException("flock " + path + ": " + strerror(e));
    }

    /** Reads exactly {@code dst.remaining()} bytes at {@code offset}; returns false at end of file. */
    boolean readFully(long offset, ByteBuffer dst) throws IOException {
        if (!dst.isDirect()) {
            ByteBuffer tmp = ByteBuffer.allocateDirect(dst.remaining());
            boolean ok = readFully(offset, tmp);
            dst.put(tmp.flip());
            return ok;
        }
        MemorySegment seg = MemorySegment.ofBuffer(dst);
        long done = 0, want = seg.byteSize();
        MemorySegment cap = Libc.threadCapture();
        while (done < want) {
            long n;
            try {
                n = (long) PREAD.invokeExact(cap, fd, seg.asSlice(done), want - done, offset + done);
            } catch (Throwable t) {
                throw new IOException(t);
            }
            if (n < 0) {
                int e = errno(cap);
                if (e == EINTR) continue;
                throw new IOException("pread " + path + " at " + (offset + done) + ": " + strerror(e));
            }
            if (n == 0) return false;
            done += n;
        }
        dst.position(dst.position() + (int) want);
        return true;
    }

    void writeFully(long offset, ByteBuffer src) throws IOException {
        if (!src.isDirect()) {
            ByteBuffer tmp = ByteBuffer.allocateDirect(src.remaining()).put(src.duplicate()).flip();
            writeFully(offset, tmp);
            src.position(src.limit());
            return;
        }
        MemorySegment seg = MemorySegment.ofBuffer(src);
        long done = 0, want = seg.byteSize();
        MemorySegment cap = Libc.threadCapture();
        while (done < want) {
            long n;
            try {
                n = (long) PWRITE.invokeExact(cap, fd, seg.asSlice(done), want - done, offset + done);
            } catch (Throwable t) {
                throw new IOException(t);
            }
            if (n < 0) {
                int e = errno(cap);
                if (e == EINTR) continue;
                throw new IOException("pwrite " + path + " at " + (offset + done) + ": " + strerror(e));
            }
            done += n;
        }
        src.position(src.position() + (int) want);
    }

    void fdatasync() throws IOException {
        MemorySegment cap = Libc.threadCapture();
        int rc;
        try {
            rc = (int) FDATASYNC.invokeExact(cap, fd);
        } catch (Throwable t) {
            throw new IOException(t);
        }
        if (rc < 0) throw new IOException("fdatasync " + path + ": " + strerror(errno(cap)));
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            int rc = (int) CLOSE.invokeExact(Libc.threadCapture(), fd);
        } catch (Throwable ignored) {
            // the descriptor is gone either way
        }
    }

    private static int errno(MemorySegment cap) {
        return Libc.errno(cap);
    }

    private static String strerror(int errno) {
        return Libc.strerror(errno);
    }
}
