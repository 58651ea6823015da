package dev.netboot.replication;

import java.util.HashSet;
import java.util.Set;

/**
 * DRBD's handshake table (drbd_uuid_compare) as a pure function: my identifiers and the peer's in,
 * what to do out, with the rule that decided so logs and {@code docs/replication.md} can name it.
 *
 * <p>Every rule is checked in both directions at once, and a rule that holds both ways is a split
 * brain, never a guess: that makes the function symmetric by construction (the peer, running the same
 * code with the arguments swapped, always decides the {@link SyncDecision#mirror mirror}), which a
 * property test checks over random identifiers.
 */
public final class GenerationComparison {

    /** The decision and the row of the table it came from. */
    public record Verdict(SyncDecision decision, Rule rule) {
        public Verdict mirror() { return new Verdict(decision.mirror(), rule); }
    }

    /** The rows of the table, in the order they are tried. */
    public enum Rule {
        BOTH_BLANK, ONE_BLANK, SAME_CURRENT, SAME_CURRENT_CRASHED_PRIMARY, BITMAP_BASE, BITMAP_BASE_BOTH_WAYS,
        IN_HISTORY, IN_HISTORY_BOTH_WAYS, SAME_BITMAP, SHARED_ANCESTOR, NOTHING_SHARED
    }

    private GenerationComparison() {}

    /**
     * @param iWinTies decides only the one row with no other way out (both copies the same, both
     *                 crashed while primary); the two nodes must pass opposite values (e.g. "my node id
     *                 is the larger").
     */
    public static Verdict decide(GenerationIds me, GenerationIds peer, boolean iWinTies) {
        if (me.blank() && peer.blank()) return v(SyncDecision.NO_SYNC, Rule.BOTH_BLANK);
        if (me.blank()) return v(SyncDecision.FULL_TARGET, Rule.ONE_BLANK);
        if (peer.blank()) return v(SyncDecision.FULL_SOURCE, Rule.ONE_BLANK);

        if (me.current() == peer.current()) {
            // Same data, unless a primary died with writes in flight: those may be on one copy only,
            // and only the crashed side's activity log knows where (they join its bitmap on restart).
            if (me.crashedPrimary() && peer.crashedPrimary())
                return v(iWinTies ? SyncDecision.BITMAP_SOURCE : SyncDecision.BITMAP_TARGET, Rule.SAME_CURRENT_CRASHED_PRIMARY);
            if (me.crashedPrimary()) return v(SyncDecision.BITMAP_SOURCE, Rule.SAME_CURRENT_CRASHED_PRIMARY);
            if (peer.crashedPrimary()) return v(SyncDecision.BITMAP_TARGET, Rule.SAME_CURRENT_CRASHED_PRIMARY);
            return v(SyncDecision.NO_SYNC, Rule.SAME_CURRENT);
        }

        // The peer still holds exactly what I held when I started tracking writes in my bitmap.
        boolean iAmAhead = me.bitmap() != 0 && me.bitmap() == peer.current();
        boolean peerIsAhead = peer.bitmap() != 0 && peer.bitmap() == me.current();
        if (iAmAhead && peerIsAhead) return v(SyncDecision.SPLIT_BRAIN, Rule.BITMAP_BASE_BOTH_WAYS);
        if (iAmAhead) return v(SyncDecision.BITMAP_SOURCE, Rule.BITMAP_BASE);
        if (peerIsAhead) return v(SyncDecision.BITMAP_TARGET, Rule.BITMAP_BASE);

        // The peer holds an older generation of mine than the bitmap covers.
        boolean iAmFarAhead = me.history().contains(peer.current());
        boolean peerIsFarAhead = peer.history().contains(me.current());
        if (iAmFarAhead && peerIsFarAhead) return v(SyncDecision.SPLIT_BRAIN, Rule.IN_HISTORY_BOTH_WAYS);
        if (iAmFarAhead) return v(SyncDecision.FULL_SOURCE, Rule.IN_HISTORY);
        if (peerIsFarAhead) return v(SyncDecision.FULL_TARGET, Rule.IN_HISTORY);

        // Both left the same shared point and wrote: the classic split brain.
        if (me.bitmap() != 0 && me.bitmap() == peer.bitmap()) return v(SyncDecision.SPLIT_BRAIN, Rule.SAME_BITMAP);
        Set<Long> mine = ancestors(me);
        for (long id : ancestors(peer)) {
            if (mine.contains(id)) return v(SyncDecision.SPLIT_BRAIN, Rule.SHARED_ANCESTOR);
        }
        return v(SyncDecision.UNRELATED, Rule.NOTHING_SHARED);
    }

    private static Set<Long> ancestors(GenerationIds ids) {
        Set<Long> s = new HashSet<>(ids.history());
        if (ids.bitmap() != 0) s.add(ids.bitmap());
        return s;
    }

    private static Verdict v(SyncDecision d, Rule r) { return new Verdict(d, r); }
}
