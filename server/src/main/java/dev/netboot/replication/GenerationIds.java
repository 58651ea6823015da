package dev.netboot.replication;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The generation identifiers of one disk on one node, DRBD's "UUIDs": they tell two nodes that meet
 * which of them has which data, without comparing a byte of it.
 *
 * <ul>
 *   <li>{@code current}: names the data this node holds now. It changes only when a node writes
 *       while it cannot replicate (first write after losing the peer), never while connected, so two
 *       connected, in-sync copies always share it. 0 means "never held data" (a new, blank copy).</li>
 *   <li>{@code bitmap}: the current identifier both nodes shared when this node started writing
 *       alone; the dirty bitmap records every region written since. 0 while nothing is tracked.</li>
 *   <li>{@code history}: older identifiers, newest first, at most {@link #HISTORY} of them: a peer
 *       still at one of them is an ancestor, but too far back for the bitmap (full sync).</li>
 *   <li>{@code crashedPrimary}: this node was primary and did not stop cleanly; writes in flight at
 *       the crash may be on one copy only, so its activity-log extents must be resynced.</li>
 * </ul>
 *
 * Immutable; every transition returns a new value, which the owner persists before acting on it.
 */
public record GenerationIds(long current, long bitmap, List<Long> history, boolean crashedPrimary) {

    /** Entries kept; DRBD keeps two. Four costs 16 bytes and survives two more rounds of failover. */
    public static final int HISTORY = 4;

    public static final GenerationIds BLANK = new GenerationIds(0, 0, List.of(), false);

    public GenerationIds {
        history = List.copyOf(history);
        if (history.size() > HISTORY) throw new IllegalArgumentException("history of " + history.size() + " entries, at most " + HISTORY);
        if (history.contains(0L)) throw new IllegalArgumentException("0 is not an identifier, it means 'none'");
    }

    /** A copy that starts holding data now (a new disk on the node that creates it). */
    public static GenerationIds created(LongSupplier random) {
        return new GenerationIds(fresh(random, List.of()), 0, List.of(), false);
    }

    public boolean blank() { return current == 0; }

    /**
     * The first write while the peer is away: the data now differs from what the peer may have, so it
     * gets a new name. The bitmap identifier keeps the point the peer last shared; if one is already
     * kept (a second outage before a resync), the bitmap still holds every write since that point, so
     * it stays and the current identifier goes to the history instead.
     */
    public GenerationIds newCurrent(LongSupplier random) {
        if (bitmap == 0) return new GenerationIds(fresh(random, ids()), current, history, crashedPrimary);
        return new GenerationIds(fresh(random, ids()), bitmap, push(history, current), crashedPrimary);
    }

    /**
     * What the sync target persists BEFORE it writes the first resynced byte, so that an interrupted
     * resync is never mistaken for "in sync" or "I wrote alone" at the next meeting.
     * <ul>
     *   <li>Bitmap resync: the target claims the state the source's bitmap is relative to. That is true
     *       of every region outside the merged bitmaps, and the target keeps its own dirty bits until the
     *       resync has rewritten those regions, so a reconnect resumes with a bitmap resync again.
     *       A discarded split-brain side thereby stops claiming its own writes.</li>
     *   <li>Full sync: the target is blank until the end; an interruption means a full sync again
     *       (the planner resumes it from the target's saved position).</li>
     * </ul>
     */
    public GenerationIds beginResyncAsTarget(SyncDecision kind, GenerationIds source) {
        return switch (kind) {
            case FULL_TARGET -> BLANK;
            case BITMAP_TARGET -> source.current == current || source.bitmap == 0
                    ? this
                    : new GenerationIds(source.bitmap, 0, history, crashedPrimary);
            default -> throw new IllegalArgumentException("a sync target begins a bitmap or full resync, not " + kind);
        };
    }

    /**
     * How the operator's {@code resolve --discard} of this side syncs it from the survivor: with a
     * bitmap when both left the same shared point (their bitmap identifiers agree, so the merged
     * bitmaps cover every region either wrote), otherwise in full.
     */
    public SyncDecision discardedFor(GenerationIds survivor) {
        return bitmap != 0 && bitmap == survivor.bitmap ? SyncDecision.BITMAP_TARGET : SyncDecision.FULL_TARGET;
    }

    /**
     * The sync source once the target confirmed it adopted the identifiers (ResyncDone answered), and
     * either side when a handshake finds both at the same current identifier: the peer has
     * {@code current}, nothing is tracked any more. The order (target adopts, then source clears)
     * means a crash in between leaves a harmless stale bitmap identifier, never a target that looks
     * up to date without being so.
     */
    public GenerationIds resyncedAsSource() {
        List<Long> h = bitmap == 0 ? history : push(history, bitmap);
        return new GenerationIds(current, 0, h, false);
    }

    /**
     * The sync target after a completed resync adopts the source's identifiers: it holds the same data
     * now. Its own former identifiers are dropped on purpose (the data they named is gone).
     */
    public static GenerationIds resyncedAsTarget(GenerationIds sourceAfterResync) {
        return new GenerationIds(sourceAfterResync.current, 0, sourceAfterResync.history, false);
    }

    /** Loaded after a restart with the primary indicator still set: the process died while primary. */
    public GenerationIds withCrashedPrimary(boolean crashed) {
        return new GenerationIds(current, bitmap, history, crashed);
    }

    private List<Long> ids() {
        List<Long> all = new ArrayList<>(history);
        all.add(current);
        all.add(bitmap);
        return all;
    }

    private static List<Long> push(List<Long> history, long id) {
        List<Long> h = new ArrayList<>(HISTORY + 1);
        h.add(id);
        for (long old : history) if (old != id) h.add(old);
        return h.subList(0, Math.min(h.size(), HISTORY));
    }

    /** 0 means "none", and an identifier must never repeat one this node knows: either would mislead a peer. */
    private static long fresh(LongSupplier random, List<Long> known) {
        while (true) {
            long id = random.getAsLong();
            if (id != 0 && !known.contains(id)) return id;
        }
    }
}
