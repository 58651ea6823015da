package dev.netboot.disks;

import dev.netboot.storage.Progress;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.storage.LvmStore;
import dev.netboot.storage.LvmVolume;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

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

    /**
     * A thin snapshot of the image's volume (made from the local image copy once, as for {@link #clone}) or a blank
     * thin volume: only what is written to it takes room in the pool. LVM sizes volumes in whole extents, so a disk
     * whose size is not a multiple of the group's extent size cannot be copied here with its size: refused.
     */
    @Override
    public synchronized Path copyOf(Optional<Image> image, String diskName, long sizeBytes, Path file) throws IOException {
        Path made;
        if (image.isPresent()) {
            made = clone(image.get(), diskName);
        } else {
            if (store.exists(diskName)) store.remove(diskName);   // left by a copy that crashed before the catalog recorded it
            store.createVolume(diskName, sizeBytes);
            made = store.devicePath(diskName);
        }
        long size = store.find(diskName).map(LvmVolume::sizeBytes).orElse(-1L);
        if (size != sizeBytes) {
            store.remove(diskName);
            throw new IOException("a thin volume for " + diskName + " has " + size + " bytes, the disk " + sizeBytes
                    + (image.isPresent() ? " (the snapshot has the size of image " + image.get().name() + "'s volume)" : "")
                    + ": LVM sizes volumes in whole extents (vgs -o vg_extent_size); the copy would not have the disk's size");
        }
        log.info("disk {} made as a thin {} ({} MiB)", diskName, image.map(i -> "snapshot of " + imageVolume(i.name())).orElse("volume"), sizeBytes >> 20);
        return made;
    }

    /** A client or blank volume of the pool at its device path; never an image's volume (their snapshots read from it). */
    @Override
    public boolean holds(Path path) throws IOException {
        Optional<String> name = volumeAt(path);
        return name.isPresent() && !name.get().startsWith("img-") && store.exists(name.get());
    }

    @Override
    public void deleteCopy(Path path) throws IOException {
        if (!holds(path)) throw new IOException(path + " is not a disk volume of thin pool " + store.settings().thinPool());
        store.remove(volumeAt(path).orElseThrow());
    }

    @Override
    public Optional<Path> originOf(Path disk) throws IOException {
        Optional<String> name = volumeAt(disk);
        if (name.isEmpty()) return Optional.empty();
        return store.find(name.get()).flatMap(LvmVolume::origin).map(store::devicePath);
    }

    @Override
    public java.util.Map<Path, Path> originsOf(java.util.Collection<Path> disks) throws IOException {
        java.util.Map<Path, Path> out = new java.util.HashMap<>();
        if (disks.stream().allMatch(d -> volumeAt(d).isEmpty())) return out;
        java.util.Map<String, LvmVolume> volumes = new java.util.HashMap<>();
        for (LvmVolume v : store.list()) volumes.put(v.name(), v);
        for (Path d : disks)
            volumeAt(d).map(volumes::get).flatMap(LvmVolume::origin).ifPresent(o -> out.put(d, store.devicePath(o)));
        return out;
    }

    /** The volume name of a path that is this store's device path of it ({@code /dev/VG/NAME}). */
    private Optional<String> volumeAt(Path path) {
        Path p = path.toAbsolutePath().normalize();
        if (p.getFileName() == null) return Optional.empty();
        String name = p.getFileName().toString();
        try {
            return store.devicePath(name).equals(p) ? Optional.of(name) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();   // not a valid volume name: not one of ours
        }
    }

    @Override
    public String kind() { return Disk.SNAPSHOT; }
}
