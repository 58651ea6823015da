package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The AoE target side as a state machine without I/O: a decoded request frame in, the effects to
 * carry out (replies, reads, writes, flushes, state to persist) out. One responder serves every
 * target of the process; targets are added and removed while it runs.
 *
 * <p>Access control comes first: a frame that arrived on an interface the target is not bound to,
 * or from a MAC the target does not admit, is treated as if the target did not exist, so no reply,
 * no error, and a broadcast discovery does not reveal it. The interface goes first: it is the one
 * check a forged source MAC cannot pass.
 */
public final class AoeResponder {

    /** Why a frame got no answer at all. */
    public enum Drop {
        MALFORMED, RESPONSE_FRAME, NO_SUCH_TARGET,
        /** For a target bound to other interfaces (or a discovery only such targets would have answered). */
        WRONG_INTERFACE,
        NOT_ADMITTED, BROADCAST_ATA, CONFIG_MISMATCH
    }

    public static final int FIRMWARE_VERSION = 0x0001;

    private final Map<TargetAddress, AoeTarget> targets = new ConcurrentHashMap<>();
    private final Map<Drop, LongAdder> drops = new EnumMap<>(Drop.class);
    private final Map<AoeError, LongAdder> errors = new EnumMap<>(AoeError.class);
    private final LongAdder ataErrors = new LongAdder();

    private final java.util.function.LongSupplier clockMillis;

    public AoeResponder() { this(System::currentTimeMillis); }

    /** @param clockMillis the time frames arrive at (ms since the epoch): when each target last heard from its initiator */
    public AoeResponder(java.util.function.LongSupplier clockMillis) {
        this.clockMillis = clockMillis;
        for (Drop d : Drop.values()) drops.put(d, new LongAdder());
        for (AoeError e : AoeError.values()) errors.put(e, new LongAdder());
    }

    public void add(AoeTarget target) {
        if (targets.putIfAbsent(target.address(), target) != null)
            throw new IllegalStateException("target e" + target.address() + " exists already");
    }

    public AoeTarget remove(TargetAddress address) { return targets.remove(address); }
    public AoeTarget target(TargetAddress address) { return targets.get(address); }
    public Collection<AoeTarget> targets() { return targets.values(); }

    public long dropped(Drop why) { return drops.get(why).sum(); }
    public long errorReplies(AoeError e) { return errors.get(e).sum(); }
    public long ataErrorReplies() { return ataErrors.sum(); }

    /** Counts a frame the adapter could not decode. */
    public void malformed() { drops.get(Drop.MALFORMED).increment(); }

    /**
     * The one entry, for the socket adapter and the tests alike: decodes raw frame bytes and handles the
     * request. A malformed frame is counted and yields only a {@link Effect.Malformed} to report.
     */
    public List<Effect> handle(ByteBuffer rawFrame, Port port) {
        AoeFrame frame;
        try {
            frame = AoeCodec.decode(rawFrame);
        } catch (MalformedFrameException e) {
            malformed();
            String from = rawFrame.limit() >= 12 ? MacAddress.read(rawFrame, 6).toString() : "an unknown source";
            return List.of(new Effect.Malformed(from, e.getMessage()));
        }
        return handle(frame, port);
    }

    /** Told each {@link Effect.Discovered}: who found which disk (the boot timeline). Called on the receive thread: only queue. */
    public interface DiscoveryListener {
        void discovered(MacAddress client, TargetAddress target);
    }

    private volatile DiscoveryListener discoveries = (client, target) -> {};

    public void onDiscovery(DiscoveryListener listener) { this.discoveries = listener; }

    void report(Effect.Discovered d) {
        try {
            discoveries.discovered(d.client(), d.target());
        } catch (RuntimeException e) {
            // a listener's trouble must never cost the client its answer
        }
    }

    /** Interfaces that stand for another in disk bindings (served → the interface it stands for). */
    private volatile Map<String, String> standsFor = Map.of();

    /**
     * Frames that come in on {@code served} count, for disks bound to interfaces, as if they came in on
     * {@code boundAs}: with replication failover the disks are served from the service MAC's macvlan over the
     * client network's interface, and an operator binds a disk to that network (its interface's name).
     */
    public void bindingsOf(String served, String boundAs) {
        Map<String, String> m = new java.util.HashMap<>(standsFor);
        m.put(served, boundAs);
        standsFor = Map.copyOf(m);
    }

