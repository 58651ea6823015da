package dev.netboot.web.admin;

/** One boot event of a client (DHCP discover, boot file handed out), newest first. */
public record BootRow(String at, String kind, String address, String bootFile, String detail) {}
