package dev.netboot.images;

import dev.netboot.storage.Progress;
import dev.netboot.storage.ZeroSkippingCopy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Turns a root filesystem into an image folder under {@code <dataDir>/images/NAME}:
 * <pre>
 *   disk.img                 the read-only ext4 disk clients' disks are cloned from
 *   boot/vmlinuz-VERSION     the image's kernel, served as images/NAME/vmlinuz
 *   lib/modules/VERSION/     its modules, from which the initrd takes the NIC, aoe and ext4 drivers
 * </pre>
 * Sources: a directory (debootstrap's output), a tarball (a distro's rootfs tarball; GNU tar unpacks it so
 * owners, modes and device nodes survive) or a raw disk image holding ext2/3/4, bare or in any MBR or GPT
 * partition, /boot on its own partition included (copied sparsely; kernel and modules read out with debugfs). The folder is built under a
 * temporary name and renamed at the end, so a failed or interrupted import leaves nothing half-made.
 */
public final class ImageImporter {

    private static final Logger log = LoggerFactory.getLogger(ImageImporter.class);
    private static final long MIB = 1 << 20;
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(60);

    private final Path imagesDir;

    public ImageImporter(Path imagesDir) { this.imagesDir = imagesDir; }

    public Path imageDir(String name) { return imagesDir.resolve(ImageName.check(name)); }

    /**
     * @param size the disk size for a tree or tarball (empty: the content plus room to grow); ignored for a disk image
     */
    public ImportedImage importFrom(String name, Path source, OptionalLong size, Progress progress) throws IOException {
        Path target = imageDir(name);
        if (Files.exists(target)) throw new IOException("image folder " + target + " exists already (remove the image first)");
        if (!Files.exists(source)) throw new IOException("no such file or directory: " + source);
        Files.createDirectories(imagesDir);
        Path staging = imagesDir.resolve("." + name + ".importing");
        deleteTree(staging); // left by an import that was interrupted
        Files.createDirectories(staging);
        try {
            String kernel;
            if (Files.isDirectory(source)) {
                kernel = fromTree(name, new RootTree(source), staging, size, progress);
            } else if (looksLikeTarball(source)) {
                Path unpacked = Files.createDirectories(staging.resolve("rootfs"));
                progress.update("unpacking " + source.getFileName(), 0, 0);
                Tools.run(TOOL_TIMEOUT, List.of("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf",
                        source.toAbsolutePath().toString(), "-C", unpacked.toString()));
                kernel = fromTree(name, new RootTree(unpacked), staging, size, progress);
                deleteTree(unpacked);
            } else {
                List<DiskLayout.ExtFilesystem> filesystems = DiskLayout.extFilesystems(source);
                if (filesystems.isEmpty()) {
                    throw new IOException(source + " is neither a folder, a tar archive, nor a disk image with an ext2/3/4 root "
                            + "filesystem (bare, or in an MBR or GPT partition)");
                }
                kernel = fromDiskImage(source, filesystems, staging, progress);
            }
            long bytes = Files.size(staging.resolve("disk.img"));
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            log.info("image {} imported from {}: kernel {}, disk {} MiB", name, source, kernel, bytes / MIB);
            return new ImportedImage(target, target.resolve("disk.img"), kernel, bytes);
        } catch (IOException | RuntimeException e) {
            deleteTree(staging);
            throw e;
        }
    }

    // ---- a root filesystem tree ---------------------------------------------------------------