    private boolean reachable(AoeTarget t, Port port) {
        if (t.definition().reachableOn(port.interfaceName())) return true;
        String alias = standsFor.get(port.interfaceName());
        return alias != null && t.definition().reachableOn(alias);
    }

    /** Decides whether a config query is the failover peer's probe (it then learns every target exists). */
    public interface ProbeCheck {
        boolean isPeerProbe(MacAddress from, int tag, ByteBuffer config);
    }

    private volatile ProbeCheck probeCheck;

    /**
     * The standby probes this node on the client network (replication failover): its config queries,
     * proven by {@code check}, are answered for every target whoever may see it; nothing else is.
     */
    public void acceptPeerProbes(ProbeCheck check) { this.probeCheck = check; }

    private List<Effect> handle(AoeFrame request, Port port) {
        AoeHeader h = request.header();
        if (h.response()) return drop(Drop.RESPONSE_FRAME);
        MacAddress from = request.source();
        if (from.isGroup()) return drop(Drop.NOT_ADMITTED);
        ProbeCheck check = probeCheck;
        if (check != null && h.addressesAll() && request.message() instanceof AoeMessage.QueryConfig q && q.subCommand() == AoeMessage.QueryConfig.READ
                && check.isPeerProbe(from, h.tag(), q.config())) {
            List<Effect> out = new ArrayList<>();
            for (AoeTarget t : targets.values()) out.add(new Effect.Send(configReply(t, request, port, AoeMessage.QueryConfig.READ, t.state())));
            return out;
        }
        if (h.addressesAll()) {
            // Writing to "every disk" by broadcast is never what anyone wants; only discovery and
            // the list commands are answered for wildcard addresses.
            if (h.command() == AoeCommand.ATA) return drop(Drop.BROADCAST_ATA);
            List<Effect> out = new ArrayList<>();
            boolean elsewhere = false;
            for (AoeTarget t : targets.values()) {
                if (!t.address().matches(h.shelf(), h.slot())) continue;
                if (!reachable(t, port)) elsewhere = true;
                else if (t.visibleTo(from)) out.addAll(handleFor(t, request, port));
            }
            // Counted once per frame, as a drop only when nothing answered it.
            if (out.isEmpty()) drops.get(elsewhere ? Drop.WRONG_INTERFACE : Drop.NO_SUCH_TARGET).increment();
            return out;
        }
        if (h.shelf() > 0xFFFE || h.slot() > 0xFE) return drop(Drop.NO_SUCH_TARGET);
        AoeTarget t = targets.get(new TargetAddress(h.shelf(), h.slot()));
        if (t == null) return drop(Drop.NO_SUCH_TARGET);
        if (!reachable(t, port)) {
            drops.get(Drop.WRONG_INTERFACE).increment();
            return List.of(new Effect.WrongInterface(from, t.address(), t.definition().interfaces()));
        }
        if (!t.visibleTo(from)) return drop(Drop.NOT_ADMITTED);
        return handleFor(t, request, port);
    }

    private List<Effect> handleFor(AoeTarget t, AoeFrame request, Port port) {
        // An initiator the target admits spoke to it: its client is running (capture refuses it meanwhile).
        t.heard(clockMillis.getAsLong());
        AoeHeader h = request.header();
        if (h.version() != AoeHeader.VERSION) return error(t, request, port, AoeError.UNSUPPORTED_VERSION);
        return switch (request.message()) {
            case AoeMessage.Ata ata -> ata(t, request, ata, port);
            case AoeMessage.QueryConfig cfg -> config(t, request, cfg, port);
            case AoeMessage.MacMaskList mask -> mask(t, request, mask, port);
            case AoeMessage.ReserveRelease rr -> reserve(t, request, rr, port);
            case AoeMessage.Unknown u -> error(t, request, port, AoeError.UNRECOGNIZED_COMMAND);
        };
    }

    // ---------------------------------------------------------------- ATA

