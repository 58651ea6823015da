package dev.netboot.replication;

import dev.netboot.replication.ReplicationMessage.*;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One replication connection as a state machine without I/O: bytes from the socket and the clock in,
 * bytes to send and work for the disks out. It owns the {@link ReplicationCodec} (preamble, keys,
 * sequence numbers), the Hello exchange, liveness (ping, timeout) and the dispatch of messages to the
 * {@link DiskReplica}s; the adapter owns the socket, a timer and the disks' I/O.
 *
 * <p>Any refused frame closes the connection (the stream cannot be trusted after it) and every disk
 * learns that its peer is gone; nothing from a refused frame is ever applied.
 */
public final class PeerLink {

    public enum State { AWAITING_PREAMBLE, AWAITING_HELLO, ESTABLISHED, CLOSED }

    /**
     * {@code batching}: messages wait in an outbox until the adapter calls {@link #flush} (once per turn
     * of its event loop), and go out as few {@link Batch} frames as possible: one MAC and one TCP send for
     * every write, ack and resync request of that turn instead of one each. Without it every message
     * is its own frame at once.
     */
    public record Settings(int maxFrame, Duration pingInterval, Duration timeout, boolean batching) {
        /** DRBD's defaults are a ping every 10 s and a 6 s timeout; failover wants to know sooner. */
        public static final Settings DEFAULT = new Settings(ReplicationCodec.DEFAULT_MAX_FRAME, Duration.ofSeconds(1), Duration.ofSeconds(3));

        public Settings(int maxFrame, Duration pingInterval, Duration timeout) { this(maxFrame, pingInterval, timeout, false); }
    }

    /** What the adapter does for the link. */
    public sealed interface LinkEffect {
        /** Write these bytes to the socket, in order. */
        record SendBytes(ByteBuffer bytes) implements LinkEffect {}
        /** Close the socket (after the bytes before it); the reason goes to the log. */
        record Close(String reason) implements LinkEffect {}
        /** A disk's effect other than a send (storage, client acks, reports), for that disk's executor. */
        record ForDisk(String disk, ReplicaEffect effect) implements LinkEffect {}
        /** Resync source: read the ranges and answer them together with {@link #resyncAnswer}. */
        record ReadForPeer(String disk, List<Range> ranges) implements LinkEffect {}
        /** Verify: hash the range and answer with {@link #verifyDigest}. */
        record DigestForPeer(String disk, long offset, int length) implements LinkEffect {}
        /** A message for the adapter's resync planner, verify run or failover logic. */
        record Deliver(ReplicationMessage message) implements LinkEffect {}
        /** A frame refused: count it by reason (the Close follows). */
        record Refused(RejectedFrameException.Reason reason, String message) implements LinkEffect {}
        /** Something a person should read in the log. */
        record Report(String message) implements LinkEffect {}
    }

    private final long nodeId;
    private final Role role;
    private final byte[] secret;
    private final byte[] localNonce;
    private final Map<String, DiskReplica> disks;
    private final Settings settings;
    private State state = State.AWAITING_PREAMBLE;
    private ReplicationCodec codec;
    private ByteBuffer inbox = ByteBuffer.allocate(4096);
    private long lastReceived;
    private long lastSent;
    private long peerNodeId;
    private long nextPing = 1;
    private final List<ReplicationMessage> outbox = new ArrayList<>();

    public PeerLink(long nodeId, Role role, byte[] secret, byte[] localNonce, Map<String, DiskReplica> disks, Settings settings) {
        this.nodeId = nodeId;
        this.role = role;
        this.secret = secret.clone();
        this.localNonce = localNonce.clone();
        this.disks = Map.copyOf(disks);
        this.settings = settings;
    }

    public State state() { return state; }
    public long peerNodeId() { return peerNodeId; }

    /** The connection is open: our preamble goes first. */
    public List<LinkEffect> start(long now) {
        lastReceived = lastSent = now;
        return List.of(new LinkEffect.SendBytes(ReplicationCodec.preamble(localNonce)));
    }

