package dev.netboot.disks;

import dev.netboot.config.NetbootConfig;

import java.nio.file.Path;

/** The cloner the configuration asks for (disks.store). */
public final class DiskCloners {

    private DiskCloners() {}

    public static DiskCloner forConfig(NetbootConfig.Disks disks, Path dataDir) {
        return switch (disks.store()) {
            case "file" -> new FileCloner(dataDir.resolve("disks"));
            case "lvm" -> throw new IllegalArgumentException("disks.store lvm is not wired yet");
            default -> throw new IllegalArgumentException("disks.store must be file or lvm, not '" + disks.store() + "'");
        };
    }
}
