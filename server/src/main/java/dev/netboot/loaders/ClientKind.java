package dev.netboot.loaders;

import java.util.List;

/** A kind of PC this server can boot, and the loaders it needs for that. */
public enum ClientKind {
    BIOS_IPXE("BIOS iPXE", List.of(Loader.UNDIONLY)),
    BIOS_PXELINUX("BIOS PXELINUX", List.of(Loader.PXELINUX, Loader.LDLINUX)),
    BIOS_GRUB("BIOS GRUB", List.of(Loader.GRUB_PC, Loader.GRUB_MKNETDIR)),
    UEFI_IPXE("UEFI iPXE", List.of(Loader.IPXE_EFI)),
    UEFI_SECURE_BOOT("UEFI Secure Boot", List.of(Loader.SHIM, Loader.GRUB_EFI)),
    HTTP_BOOT("HTTP Boot", List.of(Loader.IPXE_EFI));

    private final String label;
    private final List<Loader> needs;

    ClientKind(String label, List<Loader> needs) {
        this.label = label;
        this.needs = needs;
    }

    public String label() { return label; }

    public List<Loader> needs() { return needs; }
}
