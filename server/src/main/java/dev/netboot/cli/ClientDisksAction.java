package dev.netboot.cli;

import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.disks.ClientDisks;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskCloners;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;

/**
 * A command that gives clients disks: the inventory, the disk catalog and the configured store together.
 * A running server sees the catalog change within aoe.catalogPollMillis and exports the disk.
 */
abstract class ClientDisksAction implements Callable<Integer> {

    @Mixin
    ConfigOptions configOptions;

    abstract int run(ClientDisks disks, Inventory inventory) throws IOException;

    @Override
    public Integer call() {
        try {
            NetbootConfig config = configOptions.load();
            Path dataDir = Path.of(config.dataDir());
            try (Inventory inventory = InventoryOptions.open(configOptions)) {
                ClientDisks disks = new ClientDisks(inventory, new DiskCatalog(dataDir), DiskCloners.forConfig(config.disks(), dataDir),
                        config.disks().shelf(), Clock.systemUTC(), () -> {});
                return run(disks, inventory);
            }
        } catch (ConfigLoader.ConfigException e) {
            System.err.println("netboot: " + e.getMessage());
            return 2;
        } catch (IOException | IllegalArgumentException | IllegalStateException | InventoryException e) {
            System.err.println("netboot: " + e.getMessage());
            return 1;
        }
    }
}
