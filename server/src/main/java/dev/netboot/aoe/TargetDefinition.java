package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import java.util.Set;

/**
 * What an operator decides about one exported disk: its address, size, who may see it and where.
 *
 * @param allowed    the MACs that may see and use the target; frames from any other MAC get no reply
 * @param open       admit every MAC (for labs; the allow-list is then ignored)
 * @param interfaces the interfaces (a VLAN is one: eth0.20) the target exists on; frames for it that
 *                   arrive on any other get no reply. Empty = every interface AoE serves. Source MACs
 *                   can be forged, the segment a frame came from cannot: this is what keeps a PC of
 *                   another segment away from the disk.
 */
public record TargetDefinition(TargetAddress address, long sectors, Set<MacAddress> allowed, boolean open, boolean readOnly, String serial,
                               Set<String> interfaces) {
    public TargetDefinition {
        if (sectors <= 0) throw new IllegalArgumentException("a target needs at least one sector");
        if (sectors > 0xFFFF_FFFF_FFFFL) throw new IllegalArgumentException("more sectors than LBA48 addresses");
        allowed = Set.copyOf(allowed);
        interfaces = Set.copyOf(interfaces);
    }

    /** A target on every interface. */
    public TargetDefinition(TargetAddress address, long sectors, Set<MacAddress> allowed, boolean open, boolean readOnly, String serial) {
        this(address, sectors, allowed, open, readOnly, serial, Set.of());
    }

    public boolean admits(MacAddress mac) { return open || allowed.contains(mac); }

    /** Whether the target exists for frames arriving on this interface. */
    public boolean reachableOn(String interfaceName) { return interfaces.isEmpty() || interfaces.contains(interfaceName); }
}