    private String fromTree(String name, RootTree tree, Path staging, OptionalLong size, Progress progress) throws IOException {
        String kernel = kernelVersion(tree);
        progress.update("copying kernel " + kernel + " and its modules", 0, 0);
        copyKernelFiles(tree, kernel, staging);
        TreeSize content = TreeSize.of(tree.root());
        long bytes = size.orElse(defaultSize(content));
        if (bytes < content.bytes()) {
            throw new IOException("the image's files need about " + content.bytes() / MIB + " MiB; --size " + bytes / MIB + " MiB is too small");
        }
        long inodes = Math.max(content.inodes() * 2 + 4096, bytes / 16384);
        progress.update("building a " + bytes / MIB + " MiB ext4 disk (" + content.inodes() + " files)", 0, 0);
        Tools.run(TOOL_TIMEOUT, List.of("mke2fs", "-q", "-F", "-t", "ext4", "-L", label(name), "-N", Long.toString(inodes),
                "-d", tree.root().toString(), staging.resolve("disk.img").toString(), (bytes / 1024) + "k"));
        progress.update("disk built", bytes, bytes);
        return kernel;
    }

    /** Content plus a quarter and 64 MiB for the journal, metadata and the client's own writes; whole MiB. */
    static long defaultSize(TreeSize content) {
        long raw = content.bytes() + content.bytes() / 4 + 64 * MIB;
        return (raw + MIB - 1) / MIB * MIB;
    }

    private static String label(String name) { return name.length() <= 16 ? name : name.substring(0, 16); }

