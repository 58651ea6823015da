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
 * witness; docs/replication.md).
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

    enum Op { TIME, KILL, RESTART, CUT, HEAL, CONNECT, DELIVER, SYNC, WRITE, SWITCHOVER, DRAINED, FORCE }

    record Step(Op op, int node, int amount) {}

    static final class Node {
        final Role configured;
        Failover f;
        long persistedTerm;
        boolean serving, alone, awaitingDrain, linkView;
        Long lossAt;               // the link's loss is noticed at this time (cut: within a ping interval)
        final BitSet data = new BitSet();
        boolean synced;            // copy equal to the peer's and replicating (protocol C)
        Node(Role configured) { this.configured = configured; }
        boolean alive() { return f != null; }
    }

    final class World {
        final Node[] n = { new Node(Role.PRIMARY), new Node(Role.STANDBY) };
        final List<ArrayDeque<Role[]>> queues = List.of(new ArrayDeque<>(), new ArrayDeque<>()); // to node i
        final List<ArrayDeque<Long>> terms = List.of(new ArrayDeque<>(), new ArrayDeque<>());
        final BitSet acked = new BitSet();
        long now = 1;
        boolean cut;
        int nextWrite;
        int takeovers, failovers, switchovers, forced, forceRefused;
        final List<String> trace = new ArrayList<>();

        World() {
            for (int i = 0; i < 2; i++) start(i);
        }

        void start(int i) {
            List<FailoverEffect> out = new ArrayList<>();
            Node x = n[i];
            x.serving = x.alone = x.awaitingDrain = x.linkView = x.synced = false;
            x.lossAt = null;
            x.f = Failover.start(SETTINGS, x.configured, x.persistedTerm, CopyState.CONSISTENT, now, out);
            run(i, out);
        }

        void run(int i, List<FailoverEffect> effects) {
            Node x = n[i];
            List<Long> probes = new ArrayList<>();
            for (FailoverEffect e : effects) {
                trace.add("  t=" + now / MS + " node " + i + " " + x.f.phase() + ": " + e);
                switch (e) {
                    case Probe p -> { if (n[1 - i].alive() && n[1 - i].serving) probes.add(p.seq()); }
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
                    case StopServing s -> x.serving = false;
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
                    for (int k = 0; k < 2; k++) if (n[k].alive()) run(k, n[k].f.tick(now));
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
                case HEAL -> cut = false;
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
                    if (!x.alive() || !x.serving) return;
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

    /** The model is not vacuous: over many lives, takeovers and acknowledged writes do happen. */
    @Property(tries = 1)
    void livesReallyFailOver(@ForAll("lives") List<Step> ignored) {
        int takeovers = 0, writes = 0, failovers = 0, switchovers = 0, forced = 0, forceRefused = 0;
        java.util.Random r = new java.util.Random(5);
        for (int life = 0; life < 300; life++) {
            World w = new World();
            for (int k = 0; k < 1500; k++) {
                try {
                    w.apply(randomStep(r));
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

    static Step randomStep(java.util.Random r) {
        Op[] ops = Op.values();
        int[] weight = { 60, 1, 3, 1, 3, 6, 8, 4, 10, 1, 3, 1 };
        int total = 0;
        for (int x : weight) total += x;
        int pick = r.nextInt(total), k = 0;
        while (pick >= weight[k]) pick -= weight[k++];
        return new Step(ops[k], r.nextInt(2), r.nextInt(101));
    }

    @Provide
    Arbitrary<List<Step>> lives() {
        Arbitrary<Step> step = Combinators.combine(
                Arbitraries.frequencyOf(
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
                        net.jqwik.api.Tuple.of(3, Arbitraries.just(Op.DRAINED)),
                        net.jqwik.api.Tuple.of(1, Arbitraries.just(Op.FORCE))),
                Arbitraries.integers().between(0, 1),
                Arbitraries.integers().between(0, 100)).as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(1000);
    }
}
