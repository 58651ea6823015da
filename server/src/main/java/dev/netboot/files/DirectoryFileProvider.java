package dev.netboot.files;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Serves the regular files under one directory, read-only. A path is served only if, after
 * resolving every symlink, it still lies under the root: a link to /etc/shadow is refused.
 * It needs only the file system, so it answers {@link #openAtOnce} too.
 */
public final class DirectoryFileProvider implements FileProvider {

    private final Path root;
    private final boolean leadingSlashIsRoot;

    public DirectoryFileProvider(Path root, boolean leadingSlashIsRoot) throws IOException {
        this.root = root.toRealPath();
        this.leadingSlashIsRoot = leadingSlashIsRoot;
    }

    /**
     * Files up to this size are read into memory when opened instead of mapped: one read() against an mmap(),
     * a munmap() and the handshake with every thread that closing a shared arena costs (~15-30 µs against
     * ~80-100 µs per file here), for the loaders' modules and configuration files a boot fetches by the dozen.
     */
    static final int READ_WHOLE_BYTES = 128 * 1024;

    public Path root() { return root; }

    @Override
    public Lookup open(FileRequest request) {
        return switch (ConfinedPath.of(request.path(), leadingSlashIsRoot)) {
            case ConfinedPath.Outside outside -> new Lookup.Refused(outside.reason());
            case ConfinedPath.Relative relative -> openInside(relative.joined());
        };
    }

    @Override
    public Optional<Lookup> openAtOnce(FileRequest request) {
        return Optional.of(open(request));
    }

    private Lookup openInside(String relative) {
        Path candidate = root.resolve(relative);
        Path real;
        try {
            real = candidate.toRealPath();
        } catch (NoSuchFileException e) {
            return new Lookup.NotFound("no file '" + relative + "' under " + root);
        } catch (IOException e) {
            return new Lookup.NotFound("cannot resolve '" + relative + "': " + e.getMessage());
        }
        if (!real.startsWith(root)) return new Lookup.Refused("'" + relative + "' leads outside the root to " + real);
        if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) return new Lookup.NotFound("'" + relative + "' is not a regular file");
        try (FileChannel channel = FileChannel.open(real, StandardOpenOption.READ)) {
            long size = channel.size();
            return new Lookup.Found(size <= READ_WHOLE_BYTES ? new BytesFile(readWhole(channel, size)) : new MappedFile(channel), relative);
        } catch (IOException e) {
            // Permission denied and the like: the operator must fix the file, the client can't.
            return new Lookup.NotFound("cannot open '" + relative + "': " + e.getMessage());
        }
    }

    private static byte[] readWhole(FileChannel channel, long size) throws IOException {
        ByteBuffer content = ByteBuffer.allocate((int) size);
        while (content.hasRemaining() && channel.read(content, content.position()) >= 0) { /* until full or at its end */ }
        // A file that shrank since its size was taken is served as far as it was read: a whole, shorter file.
        return content.position() == size ? content.array() : java.util.Arrays.copyOf(content.array(), content.position());
    }

    /**
     * A file on disk, mapped into memory once when opened: each TFTP block is then a memory copy instead
     * of a pread() system call, which is a large part of the per-packet cost in lock-step transfers, and
     * concurrent transfers of the same kernel share the page cache without any locking.
     */
    static final class MappedFile implements ServedFile {
        private static final int PAGE = 4096;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment content;
        /** The last slice's touched bytes, XORed: a use of the loads that find a truncation here (see {@link #slice}). */
        private byte touched;

        /** @param channel stays the caller's to close */
        MappedFile(FileChannel channel) throws IOException {
            try {
                long size = channel.size();
                this.content = size == 0 ? MemorySegment.NULL : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }

        @Override public long size() { return content.byteSize(); }

        @Override
        public int read(long position, ByteBuffer dst) throws IOException {
            int n = (int) Math.max(0, Math.min(dst.remaining(), content.byteSize() - position));
            if (n == 0) return 0;
            try {
                MemorySegment.ofBuffer(dst).copyFrom(content.asSlice(position, n));
            } catch (InternalError e) {
                // The JVM turns SIGBUS into this when the file was truncated under the mapping.
                throw new IOException("file changed while being served: " + e.getMessage());
            }
            dst.position(dst.position() + n);
            return n;
        }

        /**
         * A view of the mapping. Its pages are touched here, so a file truncated under the mapping fails this
         * call (as {@link #read} does) rather than the copy into a packet that follows at once: as an IOException,
         * or, where HotSpot delivers the fault of compiled code later (at a safepoint poll), as its InternalError;
         * callers take both.
         */
        @Override
        public ByteBuffer slice(long position, int length) throws IOException {
            int n = (int) Math.max(0, Math.min(length, content.byteSize() - position));
            if (n == 0) return ByteBuffer.allocate(0).asReadOnlyBuffer();
            MemorySegment view = content.asSlice(position, n);
            try {
                byte seen = view.get(ValueLayout.JAVA_BYTE, n - 1);
                for (long at = 0; at < n; at += PAGE) seen ^= view.get(ValueLayout.JAVA_BYTE, at);
                // Kept, so the loads are: the JIT may drop a load whose value nothing uses, and the fault would
                // then come in the copy into the packet after all.
                touched = seen;
            } catch (InternalError e) {
                throw new IOException("file changed while being served: " + e.getMessage());
            }
            return view.asByteBuffer();   // read-only: the mapping is
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
