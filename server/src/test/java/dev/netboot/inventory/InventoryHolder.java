package dev.netboot.inventory;

import java.io.IOException;

/**
 * A separate process that keeps the embedded inventory open the way {@code netboot serve} does, until
 * its standard input closes: what a second terminal's CLI, or another local user, finds beside it.
 */
public final class InventoryHolder {
    private InventoryHolder() {}

    public static void main(String[] args) throws IOException {
        // As netboot serve does before it opens the inventory.
        dev.netboot.app.DataDirectory.secure(java.nio.file.Path.of(args[0]));
        try (Inventory inventory = Inventory.open(Inventory.defaultUrl(args[0]), "sa", "")) {
            inventory.addClient("52:54:00:00:00:01", "held", "");
            System.out.println("ready");
            System.out.flush();
            while (System.in.read() >= 0) { /* until the test closes our stdin */ }
        }
    }
}
