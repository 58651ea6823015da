package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * What the AoE protocol lets initiators change on a target, and what must survive a restart:
 * the config string (Query Config), the Mac Mask List and the reserve list.
 */
public record TargetState(ByteBuffer config, List<MacAddress> masks, List<MacAddress> reserved) {

    public static final TargetState EMPTY = new TargetState(ByteBuffer.allocate(0), List.of(), List.of());
    /** Mask list capacity: the count field of a Mac Mask List reply is one byte. */
    public static final int MAX_MASKS = 255;

    public TargetState {
        ByteBuffer copy = ByteBuffer.allocate(config.remaining()).put(config.duplicate()).flip();
        config = copy.asReadOnlyBuffer();
        masks = List.copyOf(masks);
        reserved = List.copyOf(reserved);
    }

    public TargetState withConfig(ByteBuffer c) { return new TargetState(c, masks, reserved); }
    public TargetState withMasks(List<MacAddress> m) { return new TargetState(config, m, reserved); }
    public TargetState withReserved(List<MacAddress> r) { return new TargetState(config, masks, r); }

    public boolean maskAdmits(MacAddress mac) { return masks.isEmpty() || masks.contains(mac); }
    public boolean reservationAdmits(MacAddress mac) { return reserved.isEmpty() || reserved.contains(mac); }
}