    /** Bytes from the socket, any amount. */
    public List<LinkEffect> received(ByteBuffer bytes, long now) {
        List<LinkEffect> out = new ArrayList<>();
        if (state == State.CLOSED) return out;
        lastReceived = now;
        append(bytes);
        try {
            if (state == State.AWAITING_PREAMBLE) {
                if (inbox.position() < ReplicationCodec.PREAMBLE_LENGTH) {
                    // Refuse a stranger as soon as its first bytes say so.
                    ReplicationCodec.checkPreambleStart(inbox.duplicate().flip());
                    return out;
                }
                inbox.flip();
                byte[] remote = ReplicationCodec.readPreamble(inbox);
                inbox.compact();
                codec = ReplicationCodec.forConnection(secret, localNonce, remote, settings.maxFrame());
                state = State.AWAITING_HELLO;
                List<DiskGenerations> mine = new ArrayList<>();
                for (DiskReplica d : disks.values()) mine.add(new DiskGenerations(d.disk(), d.bitmap().diskBytes(), d.ids()));
                send(new Hello(nodeId, ReplicationCodec.PROTOCOL_VERSION, role, mine), out);
                for (DiskReplica d : disks.values()) forDisk(d.disk(), d.linkUp(), out);
            }
            while (state != State.CLOSED) {
                inbox.flip();
                int length = codec.frameLength(inbox);
                if (length < 0 || inbox.remaining() < length) {
                    inbox.compact();
                    if (length > inbox.capacity()) inbox = ByteBuffer.allocate(length).put(inbox.flip());
                    break;
                }
                ByteBuffer frame = inbox.slice(inbox.position(), length);
                inbox.position(inbox.position() + length);
                ReplicationMessage m = codec.decode(frame);
                inbox.compact();
                handle(m, out);
            }
        } catch (RejectedFrameException e) {
            out.add(new LinkEffect.Refused(e.reason(), e.getMessage()));
            close("refused a frame from the peer: " + e.getMessage(), out);
        }
        return out;
    }

