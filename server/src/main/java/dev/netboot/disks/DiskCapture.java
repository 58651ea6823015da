package dev.netboot.disks;

import dev.netboot.images.ImageLibrary;
import dev.netboot.images.ImageName;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.storage.Progress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code netboot image capture MAC NAME}: a client's disk becomes an image other clients are cloned from.
 * The client must be off: a disk the AoE server heard its client use within {@code quiet}
 * ({@link AoeActivity}: reads count too, and it works for disks on LVM, whose device nodes tell no write
 * time), or whose files were written within {@code quiet}, counts as in use by a running system and is
 * refused (a running system has its filesystems mounted and its writes half-done). The copy is taken with
 * the disk off the network ({@link ClientDisks#snapshot}), so nothing changes under it; then it is imported
 * like any disk image (its root partition and kernel found as {@code image import} finds them) and its
 * source recorded as that client's disk.
 */
public final class DiskCapture {

    private static final Logger log = LoggerFactory.getLogger(DiskCapture.class);

    private final Inventory inventory;
    private final ClientDisks disks;
    private final ImageLibrary images;
    private final Clock clock;
    private final Duration quiet;

    /** @param quiet how long a disk must have gone unwritten for its client to count as off */
    public DiskCapture(Inventory inventory, ClientDisks disks, ImageLibrary images, Clock clock, Duration quiet) {
        this.inventory = inventory;
        this.disks = disks;
        this.images = images;
        this.clock = clock;
        this.quiet = quiet;
    }

    public Image capture(String mac, String name, Progress progress) throws IOException {
        String m = Inventory.normalizeMac(mac);
        ImageName.check(name);
        if (inventory.image(name).isPresent()) throw new IllegalArgumentException("image " + name + " exists already");
        Disk disk = disks.ownDisk(m, "they could write it while it is copied")
                .orElseThrow(() -> new IllegalArgumentException("client " + m + " has no disk to capture"));
        Optional<Instant> heard = disks.lastAoeFrame(m);
        if (heard.isPresent()) {
            Duration ago = Duration.between(heard.get(), clock.instant());
            if (ago.compareTo(quiet) < 0) {
                throw new IllegalStateException("client " + m + " used its disk over AoE " + Math.max(0, ago.toSeconds()) + " s ago (the AoE server heard it): "
                        + "it is running. Shut it down, then capture (its disk must be silent for " + quiet.toSeconds() + " s)");
            }
        }
        Optional<Instant> written = disks.lastWrite(m);
        if (written.isPresent()) {
            Duration ago = Duration.between(written.get(), clock.instant());
            if (ago.compareTo(quiet) < 0) {
                throw new IllegalStateException("client " + m + " wrote to its disk " + Math.max(0, ago.toSeconds()) + " s ago: it is running. "
                        + "Shut it down, then capture (a disk must be unwritten for " + quiet.toSeconds() + " s)");
            }
        }
        if (inventory.installMode(m).flatMap(Inventory.InstallMode::started).isPresent()) {
            throw new IllegalStateException("client " + m + " is in the middle of an install (netboot client install " + m + " --cancel first)");
        }
        Path raw = images.imagesDir().resolve("." + name + ".capture.raw");
        Files.createDirectories(raw.getParent());
        Files.deleteIfExists(raw);
        long started = System.nanoTime();
        try {
            disks.snapshot(m, raw, progress);
            Image image = images.importImage(name, raw, OptionalLong.empty(), "captured from client " + m,
                    "client " + m + " disk " + disk.name(), progress);
            log.info("image {} captured from client {} (disk {}) in {} s", name, m, disk.name(), (System.nanoTime() - started) / 1_000_000_000L);
            return image;
        } finally {
            Files.deleteIfExists(raw);
        }
    }
}
