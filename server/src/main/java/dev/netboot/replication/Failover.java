package dev.netboot.replication;

import dev.netboot.replication.FailoverEffect.*;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides which of the two servers serves the disks on the client network, sans-I/O: inputs are the
 * time, the replication link coming and going, the peer's role announcements, the answers to probes of
 * the primary on the client network, the state of this node's copy and the operator's switchover;
 * outputs are {@link FailoverEffect}s. One instance per node.
 *
 * <p>The rules, each there because breaking it gives two primaries or serves stale data:
 * <ul>
 * <li>A lost replication link alone never makes a takeover: the standby then probes the primary on the
 * <em>client</em> network (an AoE config query to the service MAC) and takes over only after
 * {@code deadAfterProbes} probes in a row went unanswered. If the primary answers, it is alive and writes
 * alone from now on, so this copy is marked outdated and stays standby.</li>
 * <li>Only a copy that was up to date when the link went takes over (not one that was outdated, a sync
 * target, in split brain or blank); an outdated copy becomes eligible again only once connected and up to
 * date.</li>
 * <li>Every takeover grows the term and persists it before serving. A primary that hears a primary with a
 * higher term stops serving at once; on equal terms the node that loses the tie (node ids) stops.</li>
 * <li>A node started with role primary serves only once the link is up, the handshake found both copies in
 * sync, the peer said "standby" and nobody answered its probes. Alone it never serves on its own: only the
 * generation identifiers can tell whether the peer wrote after this copy was last in sync (the operator can
 * {@link #forcePrimary} when the peer is gone for good).</li>
 * <li>A forced promotion (the operator's, DRBD's {@code primary --force}) is a takeover like the others: the
 * term grows and is persisted before the address goes up, so the old primary, when it meets this node again,
 * hears a higher term and stays or becomes standby; the generation identifiers then decide between a resync
 * and a split brain. It is refused while the peer is connected (that is a switchover), for a copy that must
 * never serve (blank, a sync target, split brain), and when the peer still answers its probes on the client
 * network (two servers answering for the service MAC would split the clients' writes).</li>
 * <li>A standby that did not believe its peer primary when the link went (it had just handed the role over,
 * or was starting) probes for longer before taking over, so that a peer on the fast path has taken over
 * first and answers its last probes; the configured standby waits longer than the configured primary, so
 * two such nodes never decide at the same moment.</li>
 * <li>With a witness configured (an address on the client network, e.g. its router), a standby whose link
 * is lost takes over only while the witness answers: when the primary and the witness are both silent, this
 * node is the likelier one to be cut off, and serving there would hand the clients stale data once the
 * network returns (its higher term wins). It is then outdated at once: a primary that is alive writes alone
 * soon after, so a later takeover (the witness back, the primary dead meanwhile) would lose those writes.</li>
 * <li>With a witness, the primary's half of the quorum: a primary that has heard neither its peer nor any
 * witness for as long as the standby needs before it may take over is likelier the one cut off, so it stops
 * serving ({@link Phase#FENCED}) before the standby can serve; it serves again only when a link to the peer
 * shows the peer still standby under a term no higher than its own. See {@link Settings#fenceQuietNanos}.</li>
 * <li>Switchover: the primary releases the service address first (clients retransmit into the void for a
 * moment), lets every write in flight complete on both copies, then hands the role over
 * ({@code RoleAnnouncement(STANDBY, term)}); the standby takes over with term + 1 if it is up to date,
 * else answers "standby" and the old primary serves again.</li>
 * </ul>
 * Why a dead <em>process</em> is detected fast and a frozen one is not mistaken for dead: when the
 * primary's process dies its kernel closes the TCP connection, so the link is lost at once and the
 * probes start at once; a process that merely stalls keeps its connection open and is declared gone
 * only after the link's timeout (3 s), and must then also miss every probe.
 */
public final class Failover {

    /** Where this node stands. */
    public enum Phase {
        /** Started with role primary, looking for a primary already serving before it serves itself. */
        STARTING,
        STANDBY,
        /** Standby, link lost: probing the primary on the client network. */
        PROBING,
        /** Standby whose copy may be behind (the primary went on alone): never takes over in this phase. */
        OUTDATED,
        PRIMARY,
        /** Switchover: service address released, waiting for the writes in flight. */
        DRAINING,
        /** Switchover: the role was handed to the peer, waiting for it to announce itself. */
        HANDED_OFF,
        /**
         * The operator forces this node primary: probing the service MAC first, since a peer that still answers
         * there serves, and a second server answering for the same MAC would split every client's writes.
         */
        FORCING,
        /**
         * Was primary, then heard neither its peer nor any witness for {@link Settings#fenceQuietNanos}: the service
         * address is released, as for a demotion, since the standby may be taking over. Serves again when the
         * link shows the peer standby with a term no higher than ours; goes standby if it hears a newer primary.
         */
        FENCED
    }

    /**
     * @param probeIntervalNanos time between probes; a probe not answered within it counts as silent
     * @param deadAfterProbes    silent probes in a row before the primary counts as dead
     * @param pingIntervalNanos  the link's ping interval: by how much the peer's detection of a cut link can lag ours
     */
    /**
     * @param witnessFreshNanos with a witness: how recent its last answer must be for a takeover; 0 = no witness
     */
    /**
     * @param linkTimeoutNanos  the link's timeout: the peer is declared gone after this much silence
     */
    public record Settings(long probeIntervalNanos, int deadAfterProbes, long pingIntervalNanos, long witnessFreshNanos, long linkTimeoutNanos) {
        public Settings {
            if (linkTimeoutNanos <= 0) throw new IllegalArgumentException("link timeout must be positive");
            if (probeIntervalNanos <= 0) throw new IllegalArgumentException("probe interval must be positive");
            if (deadAfterProbes < 1) throw new IllegalArgumentException("deadAfterProbes must be at least 1");
            if (pingIntervalNanos <= 0) throw new IllegalArgumentException("ping interval must be positive");
            if (witnessFreshNanos < 0) throw new IllegalArgumentException("witness freshness must not be negative");
        }

        public static Settings of(long probeIntervalNanos, int deadAfterProbes, long pingIntervalNanos) {
            return new Settings(probeIntervalNanos, deadAfterProbes, pingIntervalNanos, 0, 3 * pingIntervalNanos);
        }

        /** The link's timeout (default: three ping intervals, as the link's own defaults). */
        public Settings withLinkTimeout(long timeoutNanos) {
            return new Settings(probeIntervalNanos, deadAfterProbes, pingIntervalNanos, witnessFreshNanos, timeoutNanos);
        }

        /**
         * With a witness: how long a primary may hear nothing from its peer (and no witness for
         * {@code witnessFreshNanos}) before it stops serving. The arithmetic, from the moment c its cable is cut
         * (with the defaults: probe 250 ms, 3 probes, ping 1 s, link timeout 3 s, witness 1 s):
         * <ul>
         * <li>each side sends something at least every ping interval, so the standby heard us last at c - ping
         * or later, declares the link lost no earlier than c - ping + timeout, and then needs
         * {@code deadAfterProbes} silent probes, one probe interval each, before it may serve: never before
         * c - ping + timeout + deadAfterProbes x probe (c + 2.75 s);</li>
         * <li>we hear nothing after c, so we are quiet for timeout - ping by c + timeout - ping (c + 2 s), and the
         * witness, last heard at c or before, has been silent as long by then (the fence waits for the larger of
         * that and the witness's freshness, see {@link #fenceBeforeTakeover}): the fence falls at c + timeout - ping;</li>
         * <li>the margin is deadAfterProbes x probe (750 ms), less the link's check (100 ms) and the failover's
         * tick (25 ms) that may delay our seeing it.</li>
         * </ul>
         * Not the loss of the link: ours may be noticed up to a ping interval after the standby's, and the
         * standby's earliest takeover (its loss + 750 ms) can then come before ours (its loss + 1 s).
         */
        public long fenceQuietNanos() { return linkTimeoutNanos - pingIntervalNanos; }

        /** Whether the fence always falls before the standby's earliest takeover (see {@link #fenceQuietNanos}), with 125 ms for the ticks. */
        public boolean fenceBeforeTakeover() {
            long fence = Math.max(fenceQuietNanos(), witnessFreshNanos);
            return fence + 125_000_000L < linkTimeoutNanos - pingIntervalNanos + deadAfterProbes * probeIntervalNanos;
        }

        /** A takeover also needs the witness to have answered within {@code freshNanos}. */
        public Settings withWitness(long freshNanos) {
            if (freshNanos <= 0) throw new IllegalArgumentException("witness freshness must be positive");
            return new Settings(probeIntervalNanos, deadAfterProbes, pingIntervalNanos, freshNanos, linkTimeoutNanos);
        }

        public static Settings defaults() { return of(250_000_000L, 3, 1_000_000_000L); }

        /** How long the whole detection of a standby that believed the peer primary can take, from its peer's loss of the link. */
        long fastDetection() { return pingIntervalNanos + (deadAfterProbes + 1L) * probeIntervalNanos; }

        /**
         * After losing the link, how long a primary waits before acknowledging writes alone: by then the
         * standby has noticed the loss and had its probes answered by us, so it knows it is outdated.
         */
        public long aloneAfterNanos() { return fastDetection(); }

        /**
         * How long a node that did <em>not</em> believe the peer primary (it had handed the role over, or
         * was starting) waits before taking over: long enough that a peer on the fast path has taken over
         * already and answers our last probes. The configured standby waits longer again, so two such
         * nodes never decide together.
         */
        /**
         * How long a forced promotion probes before serving: until any peer on its own path (the slowest: the
         * configured standby's, from its noticing the cut up to a ping interval after us) would have taken over
         * and answered.
         */
        public long forcingWait() { return pingIntervalNanos + slowWait(Role.STANDBY); }

        long slowWait(Role configured) {
            long w1 = fastDetection() + (deadAfterProbes + 1L) * probeIntervalNanos;
            return configured == Role.PRIMARY ? w1 : w1 + fastDetection() + (deadAfterProbes + 1L) * probeIntervalNanos;
        }
    }

    private final Settings settings;
    private final Role configured;
    private Phase phase;
    private long term;
    private boolean linkUp;
    private boolean iWinTies;
    /** The peer's role as it last announced it over the current link; null when not heard. */
    private Role peerRole;
    private CopyState copy = CopyState.CONSISTENT;
    /** The copy was up to date when the link went: the only case a standby takes over from. */
    private boolean upToDateAtLinkLoss;
    private long probeSeq;
    private long probeSentAt;
    private boolean probeOutstanding;
    private long linkLostAt;
    private boolean alone;
    private int silentProbes;

    /** When the witness last answered (meaningful once {@link #witnessHeard}); whether the silence was reported. */
    private long witnessAt;
    private boolean witnessHeard;
    private boolean witnessSilenceReported;
    /** When the witness answered again after holding a takeover back: probes sent before then prove nothing. */
    private long witnessBackAt;
    private boolean witnessBack;
    /** When the peer was last heard over the link (the adapter's {@link #peerHeard}); for the fence. */
    private long peerHeardAt;
    /** While {@link Phase#FENCED}: the term we were fenced under; a peer announcing a higher one took over. */
    private long fencedTerm;
    private long fencedAt;
    /** While {@link Phase#FORCING}: where a refusal returns to. */
    private Phase forcedFrom;

    /** Probing: since when, and how long before silence may mean "take over" (0: the peer was the primary). */
    private long probingSince;
    private long probeWait;

    private Failover(Settings settings, Role configured, long term) {
        this.settings = settings;
        this.configured = configured;
        this.term = term;
    }

    /**
     * A node starts. {@code persistedTerm} is the last term it persisted; {@code copy} what its disks are worth.
     * A configured primary probes first (see the class comment), a configured standby waits for the link.
     */
    public static Failover start(Settings settings, Role configured, long persistedTerm, CopyState copy, long now, List<FailoverEffect> out) {
        Failover f = new Failover(settings, configured, persistedTerm);
        f.copy = copy;
        // The primary's fence counts the witness silent from here when it never answered.
        f.witnessAt = now;
        f.peerHeardAt = now;
        if (configured == Role.PRIMARY) {
            f.phase = Phase.STARTING;
            out.add(new Report("started as primary (term " + persistedTerm + "): looking for a primary already serving before serving"));
            f.startProbing(now, 0, out);
        } else {
            f.phase = Phase.STANDBY;
            out.add(new Report("started as standby (term " + persistedTerm + "): waiting for the primary on the replication link"));
        }
        return f;
    }

    public Phase phase() { return phase; }
    public long term() { return term; }
    public boolean serving() { return phase == Phase.PRIMARY; }
    public boolean linkUp() { return linkUp; }
    /** A primary without its peer may acknowledge writes only its own copy holds. */
    public boolean writesAlone() { return alone && phase == Phase.PRIMARY; }
    public Role role() { return phase == Phase.PRIMARY || phase == Phase.DRAINING ? Role.PRIMARY : Role.STANDBY; }
    public boolean fenced() { return phase == Phase.FENCED; }

    /**
     * The adapter's news that something arrived from the peer over the link at {@code at} (any frame: pings
     * too). Feed it before each {@link #tick}: the fence counts the peer's silence from it, not from the loss of
     * the link, which is declared a whole timeout after the last frame.
     */
    public void peerHeard(long at) {
        if (at - peerHeardAt > 0) peerHeardAt = at;
    }

    /** The replication link is up (handshake done). {@code iWinTies}: this node's id is the larger. */
    public List<FailoverEffect> linkUp(long now, boolean iWinTies) {
        List<FailoverEffect> out = new ArrayList<>();
        this.linkUp = true;
        this.alone = false;
        peerHeardAt = now;
        this.iWinTies = iWinTies;
        // peerRole is not cleared here but at the loss of the link: the peer's announcement over this link
        // may be heard just before its "up" (the two travel different ways in an adapter), and forgetting it
        // left a starting primary waiting for an announcement that had come already.
        if (phase == Phase.PROBING) {
            // The peer's process is alive (it just connected): whatever it is, it is not dead.
            phase = Phase.STANDBY;
            stopProbing();
            out.add(new Report("replication link back while probing: the peer is alive, stop probing"));
        } else if (phase == Phase.FORCING) {
            // A forced promotion is for a peer that is gone; connected, the role moves by a switchover.
            refuseForcing(now, false, "the peer connected meanwhile: move the role with 'netboot replication switchover' on the primary", out);
        }
        out.add(new Announce(role(), term));
        return out;
    }

    public List<FailoverEffect> linkLost(long now) {
        List<FailoverEffect> out = new ArrayList<>();
        if (!linkUp) return out;
        linkUp = false;
        linkLostAt = now;
        boolean peerWasPrimary = peerRole == Role.PRIMARY;
        upToDateAtLinkLoss = copy == CopyState.UP_TO_DATE;
        peerRole = null;
        // Once the link is gone, nothing later can vouch for this copy until the next handshake.
        if (copy == CopyState.UP_TO_DATE) copy = CopyState.CONSISTENT;
        switch (phase) {
            // DRAINING: this node is silent already, so the peer may be taking over right now; find out like a
            // node that handed the role over (the writes being drained stay unacknowledged until it knows).
            case STANDBY, HANDED_OFF, DRAINING -> {
                if (upToDateAtLinkLoss) {
                    phase = Phase.PROBING;
                    // A node that handed the role over does not know whether the peer took it: it lets the peer decide first.
                    long wait = peerWasPrimary ? 0 : settings.slowWait(configured);
                    out.add(new Report("replication link lost: probing the primary on the client network before any takeover"));
                    startProbing(now, wait, out);
                } else {
                    phase = Phase.OUTDATED;
                    out.add(new MarkOutdated("replication link lost while this copy was not up to date: it must not take over"));
                }
            }
            case PRIMARY -> out.add(new Report("replication link lost: writes wait until the standby has had time to find this node alive"));
            case STARTING -> {
                if (upToDateAtLinkLoss) {
                    // In sync with a peer that knew us as standby: decide like a standby that did not see a primary.
                    phase = Phase.PROBING;
                    startProbing(now, settings.slowWait(configured), out);
                }
            }
            // FORCING: never with the link up (a link-up ends it). FENCED: silent already; it waits for the link.
            case OUTDATED, PROBING, FORCING, FENCED -> { }
        }
        return out;
    }

    /** What the disks are worth now (after a handshake, a resync, a split brain...). */
    public List<FailoverEffect> copyState(long now, CopyState state) {
        List<FailoverEffect> out = new ArrayList<>();
        // While the link is down the disks only move towards "outdated"; an up-to-date claim needs the peer.
        if (state == CopyState.UP_TO_DATE && !linkUp) state = CopyState.CONSISTENT;
        copy = state;
        if (phase == Phase.OUTDATED && state == CopyState.UP_TO_DATE) {
            phase = Phase.STANDBY;
            out.add(new Report("copy up to date again: eligible to take over"));
        }
        return out;
    }

    public List<FailoverEffect> probeAnswered(long now, long seq) {
        List<FailoverEffect> out = new ArrayList<>();
        if (!probeOutstanding || seq != probeSeq) return out;
        switch (phase) {
            case PROBING -> {
                stopProbing();
                phase = Phase.OUTDATED;
                out.add(new MarkOutdated("the primary still answers on the client network although the replication link is lost: "
                        + "it writes alone, this copy is outdated, no takeover"));
            }
            case STARTING -> {
                stopProbing();
                phase = Phase.STANDBY;
                out.add(new Report("another server already serves the disks: staying standby"));
            }
            case FORCING -> refuseForcing(now, true, "the peer still answers on the client network (it serves the disks): a second server "
                    + "answering for the service MAC would split the clients' writes between two copies; stop or fence the peer first", out);
            default -> stopProbing();
        }
        return out;
    }

    /**
     * The witness (an address on the client network both servers should reach, e.g. its router) answered. A
     * standby takes over only while it hears the witness: a silent primary <em>and</em> a silent witness mean
     * that this node is more likely the one cut off (its cable, its switch port), and a takeover there would
     * make it serve stale data once the network comes back and its higher term wins.
     */
    public List<FailoverEffect> witnessAnswered(long now) {
        List<FailoverEffect> out = new ArrayList<>();
        witnessAt = now;
        witnessHeard = true;
        if (witnessSilenceReported) {
            witnessSilenceReported = false;
            witnessBack = true;
            witnessBackAt = now;
            out.add(new Report("the witness answers again"));
        }
        return out;
    }

    /**
     * Silent unless it answered after the link was lost (an answer from before proves nothing about the network
     * now: a pulled cable is noticed only at the link's timeout) and recently.
     */
    private boolean witnessSilent(long now) {
        return settings.witnessFreshNanos() > 0 && (!witnessHeard || witnessAt - linkLostAt < 0 || now - witnessAt > settings.witnessFreshNanos());
    }

    public List<FailoverEffect> tick(long now) {
        List<FailoverEffect> out = new ArrayList<>();
        if (phase == Phase.PRIMARY && mustFence(now)) fence(now, out);
        if (phase == Phase.FENCED) resumeIfPeerStandby(now, out);
        if (phase == Phase.PRIMARY && !linkUp && !alone && now - linkLostAt >= settings.aloneAfterNanos()) {
            alone = true;
            out.add(new WriteAlone("the standby had time to find this node alive: acknowledging writes alone (degraded)"));
        }
        if (phase == Phase.PROBING && settings.witnessFreshNanos() > 0 && now - witnessAt > settings.witnessFreshNanos()) {
            // Blind for a while: probes sent then went nowhere, and meanwhile the peer may have taken over (or, primary,
            // gone on alone) and died. Whatever it wrote would be missing here (FailoverProperties found both).
            witnessSilenceReported = true;
            stopProbing();
            phase = Phase.OUTDATED;
            out.add(new MarkOutdated("probing the primary, but the witness is silent too (for " + (now - witnessAt) / 1_000_000 + " ms): "
                    + "this node may be the one cut off, and the peer may be serving or writing alone unseen: this copy is outdated, "
                    + "no takeover (it resyncs when the link is back; if the peer is gone for good: 'netboot replication promote --force')"));
            return out;
        }
        if ((phase != Phase.PROBING && phase != Phase.STARTING && phase != Phase.FORCING) || !probeOutstanding) return out;
        if (now - probeSentAt < settings.probeIntervalNanos) return out;
        // A probe sent while this node was cut off went nowhere: only those sent since the witness came back count
        // (CI: the witness answered, and the one probe lost with the cable completed the count at once: a takeover
        // with the primary alive).
        if (!witnessBack || probeSentAt - witnessBackAt >= 0) silentProbes++;
        probeOutstanding = false;
        boolean startingMayDecide = phase == Phase.STARTING && linkUp && peerRole == Role.STANDBY && copy == CopyState.UP_TO_DATE;
        boolean mayDecide = silentProbes >= settings.deadAfterProbes && (phase == Phase.STARTING ? startingMayDecide : now - probingSince >= probeWait);
        // Only a takeover from a lost link asks the witness: a starting primary decides with the peer connected.
        if (mayDecide && phase == Phase.PROBING && witnessSilent(now)) {
            // Not "wait for the witness, then decide": a primary that is alive (only we are cut off) acknowledges
            // writes alone from (deadAfterProbes + 1) probe intervals after our loss of the link (aloneAfterNanos,
            // its loss a ping interval at most before ours), believing we found it alive; a new series of silent
            // probes after the witness returns always ends later, so a primary that died meanwhile left writes
            // this copy lacks (FailoverProperties found it: a takeover without acknowledged writes).
            witnessSilenceReported = true;
            stopProbing();
            phase = Phase.OUTDATED;
            out.add(new MarkOutdated("the primary answers no probe, but the witness is silent too: this node may be the one cut off, and "
                    + "the primary may be writing alone: this copy is outdated, no takeover (it resyncs when the link is back; if the "
                    + "primary is gone for good: 'netboot replication promote --force')"));
            return out;
        }
        if (!mayDecide) {
            // Keep looking: the last deadAfterProbes probes must be silent at the moment we decide.
            silentProbes = Math.min(silentProbes, settings.deadAfterProbes - 1);
            probe(now, out);
            return out;
        }
        if (phase == Phase.FORCING) {
            takeOver(now, "forced by the operator (it was " + forcedFrom + "); the service MAC answered none of " + silentProbes + " probes", true, out);
            return out;
        }
        if (phase == Phase.PROBING) {
            if (upToDateAtLinkLoss && copy != CopyState.UNUSABLE) {
                takeOver(now, "the replication link is lost and the primary answered none of " + silentProbes + " probes on the client network", out);
            } else {
                phase = Phase.OUTDATED;
                out.add(new MarkOutdated("the primary is silent but this copy is not known up to date: no takeover"));
            }
            return out;
        }
        takeOver(now, "the peer is standby, the copies are in sync and nobody answers on the client network", out);
        return out;
    }

    /**
     * The primary's half of the quorum: with a witness, neither the peer nor any witness heard for as long as
     * the standby needs before it may take over ({@link Settings#fenceQuietNanos}).
     */
    private boolean mustFence(long now) {
        if (settings.witnessFreshNanos() == 0) return false;   // no witness: a lone primary serves on, degraded
        // Writing alone already (the standby found this node alive and is outdated, or this node took over from a dead
        // peer): no peer can take over any more, so a fence would protect nothing and only stop the last server
        // when the witness goes away (a router rebooting). The fence guards the moments before that.
        if (alone) return false;
        boolean peerQuiet = !linkUp || now - peerHeardAt >= settings.fenceQuietNanos();
        // The same bound as the peer's silence (not just the witness's 4 probe intervals): as early as the fence may
        // fall, and a primary that took over from a dead peer does not stop for a few lost pings (ReplicationIT saw a
        // new primary, busy taking over, miss its witness for 412 ms and fence itself with 400 ms).
        boolean witnessQuiet = now - witnessAt >= Math.max(settings.witnessFreshNanos(), settings.fenceQuietNanos());
        return peerQuiet && witnessQuiet;
    }

    private void fence(long now, List<FailoverEffect> out) {
        phase = Phase.FENCED;
        fencedTerm = term;
        alone = false;
        fencedAt = now;
        out.add(new StopServing("FENCED (term " + term + "): neither the peer (silent " + (now - peerHeardAt) / 1_000_000 + " ms"
                + (linkUp ? "" : ", link lost") + ") nor any witness ("
                + "silent " + (now - witnessAt) / 1_000_000 + " ms) answers: this node is likelier the one cut off from the client network, "
                + "and the standby may take over now; no write is acknowledged from here on (clients retransmit to whichever server serves). "
                + "It serves again by itself when the link shows the peer still standby; check this node's client-network cable and switch port"
                + "; if the peer is gone for good and this node's network is fine: 'netboot replication promote --force'"));
        // The address is down before this runs, so what it completes reaches no client: it only lets writes that
        // waited for the peer finish on this copy (they are in the bitmap) so the data path can become standby and
        // dial the peer; held back, the node would stay primary and never dial, and a peer that took over (it
        // does not dial either) would never meet it.
        out.add(new WriteAlone("fenced: writes in flight complete on this copy only, unacknowledged (the service address is down)"));
    }

    /**
     * Fenced: serve again once the link shows the peer standby (it did not take over) and our copy fit to serve,
     * if this is the configured primary; the configured standby becomes standby (see inside).
     */
    private void resumeIfPeerStandby(long now, List<FailoverEffect> out) {
        // Heard since the fence: on a link that never dropped, the role the peer announced before is only still
        // true if it is talking again (a peer that had lost the link would have reconnected and announced anew).
        if (!linkUp || peerHeardAt - fencedAt <= 0 || peerRole != Role.STANDBY) return;
        if (configured == Role.STANDBY) {
            // While connected only the configured primary decides to serve (a restarted one does, from STARTING, on
            // the same news "the peer is standby"): two deciders would both serve (found by FailoverProperties).
            phase = Phase.STANDBY;
            out.add(new Report("fenced until now; the link is back and the peer is standby: this node is the configured standby, so it "
                    + "does not serve again by itself; the configured primary serves when it (re)starts"));
            return;
        }
        if (copy != CopyState.UP_TO_DATE) return;
        takeOver(now, "fenced until now, and the link is back with the peer still standby (term " + term + ", fenced under " + fencedTerm
                + "): serving again", out);
    }

    /** The peer's {@code RoleAnnouncement} arrived over the link. */
    public List<FailoverEffect> peerAnnouncement(long now, Role role, long peerTerm) {
        List<FailoverEffect> out = new ArrayList<>();
        Role before = peerRole;
        peerRole = role;
        if (role == Role.PRIMARY) {
            boolean iServe = phase == Phase.PRIMARY || phase == Phase.DRAINING;
            if (iServe && (peerTerm > term || (peerTerm == term && !iWinTies))) {
                String why = "the peer is primary with term " + peerTerm + (peerTerm == term ? " (same as ours, tie lost)" : " (ours: " + term + ")");
                term = peerTerm;
                phase = Phase.STANDBY;
                out.add(new StopServing(why + ": demoting at once"));
                out.add(new PersistTerm(term));
            } else if (iServe) {
                out.add(new Announce(Role.PRIMARY, term));
                out.add(new Report("the peer claims primary with an older or losing term " + peerTerm + ": told it our term " + term));
            } else {
                if (peerTerm > term) {
                    term = peerTerm;
                    out.add(new PersistTerm(term));
                }
                if (phase == Phase.FENCED) {
                    phase = Phase.OUTDATED;
                    out.add(new MarkOutdated("the peer took over while this node was fenced (its term " + peerTerm + ", ours was " + fencedTerm
                            + "): standby; this copy resyncs from it (failback)"));
                } else if (phase == Phase.STARTING || phase == Phase.PROBING || phase == Phase.HANDED_OFF) {
                    stopProbing();
                    phase = phase == Phase.HANDED_OFF || copy == CopyState.UP_TO_DATE ? Phase.STANDBY : phase == Phase.PROBING ? Phase.OUTDATED : Phase.STANDBY;
                    out.add(new Report("the peer is primary (term " + peerTerm + "): standby"));
                }
            }
            return out;
        }
        // The peer says standby.
        if (phase == Phase.FENCED && peerTerm > fencedTerm) {
            // It served under a newer term while we were fenced and has stopped since: its writes decide, not us.
            phase = Phase.OUTDATED;
            out.add(new MarkOutdated("the peer served under term " + peerTerm + " while this node was fenced (term " + fencedTerm
                    + "): standby; the generation identifiers decide the resync"));
        }
        if (peerTerm > term) {
            term = peerTerm;
            out.add(new PersistTerm(term));
        }
        if (phase == Phase.HANDED_OFF) {
            // It refused the handover (its copy is not up to date): serve again.
            takeOver(now, "the peer refused the switchover", out);
        } else if (before == Role.PRIMARY && (phase == Phase.STANDBY || phase == Phase.OUTDATED)) {
            // The primary stepped down on purpose while connected: a switchover.
            if (linkUp && copy == CopyState.UP_TO_DATE && phase == Phase.STANDBY) {
                takeOver(now, "switchover: the primary handed the role over", out);
            } else {
                out.add(new Announce(Role.STANDBY, term));
                out.add(new Report("the primary handed the role over but this copy is not up to date: refused"));
            }
        }
        return out;
    }

    /**
     * Operator, when the peer is gone for good: serve from this copy although nothing proves it is the
     * newest (writes the peer acknowledged alone after this node was last in sync are lost). From any phase
     * but serving: an outdated standby (the link went first, then the primary died) and a primary started
     * alone never serve by themselves, and this is their way out. It first probes the service MAC for as
     * long as a peer on its own takeover path could take to decide ({@link Settings#forcingWait}, 6 s with the
     * defaults): an answer means the peer serves, and the promotion is refused ({@link ForcedPromotionRefused});
     * silence throughout, and it takes over like any takeover, with the forced flag. The term grows, so a returning peer hears a higher term and does not serve; if the peer
     * still serves where the probes do not reach (the client network cut between the servers), both serve
     * until the link heals: a split brain.
     */
    public List<FailoverEffect> forcePrimary(long now) {
        if (phase == Phase.PRIMARY || phase == Phase.DRAINING) throw new IllegalStateException("this node is primary already");
        if (phase == Phase.FORCING) throw new IllegalStateException("a forced promotion is under way already");
        if (linkUp) throw new IllegalStateException("the peer is connected: a forced promotion is for a peer that is gone; "
                + "move the role with 'netboot replication switchover' on the primary");
        if (copy == CopyState.UNUSABLE) throw new IllegalStateException("this copy is blank, inconsistent or in split brain: it must not serve");
        List<FailoverEffect> out = new ArrayList<>();
        out.add(new Report("operator forces this node primary without its peer (it is " + phase + ", term " + term
                + "): probing the service MAC first"));
        forcedFrom = phase;
        phase = Phase.FORCING;
        // As long as the slowest peer takes to decide on its own after noticing the cut (a ping interval at most
        // after us): a peer that is alive and takes over meanwhile answers the last probes, and this is refused.
        startProbing(now, settings.forcingWait(), out);
        return out;
    }

    /**
     * Back to where the forced promotion started, or where that phase would have gone on the same news:
     * {@code peerServes} (a probe was answered) or the link came up.
     */
    private void refuseForcing(long now, boolean peerServes, String why, List<FailoverEffect> out) {
        stopProbing();
        out.add(new ForcedPromotionRefused(why));
        switch (forcedFrom) {
            case PROBING -> {
                if (peerServes) {
                    phase = Phase.OUTDATED;
                    out.add(new MarkOutdated("the primary answers on the client network: it writes alone, this copy is outdated, no takeover"));
                } else {
                    phase = Phase.STANDBY;
                }
            }
            case STARTING -> {
                if (peerServes) {
                    phase = Phase.STANDBY;
                } else {
                    // Connected now: a starting primary goes on looking for a reason to serve (handshake, peer standby, silence).
                    phase = Phase.STARTING;
                    startProbing(now, 0, out);
                }
            }
            default -> phase = forcedFrom;
        }
    }

    /**
     * Operator, while apart from the peer: stop serving (the undo of a {@link #forcePrimary} made while the
     * peer still served, before the link heals). This copy took writes the peer may lack and may lack the
     * peer's, so it never takes over by itself again until a connected handshake found it up to date (or
     * the operator forces it again). While connected it is refused: a switchover hands the role over with
     * no write lost, and after a split brain the side with the lower term has stopped serving already.
     */
    public List<FailoverEffect> demote(long now) {
        if (phase != Phase.PRIMARY) throw new IllegalStateException("this node is " + phase + ", not serving");
        if (linkUp) throw new IllegalStateException("the peer is connected: use 'netboot replication switchover', which hands the role over with no write lost");
        phase = Phase.OUTDATED;
        alone = false;
        return List.of(new StopServing("operator demoted this node while apart from its peer (term " + term + ")"),
                new MarkOutdated("demoted by the operator: this copy does not take over by itself until it is in sync with the peer again"));
    }

    /** Operator: move the primary role to the peer with no write lost. Refused unless primary, connected and in sync. */
    public List<FailoverEffect> switchover(long now) {
        if (phase != Phase.PRIMARY) throw new IllegalStateException("this node is " + phase + ", not primary: run the switchover on the primary");
        if (!linkUp) throw new IllegalStateException("the replication link is down: the peer cannot take over without losing writes");
        if (copy != CopyState.UP_TO_DATE) throw new IllegalStateException("the disks are not in sync with the peer (" + copy + "): wait for the resync");
        if (peerRole != Role.STANDBY) throw new IllegalStateException("the peer has not announced itself as standby yet");
        phase = Phase.DRAINING;
        return List.of(new StopServing("switchover: releasing the service address, draining writes in flight"), new AwaitDrain());
    }

    /** Switchover: every write that was in flight is acknowledged by both copies. */
    public List<FailoverEffect> drained(long now) {
        List<FailoverEffect> out = new ArrayList<>();
        if (phase != Phase.DRAINING) return out;
        phase = Phase.HANDED_OFF;
        out.add(new Announce(Role.STANDBY, term));
        out.add(new Report("switchover: writes drained, role handed to the peer"));
        return out;
    }

    private void takeOver(long now, String why, List<FailoverEffect> out) {
        takeOver(now, why, false, out);
    }

    private void takeOver(long now, String why, boolean forced, List<FailoverEffect> out) {
        stopProbing();
        term++;
        phase = Phase.PRIMARY;
        out.add(new PersistTerm(term));
        out.add(new Serve(term, "taking over (term " + term + "): " + why, forced));
        if (linkUp) {
            out.add(new Announce(Role.PRIMARY, term));
        } else {
            // The old primary is dead (it answered no probe) or this node is alone since start: nobody else can write.
            alone = true;
            out.add(new WriteAlone("serving without a peer"));
        }
    }

    private void startProbing(long now, long wait, List<FailoverEffect> out) {
        probingSince = now;
        probeWait = wait;
        silentProbes = 0;
        probe(now, out);
    }

    private void probe(long now, List<FailoverEffect> out) {
        probeSeq++;
        probeSentAt = now;
        probeOutstanding = true;
        out.add(new Probe(probeSeq));
    }

    private void stopProbing() {
        probeOutstanding = false;
        silentProbes = 0;
    }
}
