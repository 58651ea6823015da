package dev.netboot.disks;

import dev.netboot.storage.Progress;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;

import java.io.IOException;
import java.nio.file.Path;

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

    /** {@link Disk#CLONE} or {@link Disk#SNAPSHOT}: what the inventory records for disks made here. */
    String kind();
}
