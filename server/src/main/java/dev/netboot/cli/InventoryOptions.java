package dev.netboot.cli;

import dev.netboot.config.ConfigLoader;
import dev.netboot.app.Services;
import dev.netboot.inventory.Inventory;

import java.time.Clock;

/** Opens the inventory the configuration names, for the commands that read or change it. */
final class InventoryOptions {

    private InventoryOptions() {}

    static Inventory open(ConfigOptions options) throws ConfigLoader.ConfigException {
        return new Services(options.load(), Clock.systemUTC()).inventory();
    }
}
