package dev.netboot.boot.installer;

import dev.netboot.aoe.TargetAddress;
import dev.netboot.disks.AoeActivity;
import dev.netboot.disks.ClientDisks;
import dev.netboot.disks.DiskCapture;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.disks.DiskExports;
import dev.netboot.disks.FileCloner;
import dev.netboot.disks.InstalledKernels;
import dev.netboot.images.ImageLibrary;
import dev.netboot.images.InstalledDisk;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.storage.BlockStore;
import dev.netboot.storage.BlockStores;
import dev.netboot.storage.CowBlockStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code client install} and {@code image capture} over a real H2 inventory, copy-on-write disks, a disk
 * catalog and an installed system's disk made with sfdisk and mke2fs: what is refused changes nothing;
 * a client without a disk gets an empty one exported to it alone; the system written onto it is what a
 * client of a blank image boots (its own kernel) and what a capture turns into an image.
 */
class ClientInstallsTest {

    static final String A = "52:54:00:00:00:0a";
    static final String B = "52:54:00:00:00:0b";
    static final long MIB = 1 << 20;

    @TempDir Path dir;
    Inventory inventory;
    DiskCatalog catalog;
    ClientDisks disks;
    ImageLibrary images;
    ClientInstalls installs;
    final List<String> exportCalls = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        inventory = Inventory.open(Inventory.defaultUrl(dir.resolve("db").toString()), "sa", "");
        catalog = new DiskCatalog(dir);
        disks = new ClientDisks(inventory, catalog, new FileCloner(dir.resolve("disks")), 1, Clock.systemUTC(), new DiskExports() {
            @Override public void export(DiskEntry entry) { exportCalls.add("+" + entry.address() + " " + entry.allowedMacs()); }
            @Override public void withdraw(TargetAddress address) { exportCalls.add("-" + address); }
        });
        images = new ImageLibrary(inventory, dir, Clock.systemUTC());
        InstallerCatalog installers = new InstallerCatalog(dir.resolve("defs"), dir.resolve("installers"));
        installs = new ClientInstalls(inventory, installers, disks, images);
        Path home = Files.createDirectories(dir.resolve("installers/debian"));
        Files.write(home.resolve("linux"), InstallerModeTest.kernel("6.1.0-99-amd64"));
        Files.writeString(home.resolve("initrd.gz"), "initrd");
        Files.createDirectories(home.resolve("modules/lib/modules/6.1.0-99-amd64"));
    }

    @AfterEach
    void tearDown() { inventory.close(); }

    @Test
    void aClientWithoutDiskNeedsASizeAndThenGetsAnEmptyDiskOfItsOwn() throws Exception {
        assertThatThrownBy(() -> installs.install(A, "debian", OptionalLong.empty())).hasMessageContaining("has no disk: say how large");
        assertThat(inventory.client(A)).isEmpty();
        assertThat(inventory.disks()).isEmpty();

        assertThat(installs.install(A, "debian", OptionalLong.of(100 * MIB))).isEqualTo("1.0");
        assertThat(inventory.assignment(A).orElseThrow().imageName()).isEqualTo("blank-100m");
        assertThat(inventory.image("blank-100m").orElseThrow().kernelVersion()).isNullOrEmpty();
        assertThat(catalog.find(TargetAddress.parse("1.0")).orElseThrow().allowedMacs()).containsExactly(A);
        assertThat(inventory.installMode(A).orElseThrow().installer()).isEqualTo("debian");
        // The same size again is the same blank image.
        installs.install(B, "debian", OptionalLong.of(100 * MIB - 5));
        assertThat(inventory.images()).extracting(Image::name).containsExactly("blank-100m");
    }

    @Test
    void aMissingKernelIsRefusedBeforeADiskIsMade() throws Exception {
        Files.delete(dir.resolve("installers/debian/linux"));
        assertThatThrownBy(() -> installs.install(A, "debian", OptionalLong.of(100 * MIB))).hasMessageContaining("kernel").hasMessageContaining("is missing");
        assertThat(inventory.client(A)).isEmpty();
        assertThat(inventory.images()).isEmpty();
        assertThat(catalog.list()).isEmpty();
    }

    @Test
    void aDiskAnotherClientCanReadIsNotInstalledOnto() throws Exception {
        installs.install(A, "debian", OptionalLong.of(100 * MIB));
        installs.cancel(A);
        DiskEntry shared = new DiskEntry("1.0", inventory.diskOf(A).orElseThrow().path(), List.of(A, B), false, false);
        catalog.replace(shared);
        assertThatThrownBy(() -> installs.install(A, "debian", OptionalLong.empty()))
                .hasMessageContaining("is exported as e1.0 to other clients too: " + B);
        assertThat(inventory.installMode(A)).isEmpty();
        // Nor captured: the same check (ClientDisks.ownDisk) before a capture.
        DiskCapture capture = new DiskCapture(inventory, disks, images, Clock.systemUTC(), Duration.ZERO);
        assertThatThrownBy(() -> capture.capture(A, "shared-copy", dev.netboot.storage.Progress.NONE))
                .hasMessageContaining("is exported as e1.0 to other clients too: " + B).hasMessageContaining("could write it while it is copied");
        assertThat(inventory.image("shared-copy")).isEmpty();
        assertThat(catalog.list()).containsExactly(shared);
    }

    @Test
    void anInstalledSystemBootsItsOwnKernelAndIsCapturedOnlyOnceItsClientIsOff() throws Exception {
        installs.install(A, "debian", OptionalLong.of(100 * MIB));
        Path clientDisk = writeInstalledSystem(A, "6.1.0-inst", "the installed kernel");

        InstalledKernels kernels = new InstalledKernels(dir, disks);
        Path root = kernels.rootFor(A);
        assertThat(Files.readString(root.resolve("boot/vmlinuz-6.1.0-inst"))).isEqualTo("the installed kernel");
        assertThat(root.resolve("lib/modules/6.1.0-inst/modules.dep")).exists();
        assertThat(root.resolve("disk.img")).doesNotExist();
        assertThat(catalog.find(TargetAddress.parse("1.0"))).as("exported again after the copy").isPresent();

        DiskCapture capture = new DiskCapture(inventory, disks, images, Clock.systemUTC(), Duration.ofSeconds(60));
        assertThatThrownBy(() -> capture.capture(A, "captured", dev.netboot.storage.Progress.NONE))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("wrote to its disk").hasMessageContaining("it is running");
        assertThat(inventory.image("captured")).isEmpty();
        assertThat(images.imagesDir().resolve("captured")).doesNotExist();

        FileTime old = FileTime.from(Instant.now().minusSeconds(120));
        Files.setLastModifiedTime(clientDisk, old);
        Files.setLastModifiedTime(CowBlockStore.sidecarOf(clientDisk), old);
        // Its files unwritten for two minutes, but the AoE server heard its driver 5 s ago (a client that only
        // reads, or a disk on LVM whose device node has no write time): running all the same.
        AoeActivity activity = AoeActivity.of(catalog);
        activity.write(java.util.Map.of(TargetAddress.parse("1.0"), Instant.now().minusSeconds(5)));
        assertThatThrownBy(() -> capture.capture(A, "captured", dev.netboot.storage.Progress.NONE))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("used its disk over AoE").hasMessageContaining("it is running");
        assertThat(inventory.image("captured")).isEmpty();
        activity.write(java.util.Map.of(TargetAddress.parse("1.0"), Instant.now().minusSeconds(300)));
        List<Long> progress = new ArrayList<>();
        Image image = capture.capture(A, "captured", (phase, done, total) -> progress.add(done));
        assertThat(image.kernelVersion()).isEqualTo("6.1.0-inst");
        assertThat(image.source()).isEqualTo("client " + A + " disk client-52540000000a");
        assertThat(progress).isNotEmpty();
        assertThat(Files.readString(Path.of(image.path()).resolve("boot/vmlinuz-6.1.0-inst"))).isEqualTo("the installed kernel");
        assertThat(images.imagesDir().resolve(".captured.capture.raw")).doesNotExist();
        // Another client is cloned from it as from any image.
        assertThat(disks.assign(B, "captured", false).imageName()).isEqualTo("captured");
        // Its clones are not blank underneath: read from a sparse copy.
        Path scratch = dir.resolve("scratch.raw");
        Path copied = disks.readOffline(B, scratch, raw -> raw);
        assertThat(copied).isEqualTo(scratch);
        assertThat(Files.size(scratch)).isEqualTo(100 * MIB);
    }

    /** What an installer leaves (GPT, an ESP, the root with its kernel in /boot) written onto the client's disk through its store. */
    Path writeInstalledSystem(String mac, String version, String kernel) throws Exception {
        Path tree = dir.resolve("tree-" + version);
        Files.createDirectories(tree.resolve("boot"));
        Files.writeString(tree.resolve("boot/vmlinuz-" + version), kernel);
        Files.createDirectories(tree.resolve("lib/modules/" + version));
        Files.writeString(tree.resolve("lib/modules/" + version + "/modules.dep"), "");
        Files.createDirectories(tree.resolve("sbin"));
        Files.writeString(tree.resolve("sbin/init"), "#!/bin/sh\n");
        Path installed = InstalledDisk.gptWithBootPartition(tree, dir.resolve("installed-" + version + ".raw"));
        Path clientDisk = Path.of(inventory.diskOf(mac).orElseThrow().path());
        try (BlockStore store = BlockStores.open(clientDisk, false, false); FileChannel in = FileChannel.open(installed, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate((int) MIB);
            for (long pos = 0; pos < in.size(); pos += MIB) {
                buf.clear();
                in.read(buf, pos);
                buf.flip();
                store.write(pos, buf);
            }
            store.flush();
        }
        return clientDisk;
    }

    void writeAt(String mac, long offset, String text) throws Exception {
        try (BlockStore store = BlockStores.open(Path.of(inventory.diskOf(mac).orElseThrow().path()), false, false)) {
            store.write(offset, ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            store.flush();
        }
    }

    void makeOld(Path clientDisk) throws Exception {
        FileTime old = FileTime.from(Instant.now().minusSeconds(120));
        Files.setLastModifiedTime(clientDisk, old);
        Files.setLastModifiedTime(CowBlockStore.sidecarOf(clientDisk), old);
    }

    @Test
    void anInstalledDiskIsReadAgainOnlyWhenItsKernelsChangeAndInPlace() throws Exception {
        installs.install(A, "debian", OptionalLong.of(100 * MIB));
        Path clientDisk = writeInstalledSystem(A, "6.1.0-inst", "the installed kernel");
        makeOld(clientDisk);
        InstalledKernels kernels = new InstalledKernels(dir, disks);
        Path root = kernels.rootFor(A);
        assertThat(Files.readString(root.resolve("boot/vmlinuz-6.1.0-inst"))).isEqualTo("the installed kernel");
        // A mark of this read: a second read out of the disk replaces the folder, and the mark with it.
        Files.writeString(root.resolve("read-once"), "");

        // The running system writes (its logs, its journal): here into the gap before the first partition.
        writeAt(A, 40 * 512, "a running system's write");
        assertThat(kernels.rootFor(A)).isEqualTo(root);
        assertThat(root.resolve("read-once")).as("kernels unchanged: not read out again").exists();
        assertThat(dir.resolve("clients/.52540000000a.reading")).doesNotExist();
        Path viewed = disks.readOffline(A, dir.resolve("scratch.raw"), raw -> raw);
        assertThat(viewed).as("a clone of a blank image is read in place").isEqualTo(clientDisk);

        // A kernel upgrade: read out again at the next boot.
        makeOld(clientDisk);
        writeInstalledSystem(A, "6.1.0-new", "the upgraded kernel");
        Path again = kernels.rootFor(A);
        assertThat(again.resolve("read-once")).doesNotExist();
        assertThat(Files.readString(again.resolve("boot/vmlinuz-6.1.0-new"))).isEqualTo("the upgraded kernel");
        assertThat(catalog.find(TargetAddress.parse("1.0"))).as("exported again after the reads").isPresent();
        assertThat(exportCalls).as("off the network while read").contains("-1.0");
    }
}
