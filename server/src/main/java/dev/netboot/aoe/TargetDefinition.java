package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import java.util.Set;

/**
 * What an operator decides about one exported disk: its address, size, who may see it.
 *
 * @param allowed the MACs that may see and use the target; frames from any other MAC get no reply
 * @param open    admit every MAC (for labs; the allow-list is then ignored)
 */
public record TargetDefinition(TargetAddress address, long sectors, Set<MacAddress> allowed, boolean open, boolean readOnly, String serial) {
    public TargetDefinition {
        if (sectors <= 0) throw new IllegalArgumentException("a target needs at least one sector");
        if (sectors > 0xFFFF_FFFF_FFFFL) throw new IllegalArgumentException("more sectors than LBA48 addresses");
        allowed = Set.copyOf(allowed);
    }

    public boolean admits(MacAddress mac) { return open || allowed.contains(mac); }
}
