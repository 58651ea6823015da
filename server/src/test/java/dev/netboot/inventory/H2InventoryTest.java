package dev.netboot.inventory;

import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** The inventory on embedded H2 files, as the appliance runs it by default. */
class H2InventoryTest extends InventoryContract {

    @TempDir
    Path dir;
    private final AtomicInteger n = new AtomicInteger();

    @Override
    String freshUrl() {
        return Inventory.defaultUrl(dir.resolve("db" + n.incrementAndGet()).toString());
    }
}
