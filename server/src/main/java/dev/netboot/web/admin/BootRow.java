package dev.netboot.web.admin;

/**
 * One step of a client's boot (DHCP discover, boot file handed out, a file fetched over TFTP or HTTP, its
 * disk discovered over AoE).
 *
 * @param since how long after the boot's first step, "+1.2 s"
 */
public record BootRow(String at, String since, String kind, String address, String bootFile, String detail) {}
