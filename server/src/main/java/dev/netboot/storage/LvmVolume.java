package dev.netboot.storage;

import java.util.Optional;

/**
 * A thin volume in the store's pool as lvs reports it. {@code origin} names the volume this one is a
 * thin snapshot of (a client's clone of an image), empty for a volume made by createVolume.
 */
public record LvmVolume(String name, long sizeBytes, Optional<String> origin) {

    public LvmVolume {
        LvmNames.checkVolume(name);
        if (sizeBytes < 0) throw new IllegalArgumentException("negative size " + sizeBytes);
        origin = origin == null ? Optional.empty() : origin;
    }
}
