package dev.netboot.boot;

import dev.netboot.dhcp.Machine;
import dev.netboot.dhcp.BootPlan;
import dev.netboot.dhcp.BootPolicy;
import dev.netboot.inventory.Assignment;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * The one place that decides what a machine boots (pixiecore's {@code Booter}): DHCP asks it which
 * loader a machine gets ({@link #planFor}), the menus what that loader then runs ({@link #bootFor}:
 * image, kernel, initrd, command line, disk), and DHCP tells it when it answered a machine's network boot
 * ({@link #networkBootAnswered}), the only moment a disk is made without an operator.
 */
public final class Booter implements BootPolicy {

    /** How long a menu request waits for a clone of the default image under way for that machine. */
    private static final Duration PENDING_CLONE_WAIT = Duration.ofSeconds(10);

    private final BootPolicy loaders;
    private final Function<String, Optional<Assignment>> assignments;
    private final DefaultImageClones defaults;
    private final String kernelArgs;
    private final InstallModes installs;

    /**
     * @param loaders     which loader file a machine gets from DHCP (rules: disabled, override, iPXE, architecture)
     * @param assignments the inventory's image and disk of a MAC (may block)
     * @param kernelArgs  the operator's extra kernel command line ({@code menus.kernelArgs})
     */
    public Booter(BootPolicy loaders, Function<String, Optional<Assignment>> assignments, DefaultImageClones defaults, String kernelArgs) {
        this(loaders, assignments, defaults, kernelArgs, InstallModes.NONE);
    }

    /** @param installs which clients boot an installer instead of their system */
    public Booter(BootPolicy loaders, Function<String, Optional<Assignment>> assignments, DefaultImageClones defaults, String kernelArgs,
                  InstallModes installs) {
        this.installs = installs;
        this.loaders = loaders;
        this.assignments = assignments;
        this.defaults = defaults;
        this.kernelArgs = kernelArgs == null ? "" : kernelArgs.trim();
    }

    /** DHCP's question, on its event loop: fast, never blocks. */
    @Override
    public BootPlan planFor(Machine machine) {
        return loaders.planFor(machine);
    }

    /**
     * DHCP answered this machine's network boot (called on its event loop: returns at once). A machine
     * without a disk gets a clone of the default image, if one is configured, in the background, so the
     * loader's menu request finds it.
     */
    public void networkBootAnswered(String mac) {
        if (!defaults.enabled()) return;
        defaults.networkBoot(mac, () -> assignments.apply(mac).isPresent());
    }

    /**
     * The loader of this MAC asked for its menu (a real boot, not a preview): an install under way is over,
     * the installer rebooted into the installed system. May block (inventory).
     */
    public void loaderAsked(String mac) {
        installs.loaderAsked(mac);
    }

    /** This MAC's installer fetched its initrd: its install is under way. May block (inventory). */
    public void installerFetched(String mac) {
        installs.installerFetched(mac);
    }

    /**
     * What a client boots once its loader runs. Reads only: it never creates a disk (a clone under way
     * for this machine is waited for, briefly). An inventory failure propagates: a half-known client must
     * not be told to wait instead of booting its disk.
     */
    public ClientBoot bootFor(String mac) {
        defaults.awaitPending(mac, PENDING_CLONE_WAIT);
        Optional<Assignment> a = assignments.apply(mac);
        if (a.isPresent()) {
            Optional<InstallModes.Pending> install = installs.pending(mac);
            if (install.isPresent()) {
                InstallModes.Pending p = install.get();
                if (!p.problem().isEmpty()) return new ClientBoot(mac, Optional.empty(), "its installer: " + p.problem());
                // The installer's own command line only: menus.kernelArgs (console=ttyS0 by default) would move
                // Debian's installer, which runs on the last console= given, off the PC's screen.
                String cmdline = "netboot.mac=" + mac + " netboot.aoe=" + a.get().aoeAddress() + (p.cmdline().isEmpty() ? "" : " " + p.cmdline());
                return new ClientBoot(mac, Optional.of(new ClientBoot.Boots(a.get().imageName(), a.get().aoeAddress(), cmdline, p.installer())), "");
            }
            String cmdline = "netboot.mac=" + mac + " netboot.aoe=" + a.get().aoeAddress() + " rw" + (kernelArgs.isEmpty() ? "" : " " + kernelArgs);
            return new ClientBoot(mac, Optional.of(new ClientBoot.Boots(installs.bootImage(mac, a.get()), a.get().aoeAddress(), cmdline)), "");
        }
        return new ClientBoot(mac, Optional.empty(), defaults.refusal(mac).orElse(ClientBoot.WAITING_FOR_OPERATOR));
    }
}
