package dev.netboot.boot.installer;

import dev.netboot.disks.ClientDisks;
import dev.netboot.images.ImageLibrary;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;

import java.io.IOException;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code netboot client install MAC --installer NAME [--size N]}, the one way a client is switched to an
 * installer (the CLI and the web admin call this). Every check comes before any change: an installer
 * that cannot start, a client without a disk and no size to make one, or a disk someone else can read
 * or write (exported to other MACs or to all) is refused with nothing changed. A client with no disk gets
 * an empty one of {@code size} bytes first (a clone of the blank image of that size), exported to its
 * MAC only, as every client disk is.
 */
public final class ClientInstalls {

    private final Inventory inventory;
    private final InstallerCatalog catalog;
    private final ClientDisks disks;
    private final ImageLibrary images;

    public ClientInstalls(Inventory inventory, InstallerCatalog catalog, ClientDisks disks, ImageLibrary images) {
        this.inventory = inventory;
        this.catalog = catalog;
        this.disks = disks;
        this.images = images;
    }

    /** @return the AoE address the installer will see as its disk ({@code shelf.slot}) */
    public String install(String mac, String installer, OptionalLong size) throws IOException {
        String m = Inventory.normalizeMac(mac);
        catalog.ready(installer);
        Optional<Disk> disk = disks.ownDisk(m, "an installer would overwrite what they read");
        if (disk.isEmpty()) {
            if (size.isEmpty()) {
                throw new InstallerException("client " + m + " has no disk: say how large a disk to make (--size, e.g. 20G), or give it an image first");
            }
            Image blank = images.blank(size.getAsLong());
            if (inventory.client(m).isEmpty()) inventory.addClient(m, "", "");
            disks.assign(m, blank.name(), false);
        }
        InstallerModes.arm(inventory, catalog, m, installer);
        return inventory.aoeAddress(m).orElseThrow();
    }

    /** Installer mode off: the next boot boots the client's disk. */
    public boolean cancel(String mac) {
        return inventory.setInstaller(Inventory.normalizeMac(mac), null);
    }
}
