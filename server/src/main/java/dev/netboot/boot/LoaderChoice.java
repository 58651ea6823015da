package dev.netboot.boot;

import java.util.Arrays;
import java.util.Locale;

/**
 * Which loader chain a PXE client gets ({@code boot.loader}, a boot rule or a client's {@code loader:NAME}
 * override). {@code AUTO}: iPXE for BIOS, and for x64 UEFI shim + signed GRUB when both are there (a Secure
 * Boot PC boots with no setting changed), else iPXE.
 */
public enum LoaderChoice {
    AUTO, IPXE, GRUB, PXELINUX, SHIM_GRUB;

    /** The name operators write: {@code auto}, {@code ipxe}, {@code grub}, {@code pxelinux}, {@code shim-grub}. */
    public String settingName() { return name().toLowerCase(Locale.ROOT).replace('_', '-'); }

    public static LoaderChoice parse(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (t.isEmpty()) return AUTO;
        for (LoaderChoice c : values()) if (c.settingName().equals(t)) return c;
        throw new IllegalArgumentException("unknown loader '" + text + "': one of "
                + String.join(", ", Arrays.stream(values()).map(LoaderChoice::settingName).toList()));
    }

    /** A per-client boot-file override of the form {@code loader:NAME} names a loader, not a file. */
    public static final String OVERRIDE_PREFIX = "loader:";
}