    private void append(ByteBuffer bytes) {
        if (inbox.remaining() < bytes.remaining()) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(inbox.capacity() * 2, inbox.position() + bytes.remaining()));
            inbox = bigger.put(inbox.flip());
        }
        inbox.put(bytes.duplicate());
    }

    private void handle(ReplicationMessage m, List<LinkEffect> out) {
        if (m instanceof Batch b) {
            // Exactly as if each had come in its own frame; a message that closes the link ends the batch.
            for (ReplicationMessage each : b.messages()) {
                if (state == State.CLOSED) return;
                handle(each, out);
            }
            return;
        }
        if (state == State.AWAITING_HELLO) {
            if (!(m instanceof Hello h)) {
                close("peer sent " + m.getClass().getSimpleName() + " before its Hello", out);
                return;
            }
            hello(h, out);
            return;
        }
        switch (m) {
            case Hello h -> close("peer sent a second Hello", out);
            case Write w -> disk(w.disk(), out).ifPresent(d -> forDisk(d.disk(), d.onPeerWrite(w), out));
            case WriteAck a -> disk(a.disk(), out).ifPresent(d -> forDisk(d.disk(), d.peerAck(a.seq()), out));
            case WriteNack n -> disk(n.disk(), out).ifPresent(d -> forDisk(d.disk(), d.peerNack(n.seq(), n.reason()), out));
            case BitmapChunk c -> disk(c.disk(), out).ifPresent(d -> {
                d.peerBitmap(c);
                // The merged bitmap is complete: a sync target's planner may start now. A primary in sync that got
                // marks (the standby's verify found differences) resyncs them now.
                if (c.last()) {
                    forDisk(d.disk(), d.resyncMarked(), out);
                    out.add(new LinkEffect.Deliver(c));
                }
            });
            case ResyncDone r -> disk(r.disk(), out).ifPresent(d -> {
                // The target's "done" (adopted ids) to the source; the source's "done" to the target is the planner's.
                if (d.state() == ReplicaState.SYNC_SOURCE) forDisk(d.disk(), d.peerResyncDone(), out);
                else out.add(new LinkEffect.Deliver(r));
            });
            case ResyncRequest r -> disk(r.disk(), out).ifPresent(d -> {
                if (d.state() == ReplicaState.SYNC_SOURCE) out.add(new LinkEffect.ReadForPeer(r.disk(), r.ranges()));
                else out.add(new LinkEffect.Report(r.disk() + ": resync request while " + d.state() + "; ignored"));
            });
            case VerifyRequest v -> disk(v.disk(), out).ifPresent(d -> out.add(new LinkEffect.DigestForPeer(v.disk(), v.offset(), v.length())));
            case GenerationUpdate g -> disk(g.disk(), out).ifPresent(d -> {
                // After the operator discarded the peer's side of a split brain, its new identifiers make this side
                // the source; a primary resyncing regions marked while in sync makes this standby the target:
                // compare again. The adapter learns the identifiers first (the target adopts them at the end).
                boolean again = d.comparesAgainOn(g.ids());
                out.add(new LinkEffect.Deliver(g));
                if (again) forDisk(d.disk(), d.handshake(g.ids(), d.bitmap().diskBytes(), nodeId > peerNodeId), out);
            });
            case Ping p -> send(new Pong(p.token()), out);
            case Pong p -> { }   // liveness is any frame; the token is for RTT measurement later
            case Disconnect d -> close("peer closed: " + d.reason(), out);
            default -> out.add(new LinkEffect.Deliver(m));
        }
    }

    private void hello(Hello h, List<LinkEffect> out) {
        if (h.protocolVersion() != ReplicationCodec.PROTOCOL_VERSION) {
            close("peer speaks replication protocol " + h.protocolVersion(), out);
            return;
        }
        if (h.nodeId() == nodeId) {
            // Both nodes configured with one id, or connected to ourselves: no tie can be broken.
            close("peer has our node id " + nodeId + " (misconfigured, or connected to ourselves)", out);
            return;
        }
        peerNodeId = h.nodeId();
        state = State.ESTABLISHED;
        if (h.role() == Role.PRIMARY && role == Role.PRIMARY)
            out.add(new LinkEffect.Report("both nodes are primary: disks written on both will show split brain"));
        Set<String> seen = new HashSet<>();
        for (DiskGenerations g : h.disks()) {
            DiskReplica d = disks.get(g.disk());
            if (d == null) {
                out.add(new LinkEffect.Report("peer has disk " + g.disk() + " that this node does not; not replicated until the catalogs agree"));
                continue;
            }
            seen.add(g.disk());
            forDisk(d.disk(), d.handshake(g.ids(), g.sizeBytes(), nodeId > h.nodeId()), out);
        }
        for (DiskReplica d : disks.values()) {
            // Without a peer copy the disk must not wait for a handshake that never comes.
            if (!seen.contains(d.disk())) forDisk(d.disk(), d.peerLacksDisk(), out);
        }
        // The adapter keeps the peer's identifiers (a sync target adopts them at the end) and its role.
        out.add(new LinkEffect.Deliver(h));
    }

    private java.util.Optional<DiskReplica> disk(String name, List<LinkEffect> out) {
        DiskReplica d = disks.get(name);
        if (d == null) out.add(new LinkEffect.Report("message for unknown disk " + name + " ignored"));
        return java.util.Optional.ofNullable(d);
    }

    private void forDisk(String disk, List<ReplicaEffect> effects, List<LinkEffect> out) {
        for (ReplicaEffect e : effects) {
            if (e instanceof ReplicaEffect.SendToPeer s) send(s.message(), out);
            else out.add(new LinkEffect.ForDisk(disk, e));
        }
    }

    private void send(ReplicationMessage m, List<LinkEffect> out) {
        if (codec == null || state == State.CLOSED) return;
        if (settings.batching()) outbox.add(m);
        else out.add(new LinkEffect.SendBytes(codec.encode(m)));
    }

    /** Whether messages wait in the outbox (batching): the adapter should {@link #flush} before its loop sleeps. */
    public boolean hasOutbox() { return !outbox.isEmpty(); }

    /** Batching: everything in the outbox as frames, in order (nothing when the outbox is empty). */
    public List<LinkEffect> flush() {
        List<LinkEffect> out = new ArrayList<>();
        flushInto(out);
        return out;
    }

    private void flushInto(List<LinkEffect> out) {
        if (outbox.isEmpty() || codec == null) return;
        for (ByteBuffer frame : codec.encodeAll(outbox)) out.add(new LinkEffect.SendBytes(frame));
        outbox.clear();
    }

    /** A message from the adapter (resync requests, data, digests, role announcements). */
    public List<LinkEffect> send(ReplicationMessage m, long now) {
        List<LinkEffect> out = new ArrayList<>();
        if (state != State.ESTABLISHED) return out;
        lastSent = now;
        send(m, out);
        return out;
    }

    /** The answer to one resync request: what this node holds of each asked range, and the bytes of those it sends. */
    public List<LinkEffect> resyncAnswer(String disk, List<Piece> pieces, ByteBuffer data, long now) { return send(new ResyncAnswer(disk, pieces, data), now); }
    public List<LinkEffect> verifyDigest(String disk, long offset, int length, ByteBuffer digest, long now) { return send(new VerifyDigest(disk, offset, length, digest), now); }

    /** The clock: pings while idle, and the verdict on a silent peer. Call at least every ping interval. */
    public List<LinkEffect> tick(long now) {
        List<LinkEffect> out = new ArrayList<>();
        if (state == State.CLOSED) return out;
        if (now - lastReceived >= settings.timeout().toNanos()) {
            close("peer silent for " + Duration.ofNanos(now - lastReceived).toMillis() + " ms", out);
            return out;
        }
        if (state == State.ESTABLISHED && now - lastSent >= settings.pingInterval().toNanos()) {
            lastSent = now;
            send(new Ping(nextPing++), out);
        }
        return out;
    }

    /** The socket closed under us. */
    public List<LinkEffect> socketClosed(String why) {
        List<LinkEffect> out = new ArrayList<>();
        if (state != State.CLOSED) close(why, out);
        return out;
    }

    private void close(String reason, List<LinkEffect> out) {
        if (state == State.ESTABLISHED || state == State.AWAITING_HELLO) send(new Disconnect(reason), out);
        flushInto(out);   // what was said before the close, then the Disconnect, go out before the socket closes
        outbox.clear();
        boolean hadDisks = state == State.ESTABLISHED || state == State.AWAITING_HELLO;
        state = State.CLOSED;
        out.add(new LinkEffect.Close(reason));
        if (hadDisks) for (DiskReplica d : disks.values()) forDisk(d.disk(), d.peerLost(), out);
    }
}
