package dev.netboot.dhcp;

import java.util.List;

/**
 * What a booting client tells about itself in its DHCP request: all a boot policy may go by,
 * besides what the inventory knows of that MAC.
 *
 * @param mac          lower-case colon form, {@code 52:54:00:12:34:56}
 * @param archCode     option 93 as sent, or -1 when absent (then {@code arch} is BIOS for a
 *                     "PXEClient" vendor class, as pre-RFC 4578 ROMs are BIOS ones)
 * @param userClasses  option 77; "iPXE" when iPXE itself asks
 * @param uuid         option 97, or null
 * @param vendorClass  option 60, or ""
 * @param hostname     option 12, or ""
 */
public record Machine(String mac, ClientArch arch, int archCode, List<String> userClasses, String uuid,
                      String vendorClass, String hostname) {

    public Machine {
        userClasses = List.copyOf(userClasses);
        vendorClass = vendorClass == null ? "" : vendorClass;
        hostname = hostname == null ? "" : hostname;
    }

    public boolean isIpxe() { return userClasses.contains("iPXE"); }

    /** A network boot firmware asks, not an operating system wanting only an address. */
    public boolean isNetworkBoot() {
        return vendorClass.startsWith("PXEClient") || vendorClass.startsWith("HTTPClient") || archCode >= 0 || isIpxe();
    }
}
