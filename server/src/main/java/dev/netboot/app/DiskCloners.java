package dev.netboot.app;

import dev.netboot.config.NetbootConfig;
import dev.netboot.disks.DiskCloner;
import dev.netboot.disks.FileCloner;
import dev.netboot.disks.LvmCloner;
import dev.netboot.storage.LocalCommandRunner;
import dev.netboot.storage.LvmSettings;
import dev.netboot.storage.LvmStore;

import java.nio.file.Path;

/** The cloner the configuration asks for (disks.store). */
final class DiskCloners {

    private DiskCloners() {}

    static DiskCloner forConfig(NetbootConfig.Disks disks, Path dataDir) {
        return switch (disks.store()) {
            case "file" -> new FileCloner(dataDir.resolve("disks"), dataDir);
            case "lvm" -> {
                if (disks.volumeGroup().isBlank() || disks.thinPool().isBlank()) {
                    throw new IllegalArgumentException("disks.store lvm needs disks.volumeGroup and disks.thinPool (see docs/storage.md)");
                }
                yield new LvmCloner(new LvmStore(new LvmSettings(disks.volumeGroup(), disks.thinPool()), new LocalCommandRunner()));
            }
            default -> throw new IllegalArgumentException("disks.store must be file or lvm, not '" + disks.store() + "'");
        };
    }
}
