package dev.netboot.boot;

import java.util.Optional;

/**
 * Which clients boot an installer instead of their system (installer mode), as {@link Booter} needs it.
 * The mode is a one-shot: armed by the operator, under way once the installer fetched its initrd, and
 * over at the client's next boot (its next menu request), which is the installer's reboot into the
 * installed system.
 */
public interface InstallModes {

    /**
     * @param installer the installer's name
     * @param cmdline   its extra kernel command line
     * @param problem   why it cannot start (its files are missing), "" when it can
     */
    record Pending(String installer, String cmdline, String problem) {}

    /** The installer this MAC boots next, if it is in installer mode. Reads only. */
    Optional<Pending> pending(String mac);

    /** The loader of this MAC asked for its menu: a new boot. Ends an install that was under way. */
    void loaderAsked(String mac);

    /** The installer of this MAC fetched its initrd: its install is under way. */
    void installerFetched(String mac);

    /** Prefix of the image name under which a client boots the system installed on its own disk. */
    String INSTALLED_PREFIX = "installed-";

    /**
     * The image whose kernel and initrd this client boots: its own, or, for a client of a blank image (a
     * disk made to install onto), {@code installed-<mac as 12 hex digits>}: the kernel the installer put
     * onto its disk.
     */
    default String bootImage(String mac, dev.netboot.inventory.Assignment a) { return a.imageName(); }

    /** The MAC of an {@code installed-<mac>} image name. */
    static java.util.Optional<String> installedMac(String image) {
        if (!image.startsWith(INSTALLED_PREFIX) || !image.substring(INSTALLED_PREFIX.length()).matches("[0-9a-f]{12}")) return java.util.Optional.empty();
        String hex = image.substring(INSTALLED_PREFIX.length());
        StringBuilder mac = new StringBuilder();
        for (int i = 0; i < 12; i += 2) mac.append(i == 0 ? "" : ":").append(hex, i, i + 2);
        return java.util.Optional.of(mac.toString());
    }

    InstallModes NONE = new InstallModes() {
        @Override public Optional<Pending> pending(String mac) { return Optional.empty(); }
        @Override public void loaderAsked(String mac) {}
        @Override public void installerFetched(String mac) {}
    };
}
