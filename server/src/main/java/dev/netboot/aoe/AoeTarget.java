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

    private volatile long lastFrameMillis = -1;

    public TargetAddress address() { return definition.address(); }

    /**
     * When an initiator this target admits last sent it a frame (ms since the epoch; -1: none since it was
     * exported). A running client's AoE driver reads and writes its disk; one that is off sends nothing.
     */
    public long lastFrameMillis() { return lastFrameMillis; }

    void heard(long millis) { lastFrameMillis = millis; }
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