    private List<Effect> ata(AoeTarget t, AoeFrame request, AoeMessage.Ata ata, Port port) {
        int cmd = ata.cmdStatus();
        boolean read = Ata.isRead(cmd);
        boolean write = Ata.isWrite(cmd);
        // Identify and power checks harm no reservation; everything touching data does.
        if (cmd != Ata.IDENTIFY_DEVICE && cmd != Ata.CHECK_POWER_MODE && !t.state().reservationAdmits(request.source()))
            return error(t, request, port, AoeError.TARGET_RESERVED);
        if (read || write) return readWrite(t, request, ata, port, write);
        return switch (cmd) {
            case Ata.IDENTIFY_DEVICE -> {
                if (ata.sectorCount() > 1 || port.maxSectors() < 1) yield error(t, request, port, AoeError.BAD_ARGUMENT);
                yield List.of(new Effect.Send(ataReply(port, t, request, ata, Ata.STATUS_DRDY, 0, 0, t.identify())));
            }
            case Ata.CHECK_POWER_MODE ->
                    // Count 0xFF: the device is active or idle.
                    List.of(new Effect.Send(ataReply(port, t, request, ata, Ata.STATUS_DRDY, 0, 0xFF, empty())));
            case Ata.FLUSH_CACHE, Ata.FLUSH_CACHE_EXT ->
                    List.of(new Effect.Flush(t.address(), ataReply(port, t, request, ata, Ata.STATUS_DRDY, 0, 0, empty())));
            // SMART and everything else we do not implement: the ATA way to say "not supported".
            default -> ataError(port, t, request, ata, Ata.ERROR_ABRT);
        };
    }

    private List<Effect> readWrite(AoeTarget t, AoeFrame request, AoeMessage.Ata ata, Port port, boolean write) {
        int count = ata.sectorCount();
        if (count > port.maxSectors()) return error(t, request, port, AoeError.BAD_ARGUMENT);
        long lba = Ata.isLba48(ata.cmdStatus()) ? ata.lba() : ata.lba() & (Ata.LBA28_LIMIT - 1);
        long sectors = t.definition().sectors();
        if (lba > sectors || count > sectors - lba) return ataError(port, t, request, ata, Ata.ERROR_IDNF);
        int bytes = count * Ata.SECTOR;
        if (write) {
            if (ata.payload().remaining() < bytes) return error(t, request, port, AoeError.BAD_ARGUMENT);
            if (t.definition().readOnly()) return ataError(port, t, request, ata, Ata.ERROR_ABRT);
            AoeFrame reply = ataReply(port, t, request, ata, Ata.STATUS_DRDY, 0, 0, empty());
            if (count == 0) return List.of(new Effect.Send(reply));
            return List.of(new Effect.Write(t.address(), lba * Ata.SECTOR, ata.payload().slice(ata.payload().position(), bytes), reply));
        }
        AoeFrame reply = ataReply(port, t, request, ata, Ata.STATUS_DRDY, 0, 0, empty());
        if (count == 0) return List.of(new Effect.Send(reply));
        return List.of(new Effect.Read(t.address(), lba * Ata.SECTOR, bytes, reply));
    }

    private static AoeFrame ataReply(Port port, AoeTarget t, AoeFrame request, AoeMessage.Ata ata, int status, int err, int count, ByteBuffer payload) {
        AoeHeader h = request.header().reply(t.address().shelf(), t.address().slot());
        return new AoeFrame(request.source(), port.mac(), h, new AoeMessage.Ata(ata.aflags(), err, count, status, ata.lba(), payload));
    }

    private List<Effect> ataError(Port port, AoeTarget t, AoeFrame request, AoeMessage.Ata ata, int errorBits) {
        ataErrors.increment();
        return List.of(new Effect.Send(ataReply(port, t, request, ata, Ata.STATUS_DRDY | Ata.STATUS_ERR, errorBits, ata.sectorCount(), empty())));
    }

    /** Counts an ATA error reply made outside {@link #ioFailed} (a read whose mapped data failed at send time). */
    public void countIoFailure() {
        ataErrors.increment();
    }

    /** The reply to send instead of {@code reply} when its storage operation failed: an ATA error ({@link Ata#failedError}). */
    public AoeFrame ioFailed(AoeFrame reply) {
        ataErrors.increment();
        AoeMessage.Ata a = (AoeMessage.Ata) reply.message();
        return new AoeFrame(reply.destination(), reply.source(), reply.header(),
                new AoeMessage.Ata(a.aflags(), Ata.failedError(Ata.isRead(a.cmdStatus())), a.sectorCount(), Ata.FAILED_STATUS, a.lba(), empty()));
    }

    // ---------------------------------------------------------------- Query Config

