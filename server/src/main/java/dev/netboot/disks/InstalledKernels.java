package dev.netboot.disks;

import dev.netboot.images.ImageImporter;
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

/**
 * The kernel and modules of a system installed onto a client's own disk (a client of a blank image), read
 * out of that disk as {@code image import} reads a disk image (root on any MBR/GPT partition, /boot on its
 * own or not) into {@code <dataDir>/clients/<mac>/{boot,lib/modules}}, from which its initrd is built.
 * <p>
 * Cheap at every boot: nothing is read while the disk is unwritten since the last read (its files'
 * modification time, {@code .disk-written}). A running system writes at every boot, so after a write the
 * disk is read in place ({@link ClientDisks#readOffline}: no copy) and only its partition table and the
 * listings of /boot and the modules folders are compared with what was read last
 * ({@link ImageImporter#kernelFingerprint}, {@code .kernel-fingerprint}); kernel and modules are read out
 * again only when those changed (a kernel upgrade is picked up at the next boot). The disk is off the
 * network meanwhile, at boot, before the PC's initrd uses it.
 */
public final class InstalledKernels {

    private static final Logger log = LoggerFactory.getLogger(InstalledKernels.class);
    private static final String STAMP = ".disk-written";
    private static final String FINGERPRINT = ".kernel-fingerprint";

    private final Path dir;
    private final ClientDisks disks;

    public InstalledKernels(Path dataDir, ClientDisks disks) {
        this.dir = dataDir.resolve("clients").toAbsolutePath();
        this.disks = disks;
    }

    /** The boot folder of the system on this client's disk, read out of the disk if its kernels changed since. */
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
            disks.readOffline(m, work.resolve("disk.raw"), disk -> {
                String fingerprint = ImageImporter.kernelFingerprint(disk);
                Path known = root.resolve(FINGERPRINT);
                if (Files.isRegularFile(known) && Files.readString(known).equals(fingerprint)) {
                    Files.writeString(stamp, written.get().toString());
                    log.info("client {}: its disk was written, its kernels did not change ({} ms to look)", m, (System.nanoTime() - started) / 1_000_000);
                    return null;
                }
                Path read = Files.createDirectories(work.resolve("system"));
                String version;
                try {
                    version = ImageImporter.readSystem(disk, read, Progress.NONE);
                } catch (IOException e) {
                    throw new IOException("the disk of client " + m + " holds no installed system to boot yet (" + e.getMessage() + ")", e);
                }
                Files.writeString(read.resolve(FINGERPRINT), fingerprint);
                Files.writeString(read.resolve(STAMP), written.get().toString());
                ImageImporter.deleteTree(root);
                Files.move(read, root, StandardCopyOption.ATOMIC_MOVE);
                log.info("client {}: kernel {} and its modules read out of its own disk in {} ms", m, version, (System.nanoTime() - started) / 1_000_000);
                return null;
            });
            return root;
        } finally {
            ImageImporter.deleteTree(work);
        }
    }
}
