package dev.netboot.boot.menus;

import java.net.InetSocketAddress;

/**
 * Where a loader reading a menu fetches the kernel and initrd over HTTP: this server's boot files
 * ({@code http://server:port/boot/}) at an address the PC can reach. PXELINUX (lpxelinux.0) and BIOS GRUB
 * (with its {@code http} module) stream a file over TCP, much faster than lockstep TFTP of 1 KiB blocks
 * (the kernel is ~7 MB); "" keeps the TFTP paths the loader came by (HTTP off, or a loader that has no HTTP).
 */
@FunctionalInterface
public interface HttpBootLink {

    /** HTTP off: every menu names its files by TFTP path. */
    HttpBootLink NONE = (kind, client) -> "";

    /**
     * @param kind   the menu asked for (the loader reading it)
     * @param client the PC's address, null when unknown (the CLI rendering a menu)
     * @return the boot-file URL prefix ending in {@code /}, or "" for TFTP paths
     */
    String forClient(MenuKind kind, InetSocketAddress client);
}
