package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import java.nio.ByteBuffer;
import java.util.function.UnaryOperator;

/** One exported disk as the protocol sees it: the operator's definition plus the initiators' state. */
public final class AoeTarget {

    private final TargetDefinition definition;
    private final ByteBuffer identify;
    private volatile TargetState state;

    public AoeTarget(TargetDefinition definition, TargetState state) {
        this.definition = definition;
        this.state = state;
        this.identify = IdentifyData.build(definition.sectors(), definition.serial(), "NB1", "netboot AoE e" + definition.address())
                .asReadOnlyBuffer();
    }

    public TargetAddress address() { return definition.address(); }
    public TargetDefinition definition() { return definition; }
    public TargetState state() { return state; }
    ByteBuffer identify() { return identify.duplicate(); }

    /** Whether this initiator may learn that the target exists: the operator's list, then the AoE mask list. */
    public boolean visibleTo(MacAddress mac) {
        return definition.admits(mac) && state.maskAdmits(mac);
    }

    /** Applies a change atomically and returns the new state. */
    synchronized TargetState update(UnaryOperator<TargetState> change) {
        state = change.apply(state);
        return state;
    }
}
