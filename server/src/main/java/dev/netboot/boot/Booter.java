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

    /**
     * @param loaders     which loader file a machine gets from DHCP (rules: disabled, override, iPXE, architecture)
     * @param assignments the inventory's image and disk of a MAC (may block)
     * @param kernelArgs  the operator's extra kernel command line ({@code menus.kernelArgs})
     */
    public Booter(BootPolicy loaders, Function<String, Optional<Assignment>> assignments, DefaultImageClones defaults, String kernelArgs) {
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
     * What a client boots once its loader runs. Reads only: it never creates a disk (a clone under way
     * for this machine is waited for, briefly). An inventory failure propagates: a half-known client must
     * not be told to wait instead of booting its disk.
     */
    public ClientBoot bootFor(String mac) {
        defaults.awaitPending(mac, PENDING_CLONE_WAIT);
        Optional<Assignment> a = assignments.apply(mac);
        if (a.isPresent()) {
            String cmdline = "netboot.mac=" + mac + " netboot.aoe=" + a.get().aoeAddress() + " rw" + (kernelArgs.isEmpty() ? "" : " " + kernelArgs);
            return new ClientBoot(mac, Optional.of(new ClientBoot.Boots(a.get().imageName(), a.get().aoeAddress(), cmdline)), "");
        }
        return new ClientBoot(mac, Optional.empty(), defaults.refusal(mac).orElse(ClientBoot.WAITING_FOR_OPERATOR));
    }
}