    private List<Effect> config(AoeTarget t, AoeFrame request, AoeMessage.QueryConfig cfg, Port port) {
        ByteBuffer asked = cfg.config();
        List<Effect> out = new ArrayList<>(2);
        TargetState state = t.state();
        switch (cfg.subCommand()) {
            case AoeMessage.QueryConfig.READ -> { }
            case AoeMessage.QueryConfig.TEST_EXACT -> {
                if (!state.config().equals(asked)) return drop(Drop.CONFIG_MISMATCH);
            }
            case AoeMessage.QueryConfig.TEST_PREFIX -> {
                if (!isPrefix(asked, state.config())) return drop(Drop.CONFIG_MISMATCH);
            }
            case AoeMessage.QueryConfig.SET_IF_EMPTY, AoeMessage.QueryConfig.FORCE_SET -> {
                if (!state.reservationAdmits(request.source())) return error(t, request, port, AoeError.TARGET_RESERVED);
                boolean force = cfg.subCommand() == AoeMessage.QueryConfig.FORCE_SET;
                boolean[] refused = {false};
                TargetState before = state;
                state = t.update(s -> {
                    if (!force && s.config().hasRemaining() && !s.config().equals(asked)) {
                        refused[0] = true;
                        return s;
                    }
                    return s.withConfig(asked);
                });
                if (refused[0]) return error(t, request, port, AoeError.CONFIG_STRING_PRESENT);
                if (!state.config().equals(before.config())) out.add(new Effect.SaveState(t.address(), state));
            }
            default -> {
                return error(t, request, port, AoeError.BAD_ARGUMENT);
            }
        }
        out.add(new Effect.Send(configReply(t, request, port, cfg.subCommand(), state)));
        if (cfg.subCommand() == AoeMessage.QueryConfig.READ) out.add(new Effect.Discovered(request.source(), t.address()));
        return out;
    }

    private static AoeFrame configReply(AoeTarget t, AoeFrame request, Port port, int subCommand, TargetState state) {
        AoeHeader h = request.header().reply(t.address().shelf(), t.address().slot());
        return new AoeFrame(request.source(), port.mac(), h, new AoeMessage.QueryConfig(
                port.bufferCount(), FIRMWARE_VERSION, port.maxSectors(), AoeHeader.VERSION, subCommand, state.config()));
    }

    /**
     * An unsolicited config response for {@code t}, broadcast: what vblade sends when it starts, and what a
     * new primary sends after a takeover so the Linux driver re-learns the target and switches learn the
     * port of the service MAC at once.
     */
    public static AoeFrame announcement(AoeTarget t, Port port) {
        AoeHeader h = new AoeHeader(AoeHeader.VERSION, true, false, 0, t.address().shelf(), t.address().slot(), AoeCommand.QUERY_CONFIG, 0);
        return new AoeFrame(MacAddress.BROADCAST, port.mac(), h, new AoeMessage.QueryConfig(
                port.bufferCount(), FIRMWARE_VERSION, port.maxSectors(), AoeHeader.VERSION, AoeMessage.QueryConfig.READ, t.state().config()));
    }

    private static boolean isPrefix(ByteBuffer prefix, ByteBuffer of) {
        if (prefix.remaining() > of.remaining()) return false;
        return of.slice(of.position(), prefix.remaining()).equals(prefix);
    }

    // ---------------------------------------------------------------- Mac Mask List

