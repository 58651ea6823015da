package dev.netboot.cli;

import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.inventory.Inventory;

/** Opens the inventory the configuration names, for the commands that read or change it. */
final class InventoryOptions {

    private InventoryOptions() {}

    static Inventory open(ConfigOptions options) throws ConfigLoader.ConfigException {
        NetbootConfig.Inventory i = options.load().inventory();
        return Inventory.open(i.url(), i.user(), i.password());
    }
}
