package dev.netboot.disks;

import dev.netboot.storage.Progress;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Makes a client's disk from an image, quickly and without copying it: one implementation per kind of
 * store (copy-on-write files, LVM thin snapshots). The disk's path is what AoE exports.
 */
public interface DiskCloner {

    /** A writable disk for one client that starts as the image's content; returns the path AoE exports. */
    Path clone(Image image, String diskName) throws IOException;

    /** Deletes a disk this cloner made. */
    void delete(Disk disk) throws IOException;

    /** Makes the disk independent of its image (copies what it still reads from there), reporting progress. */
    void flatten(Disk disk, Progress progress) throws IOException;

    /** The image is gone from the inventory: drop what this store kept of it (no clones read from it any more). */
    default void imageRemoved(Image image) throws IOException {}

    /**
     * A disk to hold this server's copy of another server's disk (the replicated standby's copy of the primary's):
     * made by the same store as this server's own disks, so a standby with {@code disks.store: lvm} keeps its copies
     * in its thin pool. With {@code image} (the primary's disk is a clone or snapshot of it) a clone of the local
     * copy of that image, so only the disk's own blocks need to come; else a blank disk. {@code file} is where a
     * store of files puts it (the primary's path, under this data directory); a store of volumes names it
     * {@code diskName}. The disk has exactly {@code sizeBytes} (a client's driver never sees a size change
     * at a takeover), or is not made (IOException). Returns the path AoE exports.
     */
    Path copyOf(Optional<Image> image, String diskName, long sizeBytes, Path file) throws IOException;

    /** Whether {@code path} is a disk of this store that it may delete (a file under the data directory, a volume of the pool). */
    boolean holds(Path path) throws IOException;

    /** Deletes a disk of this store by its path ({@link #holds}); the standby knows its copies by their catalog entries. */
    void deleteCopy(Path path) throws IOException;

    /**
     * The read-only device of the image data a disk shares, where the store keeps it apart from the disk (an LVM thin
     * snapshot's origin volume); empty otherwise (a file clone's sidecar names its base itself).
     */
    default Optional<Path> originOf(Path disk) throws IOException { return Optional.empty(); }

    /** {@link #originOf} of many disks at once (a server starting with hundreds: one look at the store, not one each). */
    default java.util.Map<Path, Path> originsOf(java.util.Collection<Path> disks) throws IOException {
        java.util.Map<Path, Path> out = new java.util.HashMap<>();
        for (Path d : disks) originOf(d).ifPresent(o -> out.put(d, o));
        return out;
    }

    /** {@link Disk#CLONE} or {@link Disk#SNAPSHOT}: what the inventory records for disks made here. */
    String kind();
}
