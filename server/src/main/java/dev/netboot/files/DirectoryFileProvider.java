package dev.netboot.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Serves the regular files under one directory, read-only. A path is served only if, after
 * resolving every symlink, it still lies under the root: a link to /etc/shadow is refused.
 */
public final class DirectoryFileProvider implements FileProvider {

    private final Path root;
    private final boolean leadingSlashIsRoot;

    public DirectoryFileProvider(Path root, boolean leadingSlashIsRoot) throws IOException {
        this.root = root.toRealPath();
        this.leadingSlashIsRoot = leadingSlashIsRoot;
    }

    public Path root() { return root; }

    @Override
    public Lookup open(FileRequest request) {
        return switch (ConfinedPath.of(request.path(), leadingSlashIsRoot)) {
            case ConfinedPath.Outside outside -> new Lookup.Refused(outside.reason());
            case ConfinedPath.Relative relative -> openInside(relative.joined());
        };
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
        try {
            return new Lookup.Found(new ChannelFile(FileChannel.open(real, StandardOpenOption.READ)), relative);
        } catch (IOException e) {
            // Permission denied and the like: the operator must fix the file, the client can't.
            return new Lookup.NotFound("cannot open '" + relative + "': " + e.getMessage());
        }
    }

    /** A file on disk, read with positional reads so concurrent transfers share nothing. */
    static final class ChannelFile implements ServedFile {
        private final FileChannel channel;
        private final long size;

        ChannelFile(FileChannel channel) throws IOException {
            this.channel = channel;
            this.size = channel.size();
        }

        @Override public long size() { return size; }

        @Override
        public int read(long position, ByteBuffer dst) throws IOException {
            int total = 0;
            while (dst.hasRemaining()) {
                int n = channel.read(dst, position + total);
                if (n < 0) break;
                total += n;
            }
            return total;
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing a read-only channel cannot lose data.
            }
        }
    }
}
