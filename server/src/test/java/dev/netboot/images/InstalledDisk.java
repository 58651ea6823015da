package dev.netboot.images;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * Disk images laid out as installers leave them, made with the real tools (sfdisk, mke2fs -d) from a
 * root tree: not a bare filesystem, the root not on the first partition.
 */
public final class InstalledDisk {

    private static final long MIB = 1 << 20;
    private static final Duration TOOL = Duration.ofMinutes(2);

    private InstalledDisk() {}

    /**
     * GPT: partition 1 an EFI system partition (left empty: no ext filesystem), 2 an ext2 /boot holding
     * the tree's kernels (moved out of the tree's boot/), 3 the ext4 root.
     */
    public static Path gptWithBootPartition(Path tree, Path disk) throws IOException {
        Path work = Files.createDirectories(disk.resolveSibling(disk.getFileName() + ".parts"));
        Path bootTree = Files.createDirectories(work.resolve("boot-tree"));
        try (Stream<Path> kernels = Files.list(tree.resolve("boot"))) {
            for (Path k : kernels.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).toList()) {
                Files.move(k, bootTree.resolve(k.getFileName()));
            }
        }
        long bootMib = 8 + mib(bootTree), rootMib = 32 + mib(tree) * 5 / 4;
        Path bootFs = mke2fs("ext2", bootTree, work.resolve("boot.fs"), bootMib);
        Path rootFs = mke2fs("ext4", tree, work.resolve("root.fs"), rootMib);
        long espStart = 1, bootStart = espStart + 4, rootStart = bootStart + bootMib;      // in MiB
        sfdisk(disk, rootStart + rootMib + 1, """
                label: gpt
                start=%dMiB, size=4MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
                start=%dMiB, size=%dMiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
                start=%dMiB, size=%dMiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
                """.formatted(espStart, bootStart, bootMib, rootStart, rootMib));
        place(bootFs, disk, bootStart * MIB);
        place(rootFs, disk, rootStart * MIB);
        return disk;
    }

    /**
     * GPT as Debian's installer leaves a UEFI machine: partition 1 an EFI system partition (left empty: no
     * ext filesystem), 2 the ext4 root with its kernel in its own /boot.
     */
    public static Path gptEspAndRoot(Path tree, Path disk) throws IOException {
        Path work = Files.createDirectories(disk.resolveSibling(disk.getFileName() + ".parts"));
        long rootMib = 32 + mib(tree) * 5 / 4;
        Path rootFs = mke2fs("ext4", tree, work.resolve("root.fs"), rootMib);
        sfdisk(disk, 1 + 4 + rootMib + 1, """
                label: gpt
                start=1MiB, size=4MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
                start=5MiB, size=%dMiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
                """.formatted(rootMib));
        place(rootFs, disk, 5 * MIB);
        return disk;
    }

    /** MBR: partition 1 swap-typed (no filesystem), 2 extended, the root ext4 (with its /boot) in logical partition 5. */
    public static Path mbrWithLogicalRoot(Path tree, Path disk) throws IOException {
        Path work = Files.createDirectories(disk.resolveSibling(disk.getFileName() + ".parts"));
        long rootMib = 32 + mib(tree) * 5 / 4;
        Path rootFs = mke2fs("ext4", tree, work.resolve("root.fs"), rootMib);
        sfdisk(disk, 1 + 4 + 1 + rootMib + 2, """
                label: dos
                start=1MiB, size=4MiB, type=82
                start=5MiB, type=5
                start=6MiB, size=%dMiB, type=83
                """.formatted(rootMib));
        place(rootFs, disk, 6 * MIB);
        return disk;
    }

    /** Where sfdisk put partition {@code number}: its first byte (checked against what the tests expect). */
    public static long partitionStart(Path disk, int number) throws IOException {
        for (String line : Tools.run(TOOL, List.of("sfdisk", "--dump", disk.toString())).split("\n")) {
            if (line.startsWith(disk + String.valueOf(number) + " ")) {
                String start = line.replaceAll(".*start=\\s*(\\d+).*", "$1");
                return Long.parseLong(start) * 512;
            }
        }
        throw new IOException("no partition " + number + " in " + disk);
    }

    private static long mib(Path tree) throws IOException {
        String du = Tools.run(TOOL, List.of("du", "-s", "--block-size=1M", tree.toString()));
        return Long.parseLong(du.split("\\s+")[0]);
    }

    private static Path mke2fs(String type, Path tree, Path fs, long mib) throws IOException {
        Tools.run(TOOL, List.of("mke2fs", "-q", "-F", "-t", type, "-d", tree.toString(), fs.toString(), mib + "M"));
        return fs;
    }

    private static void sfdisk(Path disk, long mib, String script) throws IOException {
        try (FileChannel ch = FileChannel.open(disk, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(1), mib * MIB - 1);   // a sparse file of that size
        }
        Path scriptFile = Files.writeString(disk.resolveSibling(disk.getFileName() + ".sfdisk"), script);
        Tools.run(TOOL, List.of("sh", "-c", "sfdisk --quiet --no-reread --no-tell-kernel '" + disk + "' < '" + scriptFile + "'"));
    }

    private static void place(Path fs, Path disk, long offset) throws IOException {
        try (FileChannel in = FileChannel.open(fs, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            long size = in.size();
            for (long done = 0; done < size; ) done += in.transferTo(done, size - done, out.position(offset + done));
        }
    }
}
