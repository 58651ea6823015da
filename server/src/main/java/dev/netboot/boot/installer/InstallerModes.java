package dev.netboot.boot.installer;

import dev.netboot.boot.InstallModes;
import dev.netboot.inventory.Inventory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.util.Optional;

/**
 * Installer mode kept in the inventory ({@code clients.installer}, {@code clients.install_started}).
 * When an install counts as finished: the installer fetched its initrd (the install is under way), and
 * then the PC's loader asks for its menu again: that is the installer's reboot at its end, and from
 * that boot on the PC boots its disk. A PC reset before its installer fetched the initrd gets the
 * installer again; one reset after (a crash mid-install) boots its disk, and the operator arms the
 * installer again ({@code netboot client install}).
 */
public final class InstallerModes implements InstallModes {

    private static final Logger log = LoggerFactory.getLogger(InstallerModes.class);

    private final Inventory inventory;
    private final InstallerCatalog catalog;
    private final Clock clock;

    public InstallerModes(Inventory inventory, InstallerCatalog catalog, Clock clock) {
        this.inventory = inventory;
        this.catalog = catalog;
        this.clock = clock;
    }

    @Override
    public Optional<Pending> pending(String mac) {
        Optional<Inventory.InstallMode> mode = inventory.installMode(mac);
        if (mode.isEmpty()) return Optional.empty();
        String name = mode.get().installer();
        try {
            Installer i = catalog.ready(name);
            return Optional.of(new Pending(name, i.cmdline(), ""));
        } catch (IOException | RuntimeException e) {
            log.error("client {} is to boot installer {}, which cannot start: {}", mac, name, e.getMessage());
            return Optional.of(new Pending(name, "", e.getMessage()));
        }
    }

    @Override
    public String bootImage(String mac, dev.netboot.inventory.Assignment a) {
        // Only an image made blank for an install (ImageLibrary.blank) means "boot what is installed on the disk":
        // an imported image whose kernel version is unknown still boots its own kernel.
        boolean blank = inventory.image(a.imageName()).map(i -> dev.netboot.images.ImageLibrary.BLANK_SOURCE.equals(i.source())).orElse(false);
        return blank ? INSTALLED_PREFIX + Inventory.normalizeMac(mac).replace(":", "") : a.imageName();
    }

    @Override
    public void loaderAsked(String mac) {
        Optional<Inventory.InstallMode> mode = inventory.installMode(mac);
        if (mode.isEmpty() || mode.get().started().isEmpty()) return;
        inventory.setInstaller(mac, null);
        log.info("client {}: installer {} started at {} and the PC booted again: install finished, it boots its disk from now on",
                mac, mode.get().installer(), mode.get().started().get());
    }

    @Override
    public void installerFetched(String mac) {
        if (inventory.installStarted(mac, clock.instant())) {
            log.info("client {}: its installer fetched its initrd: install under way (its next boot boots the installed disk)", mac);
        }
    }

    /**
     * Switches a client with a disk to an installer: its next boot runs it. Refused, changing nothing, when
     * the installer cannot start (no definition, missing kernel, initrd or modules) or the client has no disk.
     */
    public static void arm(Inventory inventory, InstallerCatalog catalog, String mac, String installer) throws IOException {
        String m = Inventory.normalizeMac(mac);
        catalog.ready(installer);
        if (inventory.client(m).isEmpty()) throw new InstallerException("no client " + m + " (netboot client list)");
        if (inventory.assignment(m).isEmpty()) {
            throw new InstallerException("client " + m + " has no disk to install onto: give it one first (netboot clone IMAGE --to " + m + ")");
        }
        inventory.setInstaller(m, installer);
        log.info("client {}: its next network boot starts installer {} onto its disk e{}", m, installer, inventory.aoeAddress(m).orElse("?"));
    }
}
