package dev.netboot.inventory;

import java.time.Instant;

/**
 * A client's disk.
 *
 * @param kind     {@link #CLONE} (copy-on-write file over the image), {@link #SNAPSHOT} (LVM thin snapshot)
 *                 or {@link #STANDALONE} (flattened: no longer needs its image)
 * @param imageName the image it was cloned from ("" when that is no longer recorded)
 */
public record Disk(long id, String name, String imageName, String path, long sizeBytes, String kind, Instant created) {

    public static final String CLONE = "clone";
    public static final String SNAPSHOT = "snapshot";
    public static final String STANDALONE = "standalone";

    /** Whether the disk still reads from its image: such an image cannot be removed. */
    public boolean dependsOnImage() { return !STANDALONE.equals(kind); }
}
