package dev.netboot.replication;

import dev.netboot.replication.ReplicaEffect.*;
import dev.netboot.replication.ReplicationMessage.*;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The replication of one disk on one node, as a state machine without I/O: inputs are method calls
 * (a client write, a completion, a peer message, the link's fate), outputs are {@link ReplicaEffect}s.
 *
 * <p>Writes follow DRBD's protocol C: on a connected primary a client write becomes a local write and
 * a send to the peer at once, and the client's acknowledgement is emitted only when both the local
 * completion and the peer's {@link WriteAck} came in. When the peer goes away, writes still waiting
 * for it are recorded in the bitmap and acknowledged after their local write alone (degraded): the
 * first such write gives the disk a new current generation identifier, persisted before any ack.
 * Every write first passes the activity log, so a crash of this primary leaves a bounded set of
 * extents to compare.
 *
 * <p>One thread at a time (the disk's I/O executor) drives an instance; nothing here blocks.
 */
public final class DiskReplica {

    private final String disk;
    private final long sizeBytes;
    private final LongSupplier random;
    private final DirtyBitmap bitmap;
    private final ActivityLog activityLog;
    private Role role;
    private ReplicaState state = ReplicaState.CONNECTING;
    private GenerationIds ids;
    private boolean wroteAlone;          // a new current identifier was made in this outage
    private long nextSeq = 1;
    private long alTransactions;
    /**
     * Whether a write the peer did not acknowledge may be acknowledged after the link went. With automatic
     * failover it may not until the failover says so ({@link #writeAlone}): until then the standby may not
     * yet know that this node lives and writes alone, and could take over without those writes.
     */
    private final boolean aloneNeedsPermission;
    private boolean aloneAllowed;

    /** A client write in flight on the primary. */
    private static final class Pending {
        final long tag, offset, length;
        final boolean durable;
        long seq;
        boolean localDone, localOk, peerDone, peerOk;
        Pending(long tag, long offset, long length, long seq, boolean durable) {
            this.tag = tag; this.offset = offset; this.length = length; this.seq = seq; this.durable = durable;
        }
    }

    private record Held(long tag, long offset, ByteBuffer data, boolean durable) {}

    private record DeferredHandshake(GenerationIds peer, long peerSize, boolean iWinTies) {}

    private final Map<Long, Pending> pending = new HashMap<>();
    private DeferredHandshake deferred;
    private final Map<Long, Long> tagBySeq = new HashMap<>();
    /** Writes waiting for the handshake or for an activity-log slot, in arrival order. */
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    /** Acknowledged by the peer, not yet covered by a flush it answered: marked if the link goes first. */
    private final UnflushedAtPeer unflushedAtPeer = new UnflushedAtPeer();

    public DiskReplica(String disk, long sizeBytes, Role role, GenerationIds ids, DirtyBitmap bitmap, ActivityLog activityLog, LongSupplier random) {
        this(disk, sizeBytes, role, ids, bitmap, activityLog, random, false);
    }

    /**
     * @param aloneNeedsPermission with automatic failover: after the link is lost, writes the peer did not
     *                             acknowledge wait for {@link #writeAlone} (recorded in the bitmap and written
     *                             locally meanwhile, but not acknowledged)
     */
    public DiskReplica(String disk, long sizeBytes, Role role, GenerationIds ids, DirtyBitmap bitmap, ActivityLog activityLog, LongSupplier random,
                       boolean aloneNeedsPermission) {
        this.aloneNeedsPermission = aloneNeedsPermission;
        this.aloneAllowed = !aloneNeedsPermission;
        if (bitmap.diskBytes() != sizeBytes) throw new IllegalArgumentException("bitmap covers " + bitmap.diskBytes() + " bytes, disk has " + sizeBytes);
        this.disk = disk;
        this.sizeBytes = sizeBytes;
        this.role = role;
        this.ids = ids;
        this.bitmap = bitmap;
        this.activityLog = activityLog;
        this.random = random;
    }

    public String disk() { return disk; }
    public ReplicaState state() { return state; }
    public Role role() { return role; }
    public GenerationIds ids() { return ids; }
    public DirtyBitmap bitmap() { return bitmap; }
    public int writesInFlight() { return pending.size() + held.size(); }
    public long activityLogTransactions() { return alTransactions; }

    /**
     * The sequence number the next replicated write will get: a flush sent to the peer now covers every write
     * numbered below it (they were sent before it). Take it when the flush is asked for, not when it is sent:
     * writes asked for after it may be numbered (and held) before the flush goes out.
     */
    public long nextWriteSeq() { return nextSeq; }

    /** Writes (merged ranges) the peer acknowledged that no flush of its has covered yet. */
    public int unflushedAtPeer() { return unflushedAtPeer.size(); }

    /** The peer answered a flush taken at {@link #nextWriteSeq} {@code bound}: the writes below it survive its crash. */
    public void peerFlushed(long bound) { unflushedAtPeer.durableBelow(bound); }

    private boolean replicating() { return state == ReplicaState.UP_TO_DATE || state == ReplicaState.SYNC_SOURCE; }

    // ---------------------------------------------------------------- client writes (primary)

    /**
     * Extents idle since the last call leave the activity log ({@link ActivityLog#tidy}), so that the resync
     * after a crash of this primary covers what was written lately, not everything since the log was last
     * full. A transaction without them, after their dirty bits, as for an eviction.
     */
    public List<ReplicaEffect> tidyActivityLog() {
        List<Long> idle = activityLog.tidy();
        if (idle.isEmpty()) return List.of();
        alTransactions++;
        return List.of(new PersistActivityLog(activityLog.transaction(activityLog.restoredNumber() + alTransactions), idle, activityLog.extentSize()));
    }

    /** A client write arrived (the AoE target checked bounds). {@code tag} comes back in {@link AckClient}. */
    public List<ReplicaEffect> submitWrite(long tag, long offset, ByteBuffer data, boolean durable) {
        if (offset < 0 || offset + data.remaining() > sizeBytes) throw new IllegalArgumentException("write past the end of " + disk);
        if (role != Role.PRIMARY) {
            // A standby is silent on the client network; a write reaching it is a wiring bug, refused loudly.
            return List.of(new AckClient(tag, false), new Report(state, "client write to " + disk + " refused: this node is standby"));
        }
        if (state == ReplicaState.SYNC_TARGET) {
            return List.of(new AckClient(tag, false), new Report(state, "client write to " + disk + " refused: this copy is inconsistent until its resync ends"));
        }
        List<ReplicaEffect> out = new ArrayList<>();
        if (state == ReplicaState.WAITING_HANDSHAKE || !held.isEmpty()) {
            held.add(new Held(tag, offset, data, durable));
            return out;
        }
        start(new Held(tag, offset, data, durable), out);
        return out;
    }

    /** Starts a write if the activity log has room; false (and nothing done) if it must wait. */
    private boolean start(Held w, List<ReplicaEffect> out) {
        long length = w.data().remaining();
        Optional<ActivityLog.Admission> admission = activityLog.begin(w.offset(), length);
        if (admission.isEmpty()) {
            if (!held.contains(w)) held.add(w);
            return false;
        }
        if (admission.get().needsTransaction()) {
            alTransactions++;
            // Numbered on from the restored transaction: restore takes the highest number, so a run that began
            // again at 1 would leave the last run's set winning after a crash, not the extents written now.
            out.add(new PersistActivityLog(activityLog.transaction(activityLog.restoredNumber() + alTransactions), admission.get().evicted(), activityLog.extentSize()));
        }
        long seq = replicating() ? nextSeq++ : -1;   // -1: written without the peer
        Pending p = new Pending(w.tag(), w.offset(), length, seq, w.durable());
        if (pending.putIfAbsent(w.tag(), p) != null) throw new IllegalStateException("write tag " + w.tag() + " is in flight already");
        if (replicating()) {
            tagBySeq.put(seq, w.tag());
            out.add(new SendToPeer(new Write(disk, seq, w.offset(), w.data(), w.durable())));
        } else {
            aloneFirst(out);
            bitmap.markBytes(w.offset(), length);
            // Without permission the write lands locally (and is in the bitmap) but its ack waits for writeAlone.
            p.peerDone = aloneAllowed;
        }
        out.add(new WriteLocal(w.tag(), w.offset(), w.data(), w.durable()));
        return true;
    }

    /** The first write without the peer names new data: persisted before that write can be acknowledged. */
    private void aloneFirst(List<ReplicaEffect> out) {
        if (wroteAlone) return;
        wroteAlone = true;
        ids = ids.newCurrent(random);
        out.add(new PersistGenerationIds(ids));
        out.add(new Report(state, disk + ": writing without the peer; changed regions are recorded for a quick resync"));
    }

    /** The local write of client write {@code tag} (primary) finished. */
    public List<ReplicaEffect> localWriteDone(long tag, boolean ok) {
        Pending p = pending.get(tag);
        if (p == null || p.localDone) throw new IllegalStateException("completion of unknown or finished write " + tag);
        p.localDone = true;
        p.localOk = ok;
        List<ReplicaEffect> out = new ArrayList<>();
        if (!ok) {
            // The copies may now differ in this range (the peer may have written it): resync will tell.
            bitmap.markBytes(p.offset, p.length);
            out.add(new Report(state, disk + ": local write of " + p.length + " bytes at " + p.offset + " failed"));
        }
        finishIfDone(p, out);
        return out;
    }

    public List<ReplicaEffect> peerAck(long seq) { return peerAnswered(seq, true, null); }

    public List<ReplicaEffect> peerNack(long seq, String reason) { return peerAnswered(seq, false, reason); }

    private List<ReplicaEffect> peerAnswered(long seq, boolean ok, String reason) {
        Long tag = tagBySeq.remove(seq);
        List<ReplicaEffect> out = new ArrayList<>();
        if (tag == null) {
            // After a reconnect acks of the old connection may still arrive; they are harmless.
            out.add(new Report(state, disk + ": answer for unknown write " + seq + " ignored"));
            return out;
        }
        Pending p = pending.get(tag);
        if (!ok) {
            // The peer's copy can no longer follow (DRBD detaches a failing disk): this disk goes on
            // alone, exactly as if the peer were gone, and resyncs at the next handshake. Going on
            // replicating around a hole would leave a dirty region that the identifiers do not show.
            tagBySeq.put(seq, tag);
            out.add(new Report(state, disk + ": peer failed write " + seq + " (" + reason + ")"));
            out.addAll(peerLost());
            // The link is up, so no WriteAlone will come; acknowledged alone as before. (The standby's failover
            // does not yet learn that its copy missed this write: docs/replication.md, known limits.)
            out.addAll(allowAlone());
            return out;
        }
        p.peerDone = true;
        p.peerOk = true;
        // A durable write was synced on the peer before its ack (aoe.syncWrites, FUA); the others only written.
        if (!p.durable) unflushedAtPeer.add(seq, p.offset, p.length);
        finishIfDone(p, out);
        return out;
    }

    private void finishIfDone(Pending p, List<ReplicaEffect> out) {
        if (!p.localDone || !p.peerDone) return;
        pending.remove(p.tag);
        activityLog.end(p.offset, p.length);
        out.add(new AckClient(p.tag, p.localOk));
        if (deferred != null && pending.values().stream().noneMatch(q -> !q.localDone && q.seq < 0)) {
            DeferredHandshake d = deferred;
            out.addAll(handshake(d.peer(), d.peerSize(), d.iWinTies()));
            return;
        }
        // A slot may have come free: start held writes in order, as long as they fit.
        while (!held.isEmpty() && state != ReplicaState.WAITING_HANDSHAKE) {
            Held next = held.peek();
            if (!start(next, out)) break;
            held.poll();
        }
    }

    // ---------------------------------------------------------------- the link

    /** The replication connection is up and the Hello with {@link #ids()} is on its way. */
    public List<ReplicaEffect> linkUp() {
        return transition(ReplicaState.WAITING_HANDSHAKE, disk + ": connected, comparing generation identifiers");
    }

    /** The peer is gone (connection closed, timeout). Writes waiting for it are finished alone. */
    public List<ReplicaEffect> peerLost() {
        List<ReplicaEffect> out = new ArrayList<>();
        deferred = null;
        // Only a copy the peer shared a moment ago (replicating) can let the peer take over without these writes.
        if (aloneNeedsPermission && role == Role.PRIMARY && aloneAllowed && replicating()) {
            aloneAllowed = false;
            out.add(new Report(state, disk + ": peer lost; writes it did not acknowledge wait until the failover allows writing alone"));
        }
        boolean alone = role == Role.PRIMARY;
        out.addAll(transition(alone ? ReplicaState.DEGRADED : ReplicaState.OUTDATED,
                alone ? disk + ": peer lost, serving alone (degraded)" : disk + ": primary lost; this copy may be behind"));
        List<Pending> waiting = pending.values().stream().filter(p -> !p.peerDone).toList();
        if (!waiting.isEmpty()) aloneFirst(out);
        if (!unflushedAtPeer.isEmpty() && role == Role.PRIMARY) {
            // The peer answered these but never synced them: a crash of its machine may have lost them. Marked
            // under a new identifier (so the next handshake resyncs from this bitmap, not "same data, nothing
            // to do") and saved now: an extent the activity log has let go would not bring them back after a
            // crash of this node.
            aloneFirst(out);
            int ranges = unflushedAtPeer.size();
            long bytes = unflushedAtPeer.markAndClear(bitmap);
            out.add(new PersistBitmap());
            out.add(new Report(state, disk + ": " + ranges + " range(s), " + bytes + " bytes, the peer acknowledged but had not flushed: marked for the resync"));
        }
        unflushedAtPeer.clear();
        for (Pending p : waiting) {
            tagBySeq.remove(p.seq);
            p.seq = -1;
            bitmap.markBytes(p.offset, p.length);
            p.peerDone = aloneAllowed;
        }
        for (Pending p : waiting) finishIfDone(p, out);
        return releaseHeld(out);
    }

    /**
     * The peer does not hold this disk at all (its Hello lacks it, e.g. storage both servers reach): it can
     * never take over with an older copy of it, so writing alone needs no permission.
     */
    public List<ReplicaEffect> peerLacksDisk() {
        List<ReplicaEffect> out = new ArrayList<>(peerLost());
        out.addAll(allowAlone());
        return out;
    }

    /**
     * The failover's {@code WriteAlone}: the standby has had time to find this primary alive (or this node
     * took over from a dead one), so writes only this copy holds may now be acknowledged. Withdrawn by the
     * next loss of the link.
     */
    public List<ReplicaEffect> writeAlone() {
        return allowAlone();
    }

    private List<ReplicaEffect> allowAlone() {
        List<ReplicaEffect> out = new ArrayList<>();
        if (aloneAllowed) return out;
        aloneAllowed = true;
        List<Pending> waiting = pending.values().stream().filter(p -> !p.peerDone && p.seq < 0).toList();
        if (!waiting.isEmpty()) out.add(new Report(state, disk + ": writing alone allowed: acknowledging " + waiting.size() + " write(s) only this copy holds"));
        for (Pending p : waiting) p.peerDone = true;
        for (Pending p : waiting) finishIfDone(p, out);
        return out;
    }

    /**
     * The peer's Hello entry for this disk. {@code iWinTies} must be the opposite on the two nodes
     * (e.g. "my node id is larger"). Returns what to do; held writes then go on.
     */
    public List<ReplicaEffect> handshake(GenerationIds peer, long peerSize, boolean iWinTies) {
        List<ReplicaEffect> out = new ArrayList<>();
        long alone = pending.values().stream().filter(p -> !p.localDone && p.seq < 0).count();
        if (alone > 0) {
            // A resync could read a region before such a write lands and call it in sync: compare once
            // they are done (milliseconds; new writes wait meanwhile, as for any handshake).
            deferred = new DeferredHandshake(peer, peerSize, iWinTies);
            out.add(new Report(state, disk + ": waiting for " + alone + " local writes made without the peer before comparing"));
            return out;
        }
        deferred = null;
        // The peer is here and sees our new identifiers: writes recorded in the bitmap meanwhile either reach it
        // by the resync that follows (its copy is unusable until then) or make a split brain; none is lost.
        out.addAll(allowAlone());
        if (peerSize != sizeBytes) {
            out.addAll(transition(ReplicaState.UNRELATED, disk + ": peer's copy has " + peerSize + " bytes, ours " + sizeBytes + "; not replicating it"));
            return releaseHeld(out);
        }
        GenerationComparison.Verdict v = GenerationComparison.decide(ids, peer, iWinTies);
        String why = " (" + v.rule().name().toLowerCase().replace('_', ' ') + ")";
        switch (v.decision()) {
            case NO_SYNC -> {
                if (ids.bitmap() != 0) {
                    ids = ids.resyncedAsSource();
                    out.add(new PersistGenerationIds(ids));
                }
                wroteAlone = false;
                out.addAll(transition(ReplicaState.UP_TO_DATE, disk + ": up to date" + why));
                // Regions marked while in sync (a verify before this connection) move now, not at some outage.
                out.addAll(role == Role.PRIMARY ? resyncMarked() : offerMarks());
            }
            case BITMAP_SOURCE, FULL_SOURCE -> {
                if (v.decision() == SyncDecision.FULL_SOURCE) bitmap.markAll();
                out.add(new PersistBitmap());
                sendBitmap(out);
                wroteAlone = false;   // writes are replicated again from here on
                out.addAll(transition(ReplicaState.SYNC_SOURCE, disk + ": peer lacks " + bitmap.dirtyBytes() + " bytes, sending them" + why));
            }
            case BITMAP_TARGET, FULL_TARGET -> {
                if (role == Role.PRIMARY) {
                    // Never overwrite what clients are using: a primary that would be a target is an operator matter.
                    out.addAll(transition(ReplicaState.SPLIT_BRAIN, disk + ": this primary's copy is older than the peer's" + why + "; not syncing until resolved"));
                    return releaseHeld(out);
                }
                beginTarget(v.decision(), peer, out);
                out.addAll(transition(ReplicaState.SYNC_TARGET, disk + ": receiving " + bitmap.dirtyBytes() + " bytes from the peer" + why));
            }
            case SPLIT_BRAIN -> {
                out.add(new PersistBitmap());
                out.addAll(transition(ReplicaState.SPLIT_BRAIN, disk + ": SPLIT BRAIN, both copies were written while apart" + why
                        + "; nothing is synced until 'netboot replication resolve " + disk + " --discard HOST'"));
            }
            case UNRELATED -> out.addAll(transition(ReplicaState.UNRELATED, disk + ": the copies share no history" + why + "; refusing to sync"));
        }
        return releaseHeld(out);
    }

    private void beginTarget(SyncDecision kind, GenerationIds source, List<ReplicaEffect> out) {
        ids = ids.beginResyncAsTarget(kind, source);
        if (kind == SyncDecision.FULL_TARGET) bitmap.markAll();
        out.add(new PersistGenerationIds(ids));
        out.add(new PersistBitmap());
        sendBitmap(out);
    }

    /** Both sides send their bitmap, so the resync covers the union (the source's writes, the target's activity log). */
    private void sendBitmap(List<ReplicaEffect> out) {
        int perChunk = 8192;   // 64 KiB of words per message: 2 GiB of disk at 4 KiB per bit
        int words = bitmap.wordCount();
        for (int w = 0; w < words || w == 0; w += perChunk) {
            int n = Math.min(perChunk, words - w);
            out.add(new SendToPeer(new BitmapChunk(disk, w * 64L, bitmap.words(w, n), w + perChunk >= words)));
            if (words == 0) break;
        }
    }

    private List<ReplicaEffect> releaseHeld(List<ReplicaEffect> out) {
        List<Held> again = new ArrayList<>(held);
        held.clear();
        for (int i = 0; i < again.size(); i++) {
            if (!start(again.get(i), out)) {
                held.clear();
                held.addAll(again.subList(i, again.size()));
                break;
            }
        }
        return out;
    }

    /**
     * Regions marked while both copies are in sync (an online verify found them different, here or on the peer,
     * which sent its marks) are resynced now: with identical identifiers every later handshake would find
     * "nothing to do" and leave them differing until some outage. The primary takes a new current identifier
     * (the shared one becomes its bitmap identifier), tells the peer, and is the source of a bitmap resync; the
     * peer compares again and becomes its target (DRBD needs a disconnect/connect after verify for this).
     */
    public List<ReplicaEffect> resyncMarked() {
        if (role != Role.PRIMARY || state != ReplicaState.UP_TO_DATE || bitmap.isClean()) return List.of();
        List<ReplicaEffect> out = new ArrayList<>();
        ids = ids.newCurrent(random);
        out.add(new PersistGenerationIds(ids));
        out.add(new PersistBitmap());
        out.add(new SendToPeer(new GenerationUpdate(disk, ids)));
        sendBitmap(out);
        out.addAll(transition(ReplicaState.SYNC_SOURCE, disk + ": " + bitmap.dirtyBytes() + " bytes marked out of sync while connected, sending them"));
        return out;
    }

    /** The standby's side of {@link #resyncMarked}: its marks go to the primary, which resyncs them. */
    public List<ReplicaEffect> offerMarks() {
        if (role != Role.STANDBY || state != ReplicaState.UP_TO_DATE || bitmap.isClean()) return List.of();
        List<ReplicaEffect> out = new ArrayList<>();
        sendBitmap(out);
        out.add(new Report(state, disk + ": " + bitmap.dirtyBytes() + " bytes marked out of sync, sent to the primary for a resync"));
        return out;
    }

    /**
     * The primary's new identifiers while this standby is in sync ({@link #resyncMarked} on the peer): compare
     * again, which makes this copy the target of a bitmap resync.
     */
    public boolean comparesAgainOn(GenerationIds peer) {
        return state == ReplicaState.SPLIT_BRAIN || (state == ReplicaState.UP_TO_DATE && role == Role.STANDBY && peer.current() != ids.current());
    }

    /** A chunk of the peer's bitmap: its regions join the resync. */
    public void peerBitmap(BitmapChunk chunk) {
        bitmap.or(chunk.firstRegion(), chunk.words());
    }

    /** A resync request or verify mismatch covered these regions on the target: they are in sync now, or marked. */
    public void resynced(long offset, long length) {
        if (length == 0) return;
        long first = bitmap.regionOf(offset);
        // Only whole regions are clean; a partly rewritten region at either end stays dirty.
        long firstWhole = offset % bitmap.regionSize() == 0 ? first : first + 1;
        long end = offset + length;
        long endWhole = end == sizeBytes ? bitmap.regions() : bitmap.regionOf(end);
        if (endWhole > firstWhole) bitmap.clearRegions(firstWhole, endWhole - firstWhole);
    }

    /** Target: every region arrived and is durable; adopt the source's identifiers. */
    public List<ReplicaEffect> resyncComplete(GenerationIds sourceIds) {
        if (state != ReplicaState.SYNC_TARGET) throw new IllegalStateException(disk + " is " + state + ", not a sync target");
        if (!bitmap.isClean()) throw new IllegalStateException(disk + " still has " + bitmap.dirtyRegions() + " dirty regions");
        ids = GenerationIds.resyncedAsTarget(sourceIds);
        List<ReplicaEffect> out = new ArrayList<>();
        out.add(new PersistGenerationIds(ids));
        out.add(new PersistBitmap());
        out.add(new SendToPeer(new ResyncDone(disk, ids)));
        out.addAll(transition(ReplicaState.UP_TO_DATE, disk + ": resync complete, up to date"));
        return out;
    }

    /** Source: the target confirmed it adopted our identifiers; stop tracking. */
    public List<ReplicaEffect> peerResyncDone() {
        if (state != ReplicaState.SYNC_SOURCE) throw new IllegalStateException(disk + " is " + state + ", not a sync source");
        ids = ids.resyncedAsSource();
        List<ReplicaEffect> out = new ArrayList<>();
        out.add(new PersistGenerationIds(ids));
        // The target rewrote the union of both bitmaps: nothing is out of sync any more (the next
        // outage must start from a clean bitmap, or a quick resync would move this one's regions again).
        bitmap.clearRegions(0, bitmap.regions());
        out.add(new PersistBitmap());
        out.addAll(transition(ReplicaState.UP_TO_DATE, disk + ": peer is up to date"));
        return out;
    }

    /**
     * The operator's {@code resolve DISK --discard THIS-HOST} on the side whose writes are thrown away:
     * it becomes the sync target of the survivor. Refused on a primary (demote it first).
     */
    public List<ReplicaEffect> discardLocalData(GenerationIds survivor) {
        if (state != ReplicaState.SPLIT_BRAIN) throw new IllegalStateException(disk + " is " + state + ", not in split brain");
        if (role == Role.PRIMARY) throw new IllegalStateException(disk + ": demote this node before discarding its data");
        List<ReplicaEffect> out = new ArrayList<>();
        SyncDecision kind = ids.discardedFor(survivor);
        ids = ids.beginResyncAsTarget(kind, survivor);
        // The survivor learns of the decision from the new identifiers and compares again (it becomes source).
        out.add(new SendToPeer(new GenerationUpdate(disk, ids)));
        if (kind == SyncDecision.FULL_TARGET) bitmap.markAll();
        out.add(new PersistGenerationIds(ids));
        out.add(new PersistBitmap());
        sendBitmap(out);
        out.addAll(transition(ReplicaState.SYNC_TARGET, disk + ": local writes discarded by the operator, resyncing from the peer"));
        return out;
    }

    /**
     * Takeover or switchover: refused while this copy is inconsistent, blank, or in split brain. A standby
     * that lost its primary ({@code OUTDATED} in this class's terms; the failover decided the copy is
     * current) serves alone from here on: {@code DEGRADED}, its writes recorded for the old primary's return.
     */
    public List<ReplicaEffect> promote() {
        if (state == ReplicaState.SYNC_TARGET || ids.blank() || state == ReplicaState.SPLIT_BRAIN || state == ReplicaState.UNRELATED)
            throw new IllegalStateException(disk + " is " + state + (ids.blank() ? " and blank" : "") + ": it must not serve");
        if (role == Role.PRIMARY) return List.of();
        role = Role.PRIMARY;
        if (state == ReplicaState.OUTDATED) return transition(ReplicaState.DEGRADED, disk + ": now primary, without the peer (degraded)");
        return List.of(new Report(state, disk + ": now primary"));
    }

    /**
     * Switchover or demotion: only once nothing is in flight, so no write is lost on the way. A primary
     * that served alone becomes a standby whose copy may differ from the peer's: {@code OUTDATED} until the
     * generation identifiers are compared at the next connection.
     */
    public List<ReplicaEffect> demote() {
        if (!pending.isEmpty() || !held.isEmpty()) throw new IllegalStateException(disk + " has " + writesInFlight() + " writes in flight");
        if (role == Role.STANDBY) return List.of();
        role = Role.STANDBY;
        // The peer is primary from here on: what it holds unflushed of ours is its own matter now.
        unflushedAtPeer.clear();
        aloneAllowed = !aloneNeedsPermission;
        if (state == ReplicaState.DEGRADED) return transition(ReplicaState.OUTDATED, disk + ": now standby, without the peer");
        return List.of(new Report(state, disk + ": now standby"));
    }

    // ---------------------------------------------------------------- standby: the primary's writes

    /** A write from the primary: apply it; the ack goes back from {@link #peerWriteDone}. */
    public List<ReplicaEffect> onPeerWrite(Write w) {
        if (!w.disk().equals(disk)) throw new IllegalArgumentException("write for " + w.disk() + " given to " + disk);
        if (role == Role.PRIMARY) return List.of(new SendToPeer(new WriteNack(disk, w.seq(), "both nodes are primary")),
                new Report(state, disk + ": peer sent a write while this node is primary; refused"));
        if (w.offset() + w.data().remaining() > sizeBytes) return List.of(new SendToPeer(new WriteNack(disk, w.seq(), "past the end of the disk")));
        return List.of(new WriteLocal(w.seq(), w.offset(), w.data(), w.durable()));
    }

    public List<ReplicaEffect> peerWriteDone(long seq, boolean ok) {
        if (ok) return List.of(new SendToPeer(new WriteAck(disk, seq)));
        List<ReplicaEffect> out = new ArrayList<>();
        out.add(new SendToPeer(new WriteNack(disk, seq, "local write failed on the standby")));
        // The primary goes on alone (it acknowledges the write without us): this copy now lacks a write a client
        // was told is done, so it must not count as up to date, or the failover would take over with it.
        if (state != ReplicaState.OUTDATED)
            out.addAll(transition(ReplicaState.OUTDATED, disk + ": a write of the primary's failed here; this copy is behind until a resync"));
        return out;
    }

    private List<ReplicaEffect> transition(ReplicaState next, String message) {
        state = next;
        List<ReplicaEffect> out = new ArrayList<>(1);
        out.add(new Report(next, message));
        return out;
    }
}
