package dev.netboot.app;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * The data directory holds every client's disk, the inventory, the disk catalog and the images: none
 * of it is any other local user's business (a user read another client's disk). The folder is 0700,
 * its folders 0700 and its files lose every group and other bit (0600, 0700 for the few executables).
 * A data directory made before this is fixed at start, and the log says how much was open.
 */
public final class DataDirectory {

    private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);
    private static final Set<PosixFilePermission> OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private DataDirectory() {}

    /**
     * Creates {@code dataDir} with mode 0700, or takes group and other permissions off it and everything
     * in it (symbolic links are not followed: what they point to is not ours to change).
     * @return how many files and folders were changed
     */
    public static int secure(Path dataDir) throws IOException {
        if (!Files.exists(dataDir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dataDir.getParent() == null ? dataDir : dataDir.getParent());
            Files.createDirectory(dataDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------")); // the umask may have taken bits off, never added
            return 0;
        }
        int[] changed = {0};
        int[] failed = {0};
        Files.walkFileTree(dataDir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                tighten(dir);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (!attrs.isSymbolicLink()) tighten(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                log.warn("data directory {}: cannot check the permissions of {}: {}", dataDir, file, e.getMessage());
                failed[0]++;
                return FileVisitResult.CONTINUE;
            }

            private void tighten(Path p) {
                try {
                    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
                    if (perms.removeAll(OTHERS)) {
                        Files.setPosixFilePermissions(p, perms);
                        changed[0]++;
                    }
                } catch (IOException | UnsupportedOperationException e) {
                    log.warn("data directory {}: cannot take group and other permissions off {}: {}", dataDir, p, e.getMessage());
                    failed[0]++;
                }
            }
        });
        if (changed[0] > 0) {
            log.warn("data directory {}: {} files and folders were readable by other local users (client disks, the inventory); "
                    + "now the folders are 0700 and the files 0600", dataDir, changed[0]);
        }
        return changed[0];
    }
}