    private List<Effect> mask(AoeTarget t, AoeFrame request, AoeMessage.MacMaskList m, Port port) {
        AoeHeader h = request.header().reply(t.address().shelf(), t.address().slot());
        switch (m.subCommand()) {
            case AoeMessage.MacMaskList.READ -> {
                return List.of(new Effect.Send(maskReply(port, request, h, 0, directivesOf(t.state().masks()))));
            }
            case AoeMessage.MacMaskList.EDIT -> {
                TargetState before = t.state();
                int[] failure = {-1, 0};
                TargetState after = t.update(s -> {
                    List<MacAddress> masks = new ArrayList<>(s.masks());
                    List<AoeMessage.MacMaskList.Directive> ds = m.directives();
                    for (int i = 0; i < ds.size(); i++) {
                        AoeMessage.MacMaskList.Directive d = ds.get(i);
                        switch (d.command()) {
                            case AoeMessage.MacMaskList.Directive.NONE -> { }
                            case AoeMessage.MacMaskList.Directive.ADD -> {
                                if (!masks.contains(d.mac())) {
                                    if (masks.size() >= TargetState.MAX_MASKS) {
                                        failure[0] = i;
                                        failure[1] = AoeMessage.MacMaskList.ERROR_LIST_FULL;
                                        return s;
                                    }
                                    masks.add(d.mac());
                                }
                            }
                            case AoeMessage.MacMaskList.Directive.DELETE -> masks.remove(d.mac());
                            default -> {
                                failure[0] = i;
                                failure[1] = AoeMessage.MacMaskList.ERROR_BAD_DIRECTIVE;
                                return s;
                            }
                        }
                    }
                    return s.withMasks(masks);
                });
                if (failure[0] >= 0) {
                    // Nothing was applied; the reply lists the directives before the failing one,
                    // so DirCnt is the index of the directive that failed.
                    return List.of(new Effect.Send(maskReply(port, request, h, failure[1], m.directives().subList(0, failure[0]))));
                }
                List<Effect> out = new ArrayList<>(2);
                if (!after.masks().equals(before.masks())) out.add(new Effect.SaveState(t.address(), after));
                out.add(new Effect.Send(maskReply(port, request, h, 0, directivesOf(after.masks()))));
                return out;
            }
            default -> {
                return error(t, request, port, AoeError.BAD_ARGUMENT);
            }
        }
    }

    private static AoeFrame maskReply(Port port, AoeFrame request, AoeHeader h, int merror, List<AoeMessage.MacMaskList.Directive> ds) {
        AoeMessage.MacMaskList.Directive[] copy = ds.toArray(new AoeMessage.MacMaskList.Directive[0]);
        return new AoeFrame(request.source(), port.mac(), h, new AoeMessage.MacMaskList(((AoeMessage.MacMaskList) request.message()).subCommand(), merror, List.of(copy)));
    }

    private static List<AoeMessage.MacMaskList.Directive> directivesOf(List<MacAddress> macs) {
        return macs.stream().map(mac -> new AoeMessage.MacMaskList.Directive(AoeMessage.MacMaskList.Directive.NONE, mac)).toList();
    }

    // ---------------------------------------------------------------- Reserve/Release

    private List<Effect> reserve(AoeTarget t, AoeFrame request, AoeMessage.ReserveRelease rr, Port port) {
        AoeHeader h = request.header().reply(t.address().shelf(), t.address().slot());
        TargetState before = t.state();
        TargetState after;
        switch (rr.subCommand()) {
            case AoeMessage.ReserveRelease.READ -> after = before;
            case AoeMessage.ReserveRelease.SET -> {
                boolean[] refused = {false};
                after = t.update(s -> {
                    if (!s.reservationAdmits(request.source())) {
                        refused[0] = true;
                        return s;
                    }
                    return s.withReserved(rr.macs());
                });
                if (refused[0]) return error(t, request, port, AoeError.TARGET_RESERVED);
            }
            case AoeMessage.ReserveRelease.FORCE_SET -> after = t.update(s -> s.withReserved(rr.macs()));
            default -> {
                return error(t, request, port, AoeError.BAD_ARGUMENT);
            }
        }
        List<Effect> out = new ArrayList<>(2);
        if (!after.reserved().equals(before.reserved())) out.add(new Effect.SaveState(t.address(), after));
        out.add(new Effect.Send(new AoeFrame(request.source(), port.mac(), h, new AoeMessage.ReserveRelease(rr.subCommand(), after.reserved()))));
        return out;
    }

    // ---------------------------------------------------------------- errors

    /** An AoE-level error reply: the request's argument echoed, the error flag and code set. */
    private List<Effect> error(AoeTarget t, AoeFrame request, Port port, AoeError e) {
        errors.get(e).increment();
        AoeHeader h = request.header().reply(t.address().shelf(), t.address().slot()).withError(e);
        AoeMessage echo = switch (request.message()) {
            // Never echo bulk data back: an error reply to a write carries only the ATA header.
            case AoeMessage.Ata a -> new AoeMessage.Ata(a.aflags(), a.errFeature(), a.sectorCount(), a.cmdStatus(), a.lba(), empty());
            default -> request.message();
        };
        return List.of(new Effect.Send(new AoeFrame(request.source(), port.mac(), h, echo)));
    }

    private List<Effect> drop(Drop why) {
        drops.get(why).increment();
        return List.of();
    }

    private static ByteBuffer empty() { return ByteBuffer.allocate(0); }
}
