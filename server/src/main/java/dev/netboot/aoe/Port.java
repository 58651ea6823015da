package dev.netboot.aoe;

import dev.netboot.net.MacAddress;


/**
 * The interface a frame arrived on, as far as answers depend on it: its name (disks bound to
 * interfaces are answered only on those), our source MAC and how many sectors fit in one frame.
 */
public record Port(String interfaceName, MacAddress mac, int maxSectors, int bufferCount) {

    public Port {
        if (interfaceName == null || interfaceName.isBlank()) throw new IllegalArgumentException("a port needs its interface's name");
        if (maxSectors < 1 || maxSectors > 255) throw new IllegalArgumentException("maxSectors must be 1..255");
        if (bufferCount < 1 || bufferCount > 0xFFFF) throw new IllegalArgumentException("bufferCount must be 1..65535");
    }

    /** Sectors per frame for an MTU: the AoE and ATA headers count, the Ethernet header does not (1500 → 2, 9000 → 17). */
    public static int sectorsForMtu(int mtu) {
        int n = (mtu - AoeCodec.AOE_HEADER - AoeMessage.Ata.HEADER_BYTES) / Ata.SECTOR;
        return Math.max(1, Math.min(255, n));
    }

    public static Port forMtu(String interfaceName, MacAddress mac, int mtu, int bufferCount) {
        return new Port(interfaceName, mac, sectorsForMtu(mtu), bufferCount);
    }
}
