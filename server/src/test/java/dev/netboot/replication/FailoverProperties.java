package dev.netboot.replication;

import dev.netboot.replication.FailoverEffect.*;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two nodes, their replication link and their clients, under any interleaving of: time passing (each
 * node ticked at least every half probe interval, as the adapter does), kill -9 of either process and its
 * restart, the link cut (each side notices within a ping interval) and healed, reconnects, announcements
 * delivered late, resyncs, client writes, switchovers and drains, and the operator's forced promotions. Probes reach the other node's AoE
 * target on the client network, which is never partitioned between the servers (that case needs a
 * witness; docs/replication.md). With a witness ({@link #withAWitnessNeverTwoPrimariesEvenWhenOneIsCutOffFromTheClientNetwork})
 * a node's client-network cable can be pulled too: it then reaches neither the clients, nor the witness, nor the
 * other node's AoE target, nor (the same cable) its peer.
 *
 * <p>Checked at every step: never two live processes serving at once; a node that starts serving holds
 * every write any primary acknowledged (no acknowledged write is lost by a takeover, except by a forced one,
 * where the operator accepts it: the model then forgets what the forced node lacks); a write is
 * acknowledged only by a serving primary with the peer's copy or after {@code WriteAlone}.
 */
class FailoverProperties {

    static final long MS = 1_000_000L;
    static final Failover.Settings SETTINGS = Failover.Settings.of(250 * MS, 3, 1000 * MS);
    static final long PING = 1000 * MS;

    /** With a witness: an answer counts for four probe intervals, as the adapter sets it. */
    static final Failover.Settings WITNESSED = SETTINGS.withWitness(4 * 250 * MS);

    enum Op { TIME, KILL, RESTART, CUT, HEAL, CONNECT, DELIVER, SYNC, WRITE, SWITCHOVER, DRAINED, FORCE, ISOLATE, UNISOLATE }

    record Step(Op op, int node, int amount) {}

    static final class Node {
        final Role configured;
        Failover f;
        long persistedTerm;
        boolean serving, alone, awaitingDrain, linkView;
        Long lossAt;               // the link's loss is noticed at this time (cut: within a ping interval)
        final BitSet data = new BitSet();
        boolean synced;            // copy equal to the peer's and replicating (protocol C)
        boolean isolated;          // its client-network cable is out (witness world only)
        Node(Role configured) { this.configured = configured; }
        boolean alive() { return f != null; }
    }

    final class World {
        final Node[] n = { new Node(Role.PRIMARY), new Node(Role.STANDBY) };
        final Failover.Settings settings;
        int fences;
        final List<ArrayDeque<Role[]>> queues = List.of(new ArrayDeque<>(), new ArrayDeque<>()); // to node i
        final List<ArrayDeque<Long>> terms = List.of(new ArrayDeque<>(), new ArrayDeque<>());
        final BitSet acked = new BitSet();
        long now = 1;
        boolean cut;
        int nextWrite;
        int takeovers, failovers, switchovers, forced, forceRefused;
        final List<String> trace = new ArrayList<>();

        World() { this(SETTINGS); }

        World(Failover.Settings settings) {
            this.settings = settings;
            for (int i = 0; i < 2; i++) start(i);
        }

        void start(int i) {
            List<FailoverEffect> out = new ArrayList<>();
            Node x = n[i];
            x.serving = x.alone = x.awaitingDrain = x.linkView = x.synced = false;
            x.lossAt = null;
            x.f = Failover.start(settings, x.configured, x.persistedTerm, CopyState.CONSISTENT, now, out);
            run(i, out);
        }

        void run(int i, List<FailoverEffect> effects) {
            Node x = n[i];
            List<Long> probes = new ArrayList<>();
            for (FailoverEffect e : effects) {
                trace.add("  t=" + now / MS + " node " + i + " " + x.f.phase() + ": " + e);
                switch (e) {
                    case Probe p -> { if (n[1 - i].alive() && n[1 - i].serving && !x.isolated && !n[1 - i].isolated) probes.add(p.seq()); }
                    case PersistTerm p -> {
                        assertThat(p.term()).as("terms never go back").isGreaterThanOrEqualTo(x.persistedTerm);
                        x.persistedTerm = p.term();
                    }
                    case Serve s -> {
                        assertThat(x.persistedTerm).as("term persisted before serving").isEqualTo(s.term());
                        BitSet missing = (BitSet) acked.clone();
                        missing.andNot(x.data);
                        if (s.forced()) {
                            // The operator accepted it: what the peer acknowledged alone is lost from here on.
                            acked.and(x.data);
                            forced++;
                        } else {
                            assertThat(missing.isEmpty()).as("node " + i + " serves (" + s.reason() + ") without acknowledged writes " + missing).isTrue();
                        }
                        x.serving = true;
                        takeovers++;
                        if (s.reason().contains("answered none")) failovers++;
                        if (s.reason().contains("handed the role")) switchovers++;
                    }
                    case StopServing s -> {
                        x.serving = false;
                        if (s.reason().startsWith("FENCED")) fences++;
                    }
                    case AwaitDrain a -> x.awaitingDrain = true;
                    case WriteAlone w -> x.alone = true;
                    case Announce a -> send(i, a.role(), a.term());
                    case MarkOutdated m -> x.synced = false;
                    case FailoverEffect.Report r -> { }
                    case ForcedPromotionRefused r -> forceRefused++;
                }
            }
            if (!x.f.writesAlone()) x.alone = false;
            for (long seq : probes) run(i, x.f.probeAnswered(now, seq));
            assertThat(n[0].alive() && n[0].serving && n[1].alive() && n[1].serving).as("two primaries serve at once").isFalse();
        }

        void send(int from, Role role, long term) {
            if (connected()) {
                queues.get(1 - from).add(new Role[]{role});
                terms.get(1 - from).add(term);
            }
        }

        boolean connected() { return n[0].alive() && n[1].alive() && n[0].linkView && n[1].linkView && !cut; }

        void lose(int i) {
            Node x = n[i];
            if (!x.alive() || !x.linkView) return;
            x.linkView = false;
            x.lossAt = null;
            x.synced = false;
            n[1 - i].synced = false;
            queues.get(0).clear(); queues.get(1).clear(); terms.get(0).clear(); terms.get(1).clear();
            run(i, x.f.linkLost(now));
        }

        void apply(Step s) {
            if (s.op() != Op.TIME) trace.add(s.toString());
            int i = s.node();
            Node x = n[i], peer = n[1 - i];
            switch (s.op()) {
                case TIME -> {
                    now += 1 + (long) s.amount() * SETTINGS.probeIntervalNanos() / 2 / 100;
                    for (int k = 0; k < 2; k++) if (n[k].lossAt != null && n[k].lossAt <= now) lose(k);
                    for (int k = 0; k < 2; k++) {
                        if (!n[k].alive()) continue;
                        // Frames cross while connected; the witness answers a node whose cable is in.
                        if (connected()) n[k].f.peerHeard(now);
                        if (settings.witnessFreshNanos() > 0 && !n[k].isolated) run(k, n[k].f.witnessAnswered(now));
                        run(k, n[k].f.tick(now));
                    }
                }
                case KILL -> {
                    if (!x.alive()) return;
                    x.f = null;
                    x.serving = false; // its AoE target dies with it
                    x.linkView = false;
                    if (!cut) lose(1 - i); // its kernel closes the connection: the peer learns at once
                    else if (peer.linkView && peer.lossAt == null) peer.lossAt = now + PING;
                }
                case RESTART -> { if (!x.alive()) start(i); }
                case CUT -> {
                    if (cut) return;
                    cut = true;
                    for (int k = 0; k < 2; k++) if (n[k].linkView) n[k].lossAt = now + (long) (k == i ? 0 : s.amount()) * PING / 100;
                    queues.get(0).clear(); queues.get(1).clear(); terms.get(0).clear(); terms.get(1).clear();
                }
                case HEAL -> { if (!n[0].isolated && !n[1].isolated) cut = false; }
                case ISOLATE -> {
                    // Its client-network cable out, which carries the replication link too: each side last heard the
                    // other at most a ping interval before, so each declares the link lost a timeout after that.
                    // Not while the replication link is cut already: a client cable pulled within a second of a separate
                    // cut of the link (two faults) lets a standby, whose probes were answered until then, decide within
                    // a few probe intervals of the cable, before any bound on the witness's silence (docs, "What remains").
                    if (settings.witnessFreshNanos() == 0 || x.isolated || !x.alive() || cut) return;
                    x.isolated = true;
                    {
                        cut = true;
                        long timeout = settings.linkTimeoutNanos();
                        if (x.linkView) x.lossAt = now + timeout;   // the worst for the fence: it heard the peer just now
                        if (peer.linkView) peer.lossAt = now + timeout - (long) s.amount() * PING / 100;
                        queues.get(0).clear(); queues.get(1).clear(); terms.get(0).clear(); terms.get(1).clear();
                    }
                }
                case UNISOLATE -> x.isolated = false;
                case CONNECT -> {
                    if (cut || !x.alive() || !peer.alive() || x.linkView || peer.linkView || x.lossAt != null || peer.lossAt != null) return;
                    x.linkView = peer.linkView = true;
                    run(i, x.f.linkUp(now, i == 1));
                    run(1 - i, peer.f.linkUp(now, i != 1));
                }
                case DELIVER -> {
                    if (!connected() || queues.get(i).isEmpty()) return;
                    Role r = queues.get(i).poll()[0];
                    long t = terms.get(i).poll();
                    run(i, x.f.peerAnnouncement(now, r, t));
                }
                case SYNC -> {
                    if (!connected()) return;
                    BitSet a = n[0].data, b = n[1].data;
                    BitSet aOnly = (BitSet) a.clone(); aOnly.andNot(b);
                    BitSet bOnly = (BitSet) b.clone(); bOnly.andNot(a);
                    CopyState state;
                    if (!aOnly.isEmpty() && !bOnly.isEmpty()) {
                        state = CopyState.UNUSABLE; // split brain: the operator decides
                    } else {
                        a.or(b); b.or(a);
                        n[0].synced = n[1].synced = true;
                        state = CopyState.UP_TO_DATE;
                    }
                    run(0, n[0].f.copyState(now, state));
                    run(1, n[1].f.copyState(now, state));
                }
                case WRITE -> {
                    if (!x.alive() || !x.serving || x.isolated) return;
                    int w = nextWrite++;
                    if (connected() && x.synced && peer.synced) {
                        x.data.set(w); peer.data.set(w); acked.set(w);
                    } else if (x.alone && !x.linkView) {
                        x.data.set(w); acked.set(w);
                    } else {
                        x.data.set(w); // written locally, waits for the peer: never acknowledged
                    }
                }
                case SWITCHOVER -> {
                    if (!x.alive()) return;
                    try {
                        run(i, x.f.switchover(now));
                    } catch (IllegalStateException refused) {
                        // not primary, not connected or not in sync: the operator is told why
                    }
                }
                case FORCE -> {
                    if (!x.alive()) return;
                    try {
                        run(i, x.f.forcePrimary(now));
                    } catch (IllegalStateException refused) {
                        // serving already, connected, or a copy that must not serve: the operator is told why
                    }
                }
                case DRAINED -> {
                    if (x.alive() && x.awaitingDrain) {
                        x.awaitingDrain = false;
                        run(i, x.f.drained(now));
                    }
                }
            }
        }
    }

    @Property(tries = 1000)
    void neverTwoPrimariesAndNoAcknowledgedWriteLost(@ForAll("lives") List<Step> steps) {
        World w = new World();
        for (Step s : steps) {
            try {
                w.apply(s);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n" + String.join("\n", w.trace), e);
            }
        }
    }

    /**
     * The same with a witness, and cables of the client network pulled and put back: a primary cut off from its
     * peer and the witness stops serving before the standby (which still hears the witness) may take over.
     */
    @Property(tries = 1000)
    void withAWitnessNeverTwoPrimariesEvenWhenOneIsCutOffFromTheClientNetwork(@ForAll("witnessedLives") List<Step> steps) {
        World w = new World(WITNESSED);
        for (Step s : steps) {
            try {
                w.apply(s);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n" + String.join("\n", w.trace), e);
            }
        }
    }

    /** Not vacuous either: primaries are fenced, and standbys take over from them. */
    @Property(tries = 1)
    void witnessedLivesReallyFenceAndFailOver(@ForAll("witnessedLives") List<Step> ignored) {
        int fences = 0, failovers = 0, writes = 0;
        java.util.Random r = new java.util.Random(7);
        for (int life = 0; life < 300; life++) {
            World w = new World(WITNESSED);
            for (int k = 0; k < 1500; k++) {
                try {
                    w.apply(randomStep(r, true));
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "\n" + String.join("\n", w.trace.subList(Math.max(0, w.trace.size() - 6000), w.trace.size())), e);
                }
            }
            fences += w.fences;
            failovers += w.failovers;
            writes += w.acked.cardinality();
        }
        System.out.printf("300 witnessed lives: %d fences, %d takeovers after a silent primary, %d acknowledged writes%n", fences, failovers, writes);
        assertThat(fences).isGreaterThan(20);
        assertThat(failovers).isGreaterThan(20);
        assertThat(writes).isGreaterThan(1000);
    }

    /** The model is not vacuous: over many lives, takeovers and acknowledged writes do happen. */
    @Property(tries = 1)
    void livesReallyFailOver(@ForAll("lives") List<Step> ignored) {
        int takeovers = 0, writes = 0, failovers = 0, switchovers = 0, forced = 0, forceRefused = 0;
        java.util.Random r = new java.util.Random(5);
        for (int life = 0; life < 300; life++) {
            World w = new World();
            for (int k = 0; k < 1500; k++) {
                try {
                    w.apply(randomStep(r, false));
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "\n" + String.join("\n", w.trace.subList(Math.max(0, w.trace.size() - 60), w.trace.size())), e);
                }
            }
            takeovers += w.takeovers;
            failovers += w.failovers;
            switchovers += w.switchovers;
            forced += w.forced;
            forceRefused += w.forceRefused;
            writes += w.acked.cardinality();
        }
        System.out.printf("300 lives: %d takeovers (%d after a silent primary, %d switchovers, %d forced; %d forced promotions refused by a probe or a link),"
                + " %d acknowledged writes%n", takeovers, failovers, switchovers, forced, forceRefused, writes);
        assertThat(takeovers).isGreaterThan(150);
        assertThat(failovers).isGreaterThan(20);
        assertThat(switchovers).isGreaterThan(5);
        assertThat(forced).isGreaterThan(5);
        assertThat(forceRefused).isGreaterThan(5);
        assertThat(writes).isGreaterThan(1000);
    }

    static Step randomStep(java.util.Random r, boolean witness) {
        Op[] ops = Op.values();
        int[] weight = witness ? new int[]{ 60, 1, 3, 1, 3, 6, 8, 4, 10, 1, 3, 0, 1, 2 } : new int[]{ 60, 1, 3, 1, 3, 6, 8, 4, 10, 1, 3, 1, 0, 0 };
        int total = 0;
        for (int x : weight) total += x;
        int pick = r.nextInt(total), k = 0;
        while (pick >= weight[k]) pick -= weight[k++];
        return new Step(ops[k], r.nextInt(2), r.nextInt(101));
    }

    @Provide
    Arbitrary<List<Step>> lives() { return lives(false); }

    @Provide
    Arbitrary<List<Step>> witnessedLives() { return lives(true); }

    Arbitrary<List<Step>> lives(boolean witness) {
        // With a witness no forced promotion: it asks no witness, and the operator accepts that it cannot tell a dead
        // peer from one cut off from the client network (docs/replication.md, "What remains").
        List<net.jqwik.api.Tuple.Tuple2<Integer, Arbitrary<Op>>> ops = new ArrayList<>(List.of(
                net.jqwik.api.Tuple.of(60, Arbitraries.just(Op.TIME)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Op.KILL)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Op.RESTART)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Op.CUT)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Op.HEAL)),
                net.jqwik.api.Tuple.of(6, Arbitraries.just(Op.CONNECT)),
                net.jqwik.api.Tuple.of(8, Arbitraries.just(Op.DELIVER)),
                net.jqwik.api.Tuple.of(4, Arbitraries.just(Op.SYNC)),
                net.jqwik.api.Tuple.of(10, Arbitraries.just(Op.WRITE)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Op.SWITCHOVER)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Op.DRAINED))));
        if (witness) {
            ops.add(net.jqwik.api.Tuple.of(2, Arbitraries.just(Op.ISOLATE)));
            ops.add(net.jqwik.api.Tuple.of(3, Arbitraries.just(Op.UNISOLATE)));
        } else {
            ops.add(net.jqwik.api.Tuple.of(1, Arbitraries.just(Op.FORCE)));
        }
        Arbitrary<Step> step = Combinators.combine(
                Arbitraries.<Op>frequencyOf(ops),
                Arbitraries.integers().between(0, 1),
                Arbitraries.integers().between(0, 100)).as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(1000);
    }
}
