package dev.netboot.aoe;

import java.nio.ByteBuffer;

/**
 * What the target state machine asks its adapter to do for one request. Storage effects carry the
 * reply to send once the operation succeeded; on failure the adapter sends
 * {@link AoeResponder#ioFailed(AoeFrame)} instead, so an initiator never waits for nothing.
 */
public sealed interface Effect {

    /** Send this frame now. */
    record Send(AoeFrame frame) implements Effect {}

    /**
     * Read {@code length} bytes at {@code offset} of the target's store and send {@code reply} with them as
     * its ATA payload ({@code reply}'s own payload is empty).
     */
    record Read(TargetAddress target, long offset, int length, AoeFrame reply) implements Effect {}

    /** Write all of {@code data} at {@code offset}, then send {@code reply}. Bounds were checked. */
    record Write(TargetAddress target, long offset, ByteBuffer data, AoeFrame reply) implements Effect {}

    /** Make every acknowledged write durable (fdatasync), then send {@code reply}. */
    record Flush(TargetAddress target, AoeFrame reply) implements Effect {}

    /** The target's protocol state changed; persist it. */
    record SaveState(TargetAddress target, TargetState state) implements Effect {}

    /** A frame that could not be decoded (already counted): say so, rate-limited, naming its sender. */
    record Malformed(String source, String reason) implements Effect {}

    /**
     * A frame for a target bound to other interfaces (already counted, nothing sent): say so, rate-limited,
     * so an operator whose binding leaves a client without its disk learns why.
     */
    record WrongInterface(dev.netboot.net.MacAddress source, TargetAddress target, java.util.Set<String> boundTo) implements Effect {}

    /**
     * A client discovered a target it may see (a config query answered): the moment its initrd found its disk,
     * for the boot timeline. Nothing to send; the adapter tells {@link AoeResponder#onDiscovery}'s listener.
     */
    record Discovered(dev.netboot.net.MacAddress client, TargetAddress target) implements Effect {}
}
