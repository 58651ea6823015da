package dev.netboot.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Which file a disk is, across restarts and renames: a random tag kept in the file's extended attribute
 * {@code user.netboot.replica}, written the first time it is asked for. A new file under the same path (a
 * PC re-imaged at its AoE address, a flatten's copy renamed over the clone) has no tag yet and so gets
 * another one. The inode number cannot tell: ext4 hands a deleted file's number to the next new file, and
 * the birth time falls back to the modification time where the kernel has no statx.
 *
 * <p>"" where there is nothing to tell (not a regular file, e.g. an LVM volume; no extended attributes on
 * that file system): the caller then cannot notice a replacement and trusts the name, as before.
 */
public final class FileIdentity {

    private static final String ATTRIBUTE = "netboot.replica";
    private static final SecureRandom RANDOM = new SecureRandom();

    private FileIdentity() { }

    /** The file's tag, written now if it has none. */
    public static String of(Path file) {
        return read(file, true);
    }

    /** The file's tag, or "" if it has none (nothing is written). */
    public static String peek(Path file) {
        return read(file, false);
    }

    private static String read(Path file, boolean tag) {
        try {
            if (!Files.isRegularFile(file)) return "";
            UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
            if (view == null) return "";
            if (view.list().contains(ATTRIBUTE)) {
                ByteBuffer b = ByteBuffer.allocate(view.size(ATTRIBUTE));
                view.read(ATTRIBUTE, b);
                return StandardCharsets.US_ASCII.decode(b.flip()).toString();
            }
            if (!tag) return "";
            byte[] id = new byte[8];
            RANDOM.nextBytes(id);
            String hex = HexFormat.of().formatHex(id);
            view.write(ATTRIBUTE, StandardCharsets.US_ASCII.encode(hex));
            return hex;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return "";
        }
    }
}
