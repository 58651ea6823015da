package dev.netboot.dhcp;

/**
 * How much of DHCP this server does. {@code PROXY} is the safe default: it only adds boot
 * information for PXE clients and never hands out an address, so it cannot break a network
 * whose addresses another server owns.
 */
public enum DhcpMode { OFF, PROXY, FULL }
