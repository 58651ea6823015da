package dev.netboot.cli;

import dev.netboot.config.ConfigLoader;
import dev.netboot.app.Services;
import dev.netboot.disks.ClientDisks;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import picocli.CommandLine.Mixin;

import java.io.IOException;
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
            try (Services services = new Services(configOptions.load(), Clock.systemUTC())) {
                return run(services.clientDisks(), services.inventory());
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
