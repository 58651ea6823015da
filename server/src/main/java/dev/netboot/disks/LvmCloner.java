package dev.netboot.disks;

import dev.netboot.storage.Progress;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.storage.LvmStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Client disks as LVM thin snapshots (the classic one-volume-per-client setup, without the copies): an
 * image's disk.img is copied once into a thin volume {@code img-NAME}, and every client disk is a thin
 * snapshot of it — instant, sharing the image's blocks in the pool until the client overwrites them.
 */
public final class LvmCloner implements DiskCloner {

    private static final Logger log = LoggerFactory.getLogger(LvmCloner.class);

    private final LvmStore store;

    public LvmCloner(LvmStore store) { this.store = store; }

    static String imageVolume(String imageName) { return "img-" + imageName; }

    @Override
    public synchronized Path clone(Image image, String diskName) throws IOException {
        String origin = imageVolume(image.name());
        if (!store.exists(origin)) {
            // First clone of this image on this store: its volume is filled once, later clones are snapshots.
            log.info("copying image {} into thin volume {} (once per image)", image.name(), origin);
            long[] lastLogged = {0};
            store.importImage(origin, Path.of(image.diskPath()), (phase, done, total) -> {
                if (done - lastLogged[0] >= (256L << 20) || done == total) {
                    log.info("image {} into {}: {} of {} MiB", image.name(), origin, done >> 20, total >> 20);
                    lastLogged[0] = done;
                }
            });
        }
        if (store.exists(diskName)) store.remove(diskName); // left by an assign that crashed before the inventory recorded it
        store.clone(origin, diskName);
        return store.devicePath(diskName);
    }

    @Override
    public void delete(Disk disk) throws IOException {
        if (store.exists(disk.name())) store.remove(disk.name());
    }

    /** A thin snapshot copies nothing from its origin; LVM has no way to detach it, so there is nothing to flatten. */
    @Override
    public void flatten(Disk disk, Progress progress) {
        throw new IllegalArgumentException("disk " + disk.name() + " is an LVM thin snapshot: it shares blocks with the image's volume in the pool "
                + "and LVM cannot detach it; the image's volume stays while snapshots of it exist");
    }

    @Override
    public void imageRemoved(Image image) throws IOException {
        String origin = imageVolume(image.name());
        if (store.exists(origin)) store.remove(origin);
    }

    @Override
    public String kind() { return Disk.SNAPSHOT; }
}
