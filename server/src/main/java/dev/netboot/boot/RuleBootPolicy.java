package dev.netboot.boot;

import dev.netboot.dhcp.BootPlan;
import dev.netboot.dhcp.BootPolicy;
import dev.netboot.dhcp.Machine;
import dev.netboot.loaders.Loader;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Chooses a boot file by rules, first match wins: a client an operator disabled boots nothing; a
 * per-client override from the inventory (a file, or {@code loader:NAME}); the operator's boot rules
 * (by architecture, user class, vendor class); then {@code boot.loader} by architecture (option 93).
 * iPXE (user class "iPXE") gets the HTTP script URL while its loader chain is iPXE; a PXELINUX or GRUB
 * chain is handed to iPXE too (it runs them on its PXE API: qemu's BIOS ROM is iPXE).
 */
public final class RuleBootPolicy implements BootPolicy {

    private final BootFiles files;
    private final String nextServer;
    private final Function<String, Optional<String>> overrideByMac;
    private final Predicate<String> disabled;
    private final List<BootRule> rules;
    private final Predicate<Loader> available;

    /**
     * @param nextServer    TFTP server for relative boot files, empty for this server
     * @param overrideByMac the inventory's per-client boot file, looked up by MAC (cached: see {@link BootPolicy})
     */
    public RuleBootPolicy(BootFiles files, String nextServer, Function<String, Optional<String>> overrideByMac) {
        this(files, nextServer, overrideByMac, mac -> false);
    }

    /** @param disabled clients that must not boot from us (inventory state "disabled") */
    public RuleBootPolicy(BootFiles files, String nextServer, Function<String, Optional<String>> overrideByMac, Predicate<String> disabled) {
        this(files, nextServer, overrideByMac, disabled, List.of(), l -> false);
    }

    /**
     * @param rules     the operator's boot rules, first match wins
     * @param available which loaders this server can serve ({@code loaders.BootLoaders}): {@code auto} picks
     *                  shim + GRUB for x64 UEFI only when both are there; PXELINUX clients get lpxelinux.0
     *                  (kernel and initrd over HTTP) when it says yes to {@link Loader#LPXELINUX}
     */
    public RuleBootPolicy(BootFiles files, String nextServer, Function<String, Optional<String>> overrideByMac, Predicate<String> disabled,
                          List<BootRule> rules, Predicate<Loader> available) {
        this.files = files;
        this.nextServer = nextServer;
        this.overrideByMac = overrideByMac;
        this.disabled = disabled;
        this.rules = List.copyOf(rules);
        this.available = available;
    }

    @Override
    public BootPlan planFor(Machine m) {
        if (disabled.test(m.mac())) return BootPlan.NONE;
        Optional<String> override = overrideByMac.apply(m.mac());
        if (override.isPresent() && !override.get().isBlank()) {
            String o = override.get().strip();
            if (!o.startsWith(LoaderChoice.OVERRIDE_PREFIX)) return plan(o, m);
            try {
                return plan(fileFor(LoaderChoice.parse(o.substring(LoaderChoice.OVERRIDE_PREFIX.length())), m), m);
            } catch (IllegalArgumentException e) {
                // A bad word in the inventory: the rules still boot the PC rather than nothing.
            }
        }
        for (BootRule r : rules) {
            if (!r.matches(m)) continue;
            return plan(r.loader().isPresent() ? fileFor(r.loader().get(), m) : r.file(), m);
        }
        return plan(fileFor(files.loader(), m), m);
    }

    /** The file a client of this kind gets with this loader chain. */
    private String fileFor(LoaderChoice choice, Machine m) {
        String script = m.isIpxe() ? files.ipxeScriptUrl() : "";
        return switch (m.arch()) {
            case BIOS -> switch (choice) {
                // lpxelinux.0 when offered (HTTP on, the package has it, no pxelinux.0 of the operator's): same menus, kernel over HTTP.
                case PXELINUX -> (available.test(Loader.LPXELINUX) ? Loader.LPXELINUX : Loader.PXELINUX).servedName();
                case GRUB, SHIM_GRUB -> Loader.GRUB_PC.servedName();
                case IPXE, AUTO -> script.isBlank() ? files.bios() : script;
            };
            case UEFI_X64 -> switch (choice) {
                case GRUB -> Loader.GRUB_EFI.servedName();
                case SHIM_GRUB -> Loader.SHIM.servedName();
                case IPXE, PXELINUX -> script.isBlank() ? files.uefiX64() : script;
                // An iPXE already running stays iPXE; bare firmware gets the chain a Secure Boot PC accepts.
                case AUTO -> !script.isBlank() ? script
                        : available.test(Loader.SHIM) && available.test(Loader.GRUB_EFI) ? Loader.SHIM.servedName() : files.uefiX64();
            };
            case UEFI_ARM64 -> script.isBlank() ? files.uefiArm64() : script;
            case HTTP_X64, HTTP_ARM64 -> script.isBlank() ? files.httpBoot() : script;
            case UEFI_X86, UEFI_ARM32, UNKNOWN -> script;
        };
    }

    private BootPlan plan(String file, Machine m) {
        if (file.isBlank()) return BootPlan.NONE;
        return new BootPlan(file.replace("${mac}", m.mac()).replace("${mac-hyphen}", m.mac().replace(':', '-')), nextServer);
    }

}
