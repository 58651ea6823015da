package dev.netboot.boot.menus;

/** The menus we generate, each from one template (in the menus folder, else packaged). */
public enum MenuKind {
    PXELINUX("pxelinux.ftl"),
    GRUB("grub.cfg.ftl"),
    IPXE("ipxe.ftl"),
    /** The one script every iPXE fetches first: it only chains to its per-MAC script. */
    IPXE_CHAIN("boot.ipxe.ftl");

    private final String template;

    MenuKind(String template) { this.template = template; }

    public String template() { return template; }
}
