package dev.netboot.disks;

import dev.netboot.images.ImageImporter;
import dev.netboot.images.ImportedImage;
import dev.netboot.inventory.Inventory;
import dev.netboot.storage.Progress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The kernel and modules of a system installed onto a client's own disk (a client of a blank image), read
 * out of that disk as {@code image import} reads a disk image (root on any MBR/GPT partition, /boot on its
 * own or not) into {@code <dataDir>/clients/<mac>/{boot,lib/modules}}, from which its initrd is built. Read
 * again whenever the disk was written since (a kernel upgrade inside the system is picked up at its next
 * boot); the copy is taken with the disk off the network, at boot, before the PC's initrd uses it.
 */
public final class InstalledKernels {

    private static final Logger log = LoggerFactory.getLogger(InstalledKernels.class);
    private static final String STAMP = ".disk-written";

    private final Path dir;
    private final ClientDisks disks;

    public InstalledKernels(Path dataDir, ClientDisks disks) {
        this.dir = dataDir.resolve("clients").toAbsolutePath();
        this.disks = disks;
    }

    /** The boot folder of the system on this client's disk, read out of the disk if it changed since. */
    public synchronized Path rootFor(String mac) throws IOException {
        String m = Inventory.normalizeMac(mac);
        String hex = m.replace(":", "");
        Path root = dir.resolve(hex);
        Optional<Instant> written = disks.lastWrite(m);
        if (written.isEmpty()) throw new IOException("client " + m + " has no disk");
        Path stamp = root.resolve(STAMP);
        if (Files.isRegularFile(stamp) && Files.readString(stamp).equals(written.get().toString())) return root;

        long started = System.nanoTime();
        Files.createDirectories(dir);
        Path work = dir.resolve("." + hex + ".reading");
        ImageImporter.deleteTree(work);
        Files.createDirectories(work);
        try {
            Path raw = work.resolve("disk.raw");
            disks.snapshot(m, raw, Progress.NONE);
            ImportedImage read;
            try {
                read = new ImageImporter(work).importFrom("boot", raw, OptionalLong.empty(), Progress.NONE);
            } catch (IOException e) {
                throw new IOException("the disk of client " + m + " holds no installed system to boot yet (" + e.getMessage() + ")", e);
            }
            Files.delete(read.disk()); // the disk stays the client's; only its kernel and modules are kept
            Files.writeString(read.dir().resolve(STAMP), written.get().toString());
            ImageImporter.deleteTree(root);
            Files.move(read.dir(), root, StandardCopyOption.ATOMIC_MOVE);
            log.info("client {}: kernel {} and its modules read out of its own disk in {} ms", m, read.kernelVersion(),
                    (System.nanoTime() - started) / 1_000_000);
            return root;
        } finally {
            ImageImporter.deleteTree(work);
        }
    }
}
