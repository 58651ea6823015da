package dev.netboot.images;

import dev.netboot.storage.Progress;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Imports with the real tools (GNU tar, mke2fs, debugfs) and reads the result back with debugfs. */
class ImageImporterTest {

    private static final String KERNEL = TestRootfs.KERNEL;

    @TempDir
    Path dir;

    private Path tree(String name) throws IOException {
        return TestRootfs.create(dir.resolve(name));
    }

    private ImageImporter importer() { return new ImageImporter(dir.resolve("data/images")); }

    private static String debugfs(Path disk, String request) throws IOException {
        return Tools.run(Duration.ofSeconds(30), List.of("debugfs", "-R", request, disk.toString()));
    }

    @Test
    void aFolderBecomesAnExt4DiskWithTheKernelAndModulesBeside() throws Exception {
        List<String> phases = new ArrayList<>();
        ImportedImage image = importer().importFrom("demo", tree("t"), OptionalLong.empty(), (p, d, t) -> phases.add(p));

        assertThat(image.kernelVersion()).isEqualTo(KERNEL);
        assertThat(image.dir()).isEqualTo(dir.resolve("data/images/demo"));
        assertThat(Files.readString(image.dir().resolve("boot/vmlinuz-" + KERNEL))).isEqualTo("kernel bytes");
        assertThat(image.dir().resolve("lib/modules/" + KERNEL + "/modules.dep")).exists();
        assertThat(image.dir().resolve("lib/modules/" + KERNEL + "/kernel/drivers/block/aoe/aoe.ko")).exists();
        assertThat(debugfs(image.disk(), "cat /etc/hostname")).isEqualTo("imported-t\n");
        assertThat(debugfs(image.disk(), "stat /lib")).contains("Type: symlink").contains("usr/lib");
        assertThat(debugfs(image.disk(), "stat /root/secret")).contains("Mode:  0600");
        assertThat(image.sizeBytes()).isEqualTo(Files.size(image.disk())).isGreaterThanOrEqualTo(64L << 20);
        assertThat(phases).anyMatch(p -> p.startsWith("building a"));
        assertThat(dir.resolve("data/images")).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith("."));
    }

    @Test
    void anAbsoluteSymlinkMeansThePathInsideTheTreeNotOnThisServer() throws Exception {
        Path root = dir.resolve("abs");
        Files.createDirectories(root.resolve("usr/lib/modules/" + KERNEL));
        Files.writeString(root.resolve("usr/lib/modules/" + KERNEL + "/modules.dep"), "");
        Files.createSymbolicLink(root.resolve("lib"), Path.of("/usr/lib")); // on the host this is the server's /usr/lib
        Files.createDirectories(root.resolve("boot"));
        Files.writeString(root.resolve("boot/vmlinuz-" + KERNEL), "k");

        assertThat(new RootTree(root).resolve("lib/modules")).isEqualTo(root.toAbsolutePath().resolve("usr/lib/modules"));
        assertThat(ImageImporter.kernelVersion(new RootTree(root))).isEqualTo(KERNEL);
        assertThat(new RootTree(root).resolve("../../etc")).isEqualTo(root.toAbsolutePath().resolve("etc"));
    }

    @Test
    void aTarballKeepsOwnersAndModes() throws Exception {
        Path root = tree("tar");
        Tools.run(Duration.ofSeconds(30), List.of("chown", "4321:4321", root.resolve("etc/hostname").toString()));
        Path tarball = dir.resolve("rootfs.tar.gz");
        Tools.run(Duration.ofSeconds(30), List.of("tar", "--numeric-owner", "-czf", tarball.toString(), "-C", root.toString(), "."));

        ImportedImage image = importer().importFrom("fromtar", tarball, OptionalLong.of(96L << 20), Progress.NONE);

        assertThat(image.sizeBytes()).isEqualTo(96L << 20);
        assertThat(debugfs(image.disk(), "stat /etc/hostname")).contains("User:  4321").contains("Group:  4321");
        assertThat(debugfs(image.disk(), "stat /root/secret")).contains("Mode:  0600");
        assertThat(dir.resolve("data/images/fromtar/rootfs")).doesNotExist();
    }

    @Test
    void aRawDiskImageBareOrPartitionedIsCopiedSparselyAndItsKernelReadOut() throws Exception {
        ImportedImage first = importer().importFrom("first", tree("raw"), OptionalLong.of(80L << 20), Progress.NONE);
        Path bare = first.disk();

        ImportedImage fromBare = importer().importFrom("bare", bare, OptionalLong.empty(), Progress.NONE);
        assertThat(fromBare.kernelVersion()).isEqualTo(KERNEL);
        assertThat(Files.readString(fromBare.dir().resolve("boot/vmlinuz-" + KERNEL))).isEqualTo("kernel bytes");
        assertThat(fromBare.dir().resolve("lib/modules/" + KERNEL + "/kernel/drivers/block/aoe/aoe.ko")).exists();
        assertThat(Files.mismatch(bare, fromBare.disk())).isEqualTo(-1);
        long allocated = Long.parseLong(Tools.run(Duration.ofSeconds(5), List.of("stat", "-c", "%b", fromBare.disk().toString())).strip()) * 512;
        assertThat(allocated).as("holes stay holes").isLessThan(Files.size(bare) / 2);

        Path partitioned = dir.resolve("partitioned.img");
        writeMbrDisk(bare, partitioned, 2048);
        List<long[]> progress = new ArrayList<>();
        ImportedImage fromPartition = importer().importFrom("part", partitioned, OptionalLong.empty(), (p, d, t) -> {
            if (t > 0) progress.add(new long[]{d, t});
        });
        assertThat(fromPartition.kernelVersion()).isEqualTo(KERNEL);
        assertThat(progress.getLast()).containsExactly(Files.size(partitioned), Files.size(partitioned));
    }

    @Test
    void anInstalledSystemsDiskImportsWithItsRootOnALaterPartitionAndItsKernelOnABootPartition() throws Exception {
        Path disk = InstalledDisk.gptWithBootPartition(tree("installed"), dir.resolve("installed.img"));
        assertThat(DiskLayout.extFilesystems(disk)).as("the EFI partition holds no ext filesystem").containsExactly(
                new DiskLayout.ExtFilesystem(2, InstalledDisk.partitionStart(disk, 2)),
                new DiskLayout.ExtFilesystem(3, InstalledDisk.partitionStart(disk, 3)));

        ImportedImage image = importer().importFrom("installed", disk, OptionalLong.empty(), Progress.NONE);

        assertThat(image.kernelVersion()).isEqualTo(KERNEL);
        assertThat(Files.readString(image.dir().resolve("boot/vmlinuz-" + KERNEL))).as("from the /boot partition").isEqualTo("kernel bytes");
        assertThat(image.dir().resolve("lib/modules/" + KERNEL + "/kernel/drivers/block/aoe/aoe.ko")).as("from the root").exists();
        assertThat(Files.mismatch(disk, image.disk())).as("the whole disk, partition table included").isEqualTo(-1);
    }

    @Test
    void aRootInALogicalPartitionIsFoundBehindTheExtendedOne() throws Exception {
        Path disk = InstalledDisk.mbrWithLogicalRoot(tree("logical"), dir.resolve("logical.img"));
        assertThat(DiskLayout.extFilesystems(disk)).containsExactly(new DiskLayout.ExtFilesystem(5, InstalledDisk.partitionStart(disk, 5)));

        ImportedImage image = importer().importFrom("logical", disk, OptionalLong.empty(), Progress.NONE);
        assertThat(image.kernelVersion()).isEqualTo(KERNEL);
    }

    @Test
    void aDiskWhoseFilesystemsHoldNoKernelSaysWhereItLooked() throws Exception {
        Path root = tree("nomodules");
        Tools.run(Duration.ofSeconds(30), List.of("rm", "-rf", root.resolve("usr/lib/modules").toString()));
        Path disk = InstalledDisk.gptWithBootPartition(root, dir.resolve("nomodules.img"));
        assertThatThrownBy(() -> importer().importFrom("x", disk, OptionalLong.empty(), Progress.NONE))
                .hasMessageContaining("no /lib/modules/VERSION in any of its ext filesystems (partition 2, partition 3)");
        assertThat(dir.resolve("data/images")).isEmptyDirectory();
    }

    /** A disk with an MBR whose first partition (type 0x83) starts at {@code startSector} and holds {@code fs}. */
    private static void writeMbrDisk(Path fs, Path disk, long startSector) throws IOException {
        long fsSize = Files.size(fs);
        try (RandomAccessFile out = new RandomAccessFile(disk.toFile(), "rw")) {
            ByteBuffer mbr = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
            mbr.put(446 + 4, (byte) 0x83);
            mbr.putInt(446 + 8, (int) startSector);
            mbr.putInt(446 + 12, (int) (fsSize / 512));
            mbr.putShort(510, (short) 0xAA55);
            out.write(mbr.array());
            out.seek(startSector * 512);
            out.write(Files.readAllBytes(fs));
        }
    }

    @Test
    void whatIsNotAnImageIsRefusedWithTheReasonAndLeavesNothing() throws Exception {
        Path noKernel = Files.createDirectories(dir.resolve("nokernel/etc"));
        assertThatThrownBy(() -> importer().importFrom("x", noKernel.getParent(), OptionalLong.empty(), Progress.NONE))
                .hasMessageContaining("no lib/modules");
        Path junk = Files.write(dir.resolve("junk.bin"), new byte[4096]);
        assertThatThrownBy(() -> importer().importFrom("x", junk, OptionalLong.empty(), Progress.NONE))
                .hasMessageContaining("neither a folder, a tar archive, nor a disk image");
        assertThatThrownBy(() -> importer().importFrom("../evil", tree("n"), OptionalLong.empty(), Progress.NONE))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> importer().importFrom("small", tree("s"), OptionalLong.of(4096), Progress.NONE))
                .hasMessageContaining("too small");
        assertThat(dir.resolve("data/images")).isEmptyDirectory();
    }

    @Test
    void anImageThatClonesStillReadFromCannotBeRemoved() throws Exception {
        try (Inventory inventory = Inventory.open("jdbc:h2:mem:images" + System.nanoTime() + ";DB_CLOSE_DELAY=-1", "sa", "")) {
            ImageLibrary library = new ImageLibrary(inventory, dir.resolve("data"), Clock.systemUTC());
            Image image = library.importImage("demo", tree("lib"), OptionalLong.empty(), "a demo", Progress.NONE);
            assertThat(library.list()).extracting(Image::name).containsExactly("demo");
            assertThatThrownBy(() -> library.importImage("demo", tree("lib2"), OptionalLong.empty(), "", Progress.NONE))
                    .hasMessageContaining("exists already");

            inventory.addDisk("client-a", image.id(), "/x/a.cow", image.sizeBytes(), Disk.CLONE, image.created());
            assertThatThrownBy(() -> library.remove("demo")).isInstanceOf(InventoryException.class).hasMessageContaining("client-a");
            assertThat(Path.of(image.path())).exists();

            inventory.setDiskKind("client-a", Disk.STANDALONE); // flattened: reads nothing from the image any more
            assertThat(library.remove("demo")).isTrue();
            assertThat(Path.of(image.path())).doesNotExist();
            assertThat(inventory.disk("client-a")).get().extracting(Disk::imageName).isEqualTo("");
        }
    }
}
