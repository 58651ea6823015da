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

    InstallModes NONE = new InstallModes() {
        @Override public Optional<Pending> pending(String mac) { return Optional.empty(); }
        @Override public void loaderAsked(String mac) {}
        @Override public void installerFetched(String mac) {}
    };
}
