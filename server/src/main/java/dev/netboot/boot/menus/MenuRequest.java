package dev.netboot.boot.menus;

import dev.netboot.net.MacAddress;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A request path that names a boot menu, recognised by the boot loaders' own conventions:
 * PXELINUX asks for {@code pxelinux.cfg/01-<mac-with-dashes>} then {@code pxelinux.cfg/default};
 * GRUB's net boot asks for {@code <prefix>/grub.cfg-01-<mac-with-dashes>} then {@code <prefix>/grub.cfg};
 * iPXE fetches {@code boot.ipxe} (what DHCP hands it, see {@code boot.ipxeScriptUrl}), which chains
 * to {@code ipxe/<mac-with-dashes>.ipxe}.
 *
 * @param mac lower-case colon form, or null when the path names no client (the default menus)
 */
public record MenuRequest(MenuKind kind, String mac) {

    private static final String MAC = "((?:[0-9a-fA-F]{2}[-:]){5}[0-9a-fA-F]{2})";
    private static final Pattern PXELINUX = Pattern.compile("(?:.*/)?pxelinux\\.cfg/01-" + MAC);
    private static final Pattern PXELINUX_DEFAULT = Pattern.compile("(?:.*/)?pxelinux\\.cfg/default");
    private static final Pattern GRUB = Pattern.compile("(?:.*/)?grub\\.cfg-01-" + MAC);
    private static final Pattern GRUB_DEFAULT = Pattern.compile("(?:(?:.*/)?grub2?/)?grub\\.cfg");
    private static final Pattern IPXE = Pattern.compile("ipxe/" + MAC + "\\.ipxe");
    private static final Pattern IPXE_CHAIN = Pattern.compile("boot\\.ipxe");

    public boolean isDefault() { return mac == null; }

    /** @param relative a path already confined to the served root ({@code ConfinedPath}), no leading slash */
    public static Optional<MenuRequest> parse(String relative) {
        Matcher m;
        if ((m = PXELINUX.matcher(relative)).matches()) return Optional.of(new MenuRequest(MenuKind.PXELINUX, mac(m.group(1))));
        if (PXELINUX_DEFAULT.matcher(relative).matches()) return Optional.of(new MenuRequest(MenuKind.PXELINUX, null));
        if ((m = GRUB.matcher(relative)).matches()) return Optional.of(new MenuRequest(MenuKind.GRUB, mac(m.group(1))));
        if (GRUB_DEFAULT.matcher(relative).matches()) return Optional.of(new MenuRequest(MenuKind.GRUB, null));
        if ((m = IPXE.matcher(relative)).matches()) return Optional.of(new MenuRequest(MenuKind.IPXE, mac(m.group(1))));
        if (IPXE_CHAIN.matcher(relative).matches()) return Optional.of(new MenuRequest(MenuKind.IPXE_CHAIN, null));
        return Optional.empty();
    }

    private static String mac(String text) {
        return MacAddress.normalize(text);
    }
}