    /** The kernel whose modules are there (modules.dep) and whose vmlinuz is in /boot; /vmlinuz decides between several. */
    static String kernelVersion(RootTree tree) throws IOException {
        Path modules = tree.resolve("lib/modules");
        if (!Files.isDirectory(modules)) throw new IOException(tree.root() + " has no lib/modules: not a Linux root filesystem with a kernel installed");
        TreeSet<String> versions = new TreeSet<>();
        try (Stream<Path> s = Files.list(modules)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String v = p.getFileName().toString();
                if (Files.isRegularFile(p.resolve("modules.dep")) && Files.isRegularFile(tree.resolve("boot/vmlinuz-" + v))) versions.add(v);
            }
        }
        if (versions.isEmpty()) {
            throw new IOException(tree.root() + " has no kernel: needs boot/vmlinuz-VERSION and lib/modules/VERSION/modules.dep "
                    + "(install a linux-image package in it; run depmod if modules.dep is missing)");
        }
        if (versions.size() == 1) return versions.first();
        Path link = tree.root().resolve("vmlinuz");
        if (Files.isSymbolicLink(link)) {
            String target = Files.readSymbolicLink(link).getFileName().toString();
            if (target.startsWith("vmlinuz-") && versions.contains(target.substring(8))) return target.substring(8);
        }
        return versions.last();
    }

    private static void copyKernelFiles(RootTree tree, String kernel, Path staging) throws IOException {
        Files.createDirectories(staging.resolve("boot"));
        Files.copy(tree.resolve("boot/vmlinuz-" + kernel), staging.resolve("boot/vmlinuz-" + kernel));
        copyTree(tree.resolve("lib/modules/" + kernel), staging.resolve("lib/modules/" + kernel));
        // The initrd builder falls back to the image's own busybox when the server has no static one.
        Path busybox = tree.resolve("bin/busybox");
        if (Files.isRegularFile(busybox)) {
            Files.createDirectories(staging.resolve("bin"));
            Files.copy(busybox, staging.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    // ---- a raw disk image -----------------------------------------------------------------------

    /**
     * Copies the disk, then finds its root among its ext filesystems (the one with /lib/modules/VERSION)
     * and reads the kernel and modules out of it. The kernel is in the root's /boot or, for an installed
     * system with a separate /boot partition, at the top of another ext filesystem.
     */
    private String fromDiskImage(Path source, List<DiskLayout.ExtFilesystem> filesystems, Path staging, Progress progress) throws IOException {
        Path disk = staging.resolve("disk.img");
        try (FileChannel out = FileChannel.open(disk, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = Files.size(source);
            ZeroSkippingCopy.copy(source, out, size, "copying the disk image", progress);
            // A hole at the end was never written: one zero byte gives the file its length.
            if (out.size() < size) out.write(ByteBuffer.allocate(1), size - 1);
            out.force(true);
        }
        return readSystem(disk, filesystems, staging, progress);
    }

    /**
     * The kernel and modules of the system on a raw disk (any MBR/GPT partition, /boot on its own or not),
     * read out with debugfs into {@code into/boot} and {@code into/lib/modules}, the disk read in place:
     * only the blocks of the partition table, those directories and those files are read.
     *
     * @return the kernel's version
     */
    public static String readSystem(Path disk, Path into, Progress progress) throws IOException {
        List<DiskLayout.ExtFilesystem> filesystems = DiskLayout.extFilesystems(disk);
        if (filesystems.isEmpty()) throw new IOException("no ext2/3/4 filesystem on the disk (bare, or in an MBR or GPT partition)");
        return readSystem(disk, filesystems, into, progress);
    }

    /**
     * What changes when the system's kernels change, read from the disk in place: for each ext filesystem its
     * place on the disk and the listings (inode, mode, size, time of each entry) of /boot, /lib/modules and
     * /usr/lib/modules, or of its top for a filesystem with none of them (a /boot partition). A kernel
     * installed, removed or rebuilt changes it; a running system's logs, journal and /tmp do not. Only the
     * partition table and those directories are read.
     */
    public static String kernelFingerprint(Path disk) throws IOException {
        StringBuilder f = new StringBuilder();
        for (DiskLayout.ExtFilesystem fs : DiskLayout.extFilesystems(disk)) {
            f.append("fs ").append(fs.number()).append(" at ").append(fs.offset()).append('\n');
            StringBuilder dirs = new StringBuilder();
            for (String dir : List.of("/boot", "/lib/modules", "/usr/lib/modules")) dirs.append(listing(debugfsTarget(disk, fs), dir));
            f.append(dirs.isEmpty() ? listing(debugfsTarget(disk, fs), "/") : dirs);
        }
        return f.toString();
    }

    /** "ls -l"'s entries of a directory ("" when there is none; debugfs then only complains on stderr). */
    private static String listing(String fs, String dir) throws IOException {
        StringBuilder out = new StringBuilder();
        for (String line : Tools.run(TOOL_TIMEOUT, List.of("debugfs", "-R", "ls -l " + dir, fs)).split("\n")) {
            if (!line.isBlank()) out.append(dir).append(' ').append(line.strip()).append('\n');
        }
        return out.toString();
    }

    private static String readSystem(Path disk, List<DiskLayout.ExtFilesystem> filesystems, Path staging, Progress progress) throws IOException {
        Path source = disk;
        DiskLayout.ExtFilesystem root = null;
        String modulesDir = null;
        List<String> versions = new ArrayList<>();
        search:
        for (DiskLayout.ExtFilesystem candidate : filesystems) {
            for (String dir : List.of("/usr/lib/modules", "/lib/modules")) {
                versions = debugfsList(debugfsTarget(disk, candidate), dir);
                if (!versions.isEmpty()) {
                    root = candidate;
                    modulesDir = dir;
                    break search;
                }
            }
        }
        if (root == null) {
            throw new IOException(source + " has no /lib/modules/VERSION in " + describe(filesystems)
                    + ": no kernel installed in the image");
        }
        String fs = debugfsTarget(disk, root);
        Files.createDirectories(staging.resolve("boot"));
        Files.createDirectories(staging.resolve("lib/modules"));
        for (String v : versions.reversed()) {
            Path kernel = staging.resolve("boot/vmlinuz-" + v);
            if (!dumpKernel(disk, root, filesystems, v, kernel)) continue;
            progress.update("reading kernel " + v + " and its modules out of the disk image", 0, 0);
            Tools.run(TOOL_TIMEOUT, List.of("debugfs", "-R", "rdump " + modulesDir + "/" + v + " " + staging.resolve("lib/modules"), fs));
            if (!Files.isRegularFile(staging.resolve("lib/modules/" + v + "/modules.dep"))) {
                throw new IOException("kernel " + v + " in " + source + " has no modules.dep (run depmod in the image)");
            }
            log.info("{}: root filesystem on {}, kernel {}", source.getFileName(), root.describe(), v);
            return v;
        }
        throw new IOException(source + " has modules for " + versions + " but no vmlinuz-VERSION for any of them, neither in "
                + "/boot of its root (" + root.describe() + ") nor at the top of another ext filesystem (a /boot partition)");
    }

    /** The kernel from the root's /boot, else from the top of another filesystem (a separate /boot partition). */
    private static boolean dumpKernel(Path disk, DiskLayout.ExtFilesystem root, List<DiskLayout.ExtFilesystem> filesystems,
                                      String version, Path kernel) throws IOException {
        record Place(DiskLayout.ExtFilesystem fs, String file) {}
        List<Place> places = new ArrayList<>();
        places.add(new Place(root, "/boot/vmlinuz-" + version));
        for (DiskLayout.ExtFilesystem other : filesystems) {
            if (!other.equals(root)) places.add(new Place(other, "/vmlinuz-" + version));
        }
        for (Place place : places) {
            Tools.run(TOOL_TIMEOUT, List.of("debugfs", "-R", "dump " + place.file() + " " + kernel, debugfsTarget(disk, place.fs())));
            if (Files.isRegularFile(kernel) && Files.size(kernel) > 0) return true;
            Files.deleteIfExists(kernel);
        }
        return false;
    }

    /** debugfs reads a filesystem inside a disk file with "FILE?offset=BYTES". */
    private static String debugfsTarget(Path disk, DiskLayout.ExtFilesystem fs) {
        return disk + (fs.offset() == 0 ? "" : "?offset=" + fs.offset());
    }

    private static String describe(List<DiskLayout.ExtFilesystem> filesystems) {
        return filesystems.size() == 1 ? "its ext filesystem (" + filesystems.getFirst().describe() + ")"
                : "any of its ext filesystems (" + String.join(", ", filesystems.stream().map(DiskLayout.ExtFilesystem::describe).toList()) + ")";
    }

    private static List<String> debugfsList(String fs, String dir) throws IOException {
        // "ls -p" prints /inode/mode/uid/gid/name/size/ per entry; directories have mode 040xxx (size empty).
        List<String> out = new ArrayList<>();
        for (String line : Tools.run(TOOL_TIMEOUT, List.of("debugfs", "-R", "ls -p " + dir, fs)).split("\n")) {
            String[] f = line.split("/", -1);
            if (f.length >= 7 && f[2].startsWith("040") && !f[5].equals(".") && !f[5].equals("..")) out.add(f[5]);
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static boolean looksLikeTarball(Path file) throws IOException {
        byte[] head = new byte[512];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        boolean gzip = n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
        boolean xz = n >= 6 && (head[0] & 0xff) == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X' && head[4] == 'Z';
        boolean zstd = n >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f && (head[3] & 0xff) == 0xfd;
        boolean bzip2 = n >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h';
        boolean ustar = n >= 262 && new String(head, 257, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("ustar");
        return gzip || xz || zstd || bzip2 || ustar;
    }

    static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path dest = to.resolve(from.relativize(file).toString());
                if (attrs.isSymbolicLink()) Files.createSymbolicLink(dest, Files.readSymbolicLink(file));
                else if (attrs.isRegularFile()) Files.copy(file, dest, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Bytes (in 4 KiB blocks) and inodes a tree needs in ext4. */
    record TreeSize(long bytes, long inodes) {
        static TreeSize of(Path root) throws IOException {
            long[] acc = new long[2];
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    acc[0] += 4096;
                    acc[1]++;
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    acc[0] += (attrs.size() + 4095) / 4096 * 4096;
                    acc[1]++;
                    return FileVisitResult.CONTINUE;
                }
            });
            return new TreeSize(acc[0], acc[1]);
        }
    }
}
