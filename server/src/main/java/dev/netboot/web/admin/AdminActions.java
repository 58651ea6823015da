package dev.netboot.web.admin;

import dev.netboot.disks.ClientDisks;
import dev.netboot.inventory.Assignment;
import dev.netboot.inventory.Inventory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The changes an admin makes from the pages: the same {@link ClientDisks} calls as {@code netboot
 * clone}, {@code client assign/unassign/flatten/remove}, each logged in one line saying who did what
 * to which client. A refusal is an {@link IllegalArgumentException} (or {@link IllegalStateException})
 * whose message the page shows as it is.
 */
public final class AdminActions {

    private static final Logger log = LoggerFactory.getLogger(AdminActions.class);

    private final Inventory inventory;
    private final ClientDisks disks;
    private final FlattenJobs flattens;
    private final ClientInstall installs;

    public AdminActions(Inventory inventory, ClientDisks disks, FlattenJobs flattens) {
        this(inventory, disks, flattens, ClientInstall.NONE);
    }

    public AdminActions(Inventory inventory, ClientDisks disks, FlattenJobs flattens, ClientInstall installs) {
        this.installs = installs;
        this.inventory = inventory;
        this.disks = disks;
        this.flattens = flattens;
    }

    /** {@code netboot clone IMAGE --to MAC [--replace]}: the client (registered if new) gets its own clone. */
    public Assignment assign(String who, String mac, String image, boolean replace) throws IOException {
        String m = Inventory.normalizeMac(mac);
        if (image == null || image.isBlank()) throw new IllegalArgumentException("choose an image");
        notWhileFlattening(m, "assign an image");
        Assignment a;
        try {
            a = disks.assign(m, image, replace);
        } catch (IllegalArgumentException e) {
            // The reason is the CLI's; on a page the option is a checkbox.
            throw new IllegalArgumentException(e.getMessage().replace("(--replace does it)", "(tick \"replace\" to do that)"), e);
        }
        log.info("web admin ({}): client {}: image {} assigned{}, disk e{}", who, m, image, replace ? " (replace)" : "", a.aoeAddress());
        return a;
    }

    /** {@code netboot client unassign MAC}: false when the client had no disk. */
    public boolean unassign(String who, String mac) throws IOException {
        String m = Inventory.normalizeMac(mac);
        notWhileFlattening(m, "take its disk away");
        boolean had = disks.unassign(m);
        if (had) log.info("web admin ({}): client {}: disk removed (unassigned)", who, m);
        return had;
    }

    /** Starts {@code netboot client flatten MAC} in the background; its page shows the progress. */
    public void flatten(String who, String mac) {
        String m = Inventory.normalizeMac(mac);
        if (inventory.diskOf(m).isEmpty()) throw new IllegalArgumentException("client " + m + " has no disk to flatten");
        if (!flattens.start(m, who)) throw new IllegalStateException("the disk of client " + m + " is being flattened already");
        log.info("web admin ({}): client {}: flattening its disk", who, m);
    }

    /** {@code netboot client install MAC --installer NAME [--size N]}: its next boot starts the installer. */
    public String install(String who, String mac, String installer, String size) throws IOException {
        String m = Inventory.normalizeMac(mac);
        if (installer == null || installer.isBlank()) throw new IllegalArgumentException("choose an installer");
        notWhileFlattening(m, "install onto its disk");
        java.util.OptionalLong bytes = size == null || size.isBlank() ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(parseSize(size));
        String aoe = installs.install(m, installer.trim(), bytes);
        log.info("web admin ({}): client {}: next boot starts installer {} onto disk e{}", who, m, installer, aoe);
        return aoe;
    }

    /** {@code netboot client install MAC --cancel} (as {@code ClientInstalls.cancel}): its next boot boots its disk. */
    public boolean cancelInstall(String who, String mac) {
        String m = Inventory.normalizeMac(mac);
        boolean was = inventory.installMode(m).isPresent() && inventory.setInstaller(m, null);
        if (was) log.info("web admin ({}): client {}: installer mode cancelled", who, m);
        return was;
    }

    /** "20G", "512M", "1T" or bytes. */
    static long parseSize(String text) {
        String t = text.trim().toUpperCase(java.util.Locale.ROOT).replaceAll("I?B$", "");
        long unit = 1;
        if (!t.isEmpty() && "KMGT".indexOf(t.charAt(t.length() - 1)) >= 0) {
            unit = 1L << (10 * ("KMGT".indexOf(t.charAt(t.length() - 1)) + 1));
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.parseLong(t.trim()), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("size '" + text + "' is not a size (e.g. 20G, 512M)");
        }
    }

    /** {@code netboot client remove MAC}: the client, its assignment and its disk. */
    public boolean remove(String who, String mac) throws IOException {
        String m = Inventory.normalizeMac(mac);
        notWhileFlattening(m, "remove it");
        boolean hadDisk = disks.unassign(m);
        boolean removed = inventory.removeClient(m);
        if (removed) log.info("web admin ({}): client {} removed{}", who, m, hadDisk ? " with its disk" : "");
        return removed;
    }

    private void notWhileFlattening(String mac, String what) {
        if (flattens.running(mac)) throw new IllegalStateException("the disk of client " + mac + " is being flattened; " + what + " when that is done");
    }
}
