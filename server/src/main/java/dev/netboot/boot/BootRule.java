package dev.netboot.boot;

import dev.netboot.dhcp.ClientArch;
import dev.netboot.dhcp.Machine;

import java.util.Optional;

/**
 * One of the operator's boot rules ({@code boot.rules}): clients that match every given condition get
 * this loader chain or this file. An empty condition matches every client.
 *
 * @param arch        option 93 as {@link ClientArch} name, e.g. {@code UEFI_X64}; empty: any
 * @param userClass   a user class (option 77) the client must send, e.g. {@code iPXE}; empty: any
 * @param vendorClass how the vendor class (option 60) must start, e.g. {@code PXEClient:Arch:00007}; empty: any
 * @param loader      the loader chain, or empty when {@code file} is given
 * @param file        a boot file or URL ({@code ${mac}} replaced), or empty
 */
public record BootRule(Optional<ClientArch> arch, String userClass, String vendorClass, Optional<LoaderChoice> loader, String file) {

    public BootRule {
        userClass = userClass == null ? "" : userClass;
        vendorClass = vendorClass == null ? "" : vendorClass;
        file = file == null ? "" : file;
        if (loader.isEmpty() == file.isBlank()) throw new IllegalArgumentException("a boot rule gives either a loader or a file");
    }

    /** From the config's words; {@code arch} as in {@link ClientArch} ({@code bios}, {@code uefi-x64} ...). */
    public static BootRule of(String arch, String userClass, String vendorClass, String loader, String file) {
        Optional<ClientArch> a = arch == null || arch.isBlank() ? Optional.empty()
                : Optional.of(parseArch(arch));
        Optional<LoaderChoice> l = loader == null || loader.isBlank() ? Optional.empty() : Optional.of(LoaderChoice.parse(loader));
        return new BootRule(a, userClass, vendorClass, l, file);
    }

    private static ClientArch parseArch(String arch) {
        try {
            return ClientArch.valueOf(arch.strip().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown arch '" + arch + "' in a boot rule: one of bios, uefi-x64, uefi-arm64, http-x64, ...");
        }
    }

    public boolean matches(Machine m) {
        return arch.map(a -> a == m.arch()).orElse(true)
                && (userClass.isEmpty() || m.userClasses().contains(userClass))
                && (vendorClass.isEmpty() || m.vendorClass().startsWith(vendorClass));
    }
}
