package dev.netboot.loaders;

import java.util.List;

/**
 * A boot loader file a distribution package brings, under the stable name this server serves it by
 * (what DHCP hands out and what other loaders ask for), with where Debian puts it.
 */
public enum Loader {
    UNDIONLY("undionly.kpxe", "ipxe", "usr/lib/ipxe/undionly.kpxe"),
    /** Debian 12 keeps it in /boot (/usr/lib/ipxe/ipxe.efi is an absolute link there). */
    IPXE_EFI("ipxe.efi", "ipxe", "usr/lib/ipxe/ipxe.efi", "boot/ipxe.efi"),
    SNPONLY_EFI("snponly.efi", "ipxe", "usr/lib/ipxe/snponly.efi"),
    /** Signed by Microsoft's UEFI CA: what a Secure Boot PC's firmware runs first. */
    SHIM("shimx64.efi", "shim-signed", "usr/lib/shim/shimx64.efi.signed"),
    /** Debian's signed network GRUB; shim loads {@code grubx64.efi} from the folder it came from. */
    GRUB_EFI("grubx64.efi", "grub-efi-amd64-signed", "usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"),
    /** shim's MOK manager, which shim runs when a signature check fails and asks for it. */
    MOK_MANAGER("mmx64.efi", "shim-helpers-amd64-signed", "usr/lib/shim/mmx64.efi.signed"),
    PXELINUX("pxelinux.0", "pxelinux", "usr/lib/PXELINUX/pxelinux.0"),
    /**
     * PXELINUX with its own TCP/IP stack (lwIP), same package: it also loads {@code http://} URLs, so the
     * kernel and initrd stream over HTTP instead of lockstep TFTP. Reads the same menus and ldlinux.c32.
     */
    LPXELINUX("lpxelinux.0", "pxelinux", "usr/lib/PXELINUX/lpxelinux.0"),
    /** PXELINUX loads it (and any other {@code .c32}) from the folder pxelinux.0 came from. */
    LDLINUX("ldlinux.c32", "syslinux-common", "usr/lib/syslinux/modules/bios/ldlinux.c32"),
    /** BIOS GRUB's modules; the network image is made from them with grub-mknetdir (grub-common, a dependency). */
    GRUB_PC("grub/i386-pc/core.0", "grub-pc-bin", "usr/lib/grub/i386-pc/pxeboot.img"),
    GRUB_MKNETDIR("grub-mknetdir", "grub-common", "usr/bin/grub-mknetdir");

    /** Where PXELINUX's library modules ({@code menu.c32}, {@code libutil.c32}, ...) are. */
    public static final String SYSLINUX_MODULES = "usr/lib/syslinux/modules/bios";
    /** BIOS GRUB's module folder, for grub-mknetdir. */
    public static final String GRUB_PC_MODULES = "usr/lib/grub/i386-pc";

    private final String servedName;
    private final String debianPackage;
    private final List<String> paths;

    Loader(String servedName, String debianPackage, String... paths) {
        this.servedName = servedName;
        this.debianPackage = debianPackage;
        this.paths = List.of(paths);
    }

    /** The name clients ask for (on TFTP and under /boot/ on HTTP). */
    public String servedName() { return servedName; }

    /** The Debian package that brings it. */
    public String debianPackage() { return debianPackage; }

    /** Where the package puts it, relative to the file system root, first choice first. */
    public List<String> paths() { return paths; }
}
