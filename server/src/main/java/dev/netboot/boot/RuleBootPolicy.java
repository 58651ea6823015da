package dev.netboot.boot;

import dev.netboot.dhcp.Machine;
import dev.netboot.dhcp.BootPlan;
import dev.netboot.dhcp.BootPolicy;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Chooses a boot file by rules, first match wins: a client an operator disabled boots nothing; a
 * per-client override from the inventory; iPXE (user class "iPXE") gets the HTTP script URL; then
 * by architecture (option 93).
 */
public final class RuleBootPolicy implements BootPolicy {

    private final BootFiles files;
    private final String nextServer;
    private final Function<String, Optional<String>> overrideByMac;
    private final Predicate<String> disabled;

    /**
     * @param nextServer    TFTP server for relative boot files, empty for this server
     * @param overrideByMac the inventory's per-client boot file, looked up by MAC (cached: see {@link BootPolicy})
     */
    public RuleBootPolicy(BootFiles files, String nextServer, Function<String, Optional<String>> overrideByMac) {
        this(files, nextServer, overrideByMac, mac -> false);
    }

    /** @param disabled clients that must not boot from us (inventory state "disabled") */
    public RuleBootPolicy(BootFiles files, String nextServer, Function<String, Optional<String>> overrideByMac, Predicate<String> disabled) {
        this.files = files;
        this.nextServer = nextServer;
        this.overrideByMac = overrideByMac;
        this.disabled = disabled;
    }

    @Override
    public BootPlan planFor(Machine m) {
        if (disabled.test(m.mac())) return BootPlan.NONE;
        Optional<String> override = overrideByMac.apply(m.mac());
        if (override.isPresent() && !override.get().isBlank()) return plan(override.get(), m);
        if (m.isIpxe() && !files.ipxeScriptUrl().isBlank()) return plan(files.ipxeScriptUrl(), m);
        String file = switch (m.arch()) {
            case BIOS -> files.bios();
            case UEFI_X64 -> files.uefiX64();
            case UEFI_ARM64 -> files.uefiArm64();
            case HTTP_X64, HTTP_ARM64 -> files.httpBoot();
            case UEFI_X86, UEFI_ARM32, UNKNOWN -> "";
        };
        return plan(file, m);
    }

    private BootPlan plan(String file, Machine m) {
        if (file.isBlank()) return BootPlan.NONE;
        return new BootPlan(file.replace("${mac}", m.mac()).replace("${mac-hyphen}", m.mac().replace(':', '-')), nextServer);
    }
}
