package dev.netboot.replication;

import dev.netboot.replication.FailoverEffect.*;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One test per rule of {@link Failover}; times in milliseconds. */
class FailoverTest {

    static final long MS = 1_000_000L;
    static final Failover.Settings S = Failover.Settings.of(250 * MS, 3, 1000 * MS);

    /** A standby connected to a primary, both in sync. */
    static Failover connectedStandby() {
        Failover f = Failover.start(S, Role.STANDBY, 4, CopyState.CONSISTENT, 0, new ArrayList<>());
        f.linkUp(0, false);
        f.peerAnnouncement(1, Role.PRIMARY, 4);
        f.copyState(2, CopyState.UP_TO_DATE);
        return f;
    }

    static Failover connectedPrimary() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = Failover.start(S, Role.PRIMARY, 4, CopyState.CONSISTENT, 0, out);
        f.linkUp(0, true);
        f.peerAnnouncement(1, Role.STANDBY, 4);
        f.copyState(2, CopyState.UP_TO_DATE);
        for (long t = 250; t <= 1000; t += 250) out.addAll(f.tick(t * MS));
        assertThat(f.phase()).isEqualTo(Failover.Phase.PRIMARY);
        assertThat(out).contains(new PersistTerm(5)).anyMatch(e -> e instanceof Serve s && s.term() == 5);
        return f;
    }

    @Test
    void aDeadPrimaryIsTakenOverAfterTheSilentProbes() {
        Failover f = connectedStandby();
        List<FailoverEffect> out = new ArrayList<>(f.linkLost(10 * MS));
        assertThat(out).contains(new Probe(1));
        out.addAll(f.tick(259 * MS));
        assertThat(out).doesNotContain(new Probe(2));
        out.addAll(f.tick(260 * MS));
        out.addAll(f.tick(510 * MS));
        assertThat(f.serving()).isFalse();
        out.clear();
        out.addAll(f.tick(760 * MS));
        assertThat(f.serving()).isTrue();
        assertThat(f.term()).isEqualTo(5);
        // The term is durable before the address is taken; no peer: writes alone at once.
        assertThat(out).containsSubsequence(new PersistTerm(5), out.stream().filter(e -> e instanceof Serve).findFirst().orElseThrow(),
                out.stream().filter(e -> e instanceof WriteAlone).findFirst().orElseThrow());
    }

    /**
     * The standby's own cable pulled: its link goes and its probes go unanswered, as for a dead primary. With a
     * witness it hears nothing from that either and stays standby, probing; once the network is back the primary
     * answers a probe and this copy is outdated, never the one that serves.
     */
    @Test
    void withAWitnessASilentPrimaryIsTakenOverOnlyWhileTheWitnessAnswers() {
        Failover.Settings withWitness = S.withWitness(1000 * MS);
        Failover f = Failover.start(withWitness, Role.STANDBY, 4, CopyState.CONSISTENT, 0, new ArrayList<>());
        f.linkUp(0, false);
        f.peerAnnouncement(1, Role.PRIMARY, 4);
        f.copyState(2, CopyState.UP_TO_DATE);
        f.witnessAnswered(5 * MS);
        List<FailoverEffect> out = new ArrayList<>(f.linkLost(10 * MS));
        for (long t = 260; t <= 3000; t += 250) out.addAll(f.tick(t * MS));
        assertThat(f.serving()).as("the witness has been silent since 5 ms").isFalse();
        // Outdated at once: the primary, if alive, writes alone from (3 + 1) probe intervals after the loss.
        assertThat(f.phase()).isEqualTo(Failover.Phase.OUTDATED);
        assertThat(out).filteredOn(e -> e instanceof MarkOutdated m && m.reason().contains("witness is silent too")).hasSize(1);
        assertThat(out).filteredOn(e -> e instanceof Probe).as("no probes once outdated").hasSize(3);

        // A primary that really died, the witness still answering: taken over as without a witness.
        Failover g = Failover.start(withWitness, Role.STANDBY, 4, CopyState.CONSISTENT, 0, new ArrayList<>());
        g.linkUp(0, false);
        g.peerAnnouncement(1, Role.PRIMARY, 4);
        g.copyState(2, CopyState.UP_TO_DATE);
        g.linkLost(10 * MS);
        for (long t = 260; t <= 2000 && !g.serving(); t += 250) {
            g.witnessAnswered(t * MS - 100 * MS);
            g.tick(t * MS);
        }
        assertThat(g.serving()).isTrue();
        assertThat(g.term()).isEqualTo(5);

        // The witness silent, then answering again while the primary stays silent: no takeover even then. The
        // primary may have been alive and acknowledging writes alone (it does from 1 s after its loss of the link),
        // then died: serving this copy would lose them (FailoverProperties found it, with a cable pulled).
        Failover h = Failover.start(withWitness, Role.STANDBY, 4, CopyState.CONSISTENT, 0, new ArrayList<>());
        h.linkUp(0, false);
        h.peerAnnouncement(1, Role.PRIMARY, 4);
        h.copyState(2, CopyState.UP_TO_DATE);
        h.linkLost(10 * MS);
        for (long t = 260; t <= 3000; t += 250) h.tick(t * MS);
        assertThat(h.serving()).isFalse();
        for (long t = 3100; t <= 8000; t += 250) {
            h.witnessAnswered(t * MS - 50 * MS);
            h.tick(t * MS);
        }
        assertThat(h.serving()).isFalse();
        assertThat(h.phase()).isEqualTo(Failover.Phase.OUTDATED);
    }

    @Test
    void aStartingPrimaryConnectedToItsStandbyDoesNotNeedTheWitness() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = Failover.start(S.withWitness(1000 * MS), Role.PRIMARY, 4, CopyState.CONSISTENT, 0, out);
        f.linkUp(0, true);
        f.peerAnnouncement(1, Role.STANDBY, 4);
        f.copyState(2, CopyState.UP_TO_DATE);
        for (long t = 250; t <= 1000; t += 250) out.addAll(f.tick(t * MS));
        assertThat(f.serving()).isTrue();
    }

    @Test
    void aBrokenLinkWhileThePrimaryAnswersMarksOutdatedAndNeverTakesOver() {
        Failover f = connectedStandby();
        f.linkLost(0);
        f.tick(250 * MS);
        List<FailoverEffect> out = f.probeAnswered(300 * MS, 2);
        assertThat(out).anyMatch(e -> e instanceof MarkOutdated);
        assertThat(f.phase()).isEqualTo(Failover.Phase.OUTDATED);
        for (long t = 0; t < 60_000; t += 100) assertThat(f.tick(t * MS)).noneMatch(e -> e instanceof Serve || e instanceof Probe);
        assertThat(f.serving()).isFalse();
        // Eligible again only once connected and in sync.
        f.copyState(61_000 * MS, CopyState.UP_TO_DATE);
        assertThat(f.phase()).isEqualTo(Failover.Phase.OUTDATED);
        f.linkUp(62_000 * MS, false);
        f.copyState(63_000 * MS, CopyState.UP_TO_DATE);
        assertThat(f.phase()).isEqualTo(Failover.Phase.STANDBY);
    }

    @Test
    void aCopyNotUpToDateWhenTheLinkWentNeverTakesOver() {
        Failover f = connectedStandby();
        f.copyState(3, CopyState.UNUSABLE); // e.g. a sync target mid-resync
        List<FailoverEffect> out = f.linkLost(10);
        assertThat(out).anyMatch(e -> e instanceof MarkOutdated).noneMatch(e -> e instanceof Probe);
        for (long t = 0; t < 30_000; t += 100) assertThat(f.tick(t * MS)).noneMatch(e -> e instanceof Serve);
    }

    @Test
    void aPrimaryHearingAHigherTermDemotesAtOnce() {
        Failover f = connectedPrimary();
        List<FailoverEffect> out = f.peerAnnouncement(2000 * MS, Role.PRIMARY, 9);
        assertThat(out.getFirst()).isInstanceOf(StopServing.class);
        assertThat(out).contains(new PersistTerm(9));
        assertThat(f.serving()).isFalse();
        assertThat(f.term()).isEqualTo(9);
    }

    @Test
    void aPrimaryHearingALowerTermTellsThePeerItsOwn() {
        Failover f = connectedPrimary();
        assertThat(f.peerAnnouncement(2000 * MS, Role.PRIMARY, 3)).contains(new Announce(Role.PRIMARY, 5));
        assertThat(f.serving()).isTrue();
    }

    @Test
    void theStartedPrimaryWaitsForTheHandshakeAndNeverServesAlone() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = Failover.start(S, Role.PRIMARY, 0, CopyState.CONSISTENT, 0, out);
        for (long t = 0; t < 120_000; t += 100) out.addAll(f.tick(t * MS));
        assertThat(out).noneMatch(e -> e instanceof Serve);
        f.linkUp(120_000 * MS, true);
        f.peerAnnouncement(120_001 * MS, Role.STANDBY, 0);
        for (long t = 120_000; t < 121_000; t += 100) assertThat(f.tick(t * MS)).noneMatch(e -> e instanceof Serve);
        f.copyState(121_000 * MS, CopyState.UP_TO_DATE);
        for (long t = 121_000; t < 122_000; t += 100) out.addAll(f.tick(t * MS));
        assertThat(out).contains(new Announce(Role.PRIMARY, 1));
        assertThat(f.serving()).isTrue();
    }

    @Test
    void aStartedPrimaryThatFindsAnotherServingStaysStandby() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = Failover.start(S, Role.PRIMARY, 3, CopyState.CONSISTENT, 0, out);
        assertThat(out).contains(new Probe(1));
        f.probeAnswered(5 * MS, 1);
        assertThat(f.phase()).isEqualTo(Failover.Phase.STANDBY);
    }

    @Test
    void switchoverReleasesTheAddressDrainsThenHandsOverAndThePeerTakesTheNextTerm() {
        Failover a = connectedPrimary();
        Failover b = connectedStandby(); // term 4, saw a primary
        b.peerAnnouncement(1000 * MS, Role.PRIMARY, 5);
        List<FailoverEffect> out = a.switchover(2000 * MS);
        assertThat(out).hasSize(2);
        assertThat(out.get(0)).isInstanceOf(StopServing.class);
        assertThat(out.get(1)).isEqualTo(new AwaitDrain());
        assertThat(a.serving()).isFalse();
        out = a.drained(2100 * MS);
        assertThat(out).contains(new Announce(Role.STANDBY, 5));
        out = b.peerAnnouncement(2101 * MS, Role.STANDBY, 5);
        assertThat(b.serving()).isTrue();
        assertThat(b.term()).isEqualTo(6);
        assertThat(out).contains(new Announce(Role.PRIMARY, 6));
        a.peerAnnouncement(2102 * MS, Role.PRIMARY, 6);
        assertThat(a.phase()).isEqualTo(Failover.Phase.STANDBY);
        assertThat(a.term()).isEqualTo(6);
    }

    @Test
    void aPeerNotInSyncRefusesTheHandoverAndTheOldPrimaryServesAgain() {
        Failover a = connectedPrimary();
        Failover b = connectedStandby();
        b.peerAnnouncement(1000 * MS, Role.PRIMARY, 5);
        b.copyState(1001 * MS, CopyState.UNUSABLE);
        a.switchover(2000 * MS);
        a.drained(2001 * MS);
        List<FailoverEffect> refusal = b.peerAnnouncement(2002 * MS, Role.STANDBY, 5);
        assertThat(b.serving()).isFalse();
        assertThat(refusal).contains(new Announce(Role.STANDBY, 5));
        a.peerAnnouncement(2003 * MS, Role.STANDBY, 5);
        assertThat(a.serving()).isTrue();
        assertThat(a.term()).isEqualTo(6);
    }

    @Test
    void switchoverIsRefusedWithoutTheLinkOrOutOfSync() {
        Failover a = connectedPrimary();
        a.copyState(3000 * MS, CopyState.CONSISTENT);
        assertThatThrownBy(() -> a.switchover(3001 * MS)).hasMessageContaining("not in sync");
        a.linkLost(3002 * MS);
        assertThatThrownBy(() -> a.switchover(3003 * MS)).hasMessageContaining("link is down");
        assertThatThrownBy(() -> connectedStandby().switchover(1)).hasMessageContaining("not primary");
    }

    @Test
    void aPrimaryThatLostTheLinkWritesAloneOnlyAfterTheStandbyCouldHaveFoundItAlive() {
        Failover a = connectedPrimary();
        a.linkLost(5000 * MS);
        long alone = S.aloneAfterNanos();
        assertThat(alone).isEqualTo(2000 * MS); // ping 1 s + 4 probe intervals
        assertThat(a.tick(5000 * MS + alone - 1)).noneMatch(e -> e instanceof WriteAlone);
        assertThat(a.writesAlone()).isFalse();
        assertThat(a.tick(5000 * MS + alone)).anyMatch(e -> e instanceof WriteAlone);
        assertThat(a.writesAlone()).isTrue();
        a.linkUp(9000 * MS, true);
        assertThat(a.writesAlone()).isFalse();
    }

    @Test
    void aNodeThatHandedTheRoleOverWaitsLongerThanThePeerBeforeTakingBack() {
        Failover a = connectedPrimary();
        a.switchover(2000 * MS);
        a.drained(2001 * MS);
        a.linkLost(2002 * MS); // the handover may or may not have arrived
        List<FailoverEffect> out = new ArrayList<>();
        long t;
        for (t = 2002; t < 4000 && !a.serving(); t += 50) out.addAll(a.tick(t * MS));
        assertThat(a.serving()).as("not before the peer's fast path (≤ 2 s) plus its own probes").isFalse();
        for (; t < 10_000 && !a.serving(); t += 50) out.addAll(a.tick(t * MS));
        assertThat(a.serving()).isTrue();
    }

    @Test
    void aStartingPrimaryThatHeardThePeerAnnounceStandbyJustBeforeItsLinkUpStillDecides() {
        // The announcement and the link's "up" reach the failover by different ways in the adapter; heard in
        // this order, the announcement must not be forgotten (CI: the primary of a pair never served).
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = Failover.start(S, Role.PRIMARY, 4, CopyState.CONSISTENT, 0, out);
        f.peerAnnouncement(1, Role.STANDBY, 4);
        f.linkUp(2, true);
        f.copyState(3, CopyState.UP_TO_DATE);
        for (long t = 250; t <= 1500; t += 250) out.addAll(f.tick(t * MS));
        assertThat(f.phase()).isEqualTo(Failover.Phase.PRIMARY);
        // A link lost forgets it: the next link's peer must announce itself again.
        f.linkLost(1600 * MS);
        assertThat(f.writesAlone()).isFalse();
    }

    // ---------------------------------------------------------------- forced promotion (the operator's way out)

    /** A standby whose link was cut while the primary still answered its probes: outdated, never takes over by itself. */
    static Failover outdatedStandby() {
        Failover f = connectedStandby();
        f.linkLost(10 * MS);
        f.probeAnswered(20 * MS, 1);
        assertThat(f.phase()).isEqualTo(Failover.Phase.OUTDATED);
        return f;
    }

    /**
     * The operator's forced promotion with nobody answering on the client network: probes every interval for
     * {@link Failover.Settings#forcingWait}, then serves. Returns every effect, from the command on.
     */
    static List<FailoverEffect> forcedThroughSilence(Failover f, long fromMs) {
        List<FailoverEffect> out = new ArrayList<>(f.forcePrimary(fromMs * MS));
        assertThat(out).anyMatch(e -> e instanceof Probe);
        assertThat(f.phase()).isEqualTo(Failover.Phase.FORCING);
        long t = fromMs;
        for (; !f.serving() && t < fromMs + 60_000; t += 50) out.addAll(f.tick(t * MS));
        assertThat(f.serving()).isTrue();
        assertThat((t - fromMs) * MS).as("not before a peer on its own slowest path would have decided").isGreaterThanOrEqualTo(S.forcingWait());
        return out;
    }

    @Test
    void aForcedPromotionOfAnOutdatedStandbyGrowsTheTermPersistsItFirstThenServesAlone() {
        Failover f = outdatedStandby();
        // The primary dies afterwards: nothing answers, and still no takeover by itself.
        for (long t = 0; t < 30_000; t += 100) assertThat(f.tick(t * MS)).noneMatch(e -> e instanceof Serve);
        List<FailoverEffect> out = forcedThroughSilence(f, 30_000);
        assertThat(out.stream().filter(e -> e instanceof Probe).count()).as("probes of the service MAC first").isGreaterThanOrEqualTo(S.deadAfterProbes());
        assertThat(f.term()).isEqualTo(5);
        Serve serve = out.stream().filter(e -> e instanceof Serve).map(e -> (Serve) e).findFirst().orElseThrow();
        assertThat(serve.forced()).as("the data path keeps dialling a peer that may serve too").isTrue();
        assertThat(serve.term()).isEqualTo(5);
        // The term is durable before the address is taken, and with no peer the writes are acknowledged alone.
        assertThat(out).containsSubsequence(new PersistTerm(5), serve, out.stream().filter(e -> e instanceof WriteAlone).findFirst().orElseThrow());
        assertThat(f.writesAlone()).isTrue();
        assertThat(out).noneMatch(e -> e instanceof Announce); // nobody to tell: the peer hears the term at the next link-up
    }

    @Test
    void aPrimaryStartedAloneServesOnlyWhenForced() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = Failover.start(S, Role.PRIMARY, 7, CopyState.CONSISTENT, 0, out);
        for (long t = 0; t < 60_000; t += 100) out.addAll(f.tick(t * MS));
        assertThat(out).noneMatch(e -> e instanceof Serve);
        assertThat(f.phase()).isEqualTo(Failover.Phase.STARTING);
        out = forcedThroughSilence(f, 60_000);
        assertThat(out).containsSubsequence(new PersistTerm(8), out.stream().filter(e -> e instanceof Serve s && s.forced() && s.term() == 8).findFirst().orElseThrow());
        assertThat(f.serving()).isTrue();
        // No probe is left running to decide anything afterwards.
        for (long t = 70_000; t < 80_000; t += 100) assertThat(f.tick(t * MS)).noneMatch(e -> e instanceof Probe || e instanceof Serve || e instanceof StopServing);
    }

    @Test
    void aForcedPromotionIsRefusedWhileThePeerIsConnectedWhenServingAndForACopyThatMustNotServe() {
        Failover linked = connectedStandby();
        assertThatThrownBy(() -> linked.forcePrimary(5 * MS)).hasMessageContaining("peer is connected");
        assertThat(linked.phase()).isEqualTo(Failover.Phase.STANDBY);
        assertThat(linked.term()).as("a refusal changes nothing").isEqualTo(4);

        Failover primary = connectedPrimary();
        primary.linkLost(3000 * MS);
        assertThatThrownBy(() -> primary.forcePrimary(3001 * MS)).hasMessageContaining("primary already");
        assertThat(primary.term()).isEqualTo(5);

        Failover syncTarget = connectedStandby();
        syncTarget.copyState(3, CopyState.UNUSABLE); // mid-resync when the link went: inconsistent
        syncTarget.linkLost(10 * MS);
        assertThatThrownBy(() -> syncTarget.forcePrimary(20 * MS)).hasMessageContaining("must not serve");
        assertThat(syncTarget.serving()).isFalse();
        assertThat(syncTarget.term()).isEqualTo(4);
    }

    @Test
    void theOldPrimaryReturningToAForcedNodeHearsTheHigherTermAndNeverServes() {
        Failover a = connectedPrimary();           // term 5, serving
        Failover b = connectedStandby();
        b.peerAnnouncement(1000 * MS, Role.PRIMARY, 5);
        // The link is cut: B finds A alive and is outdated; A goes on alone, then dies.
        a.linkLost(2000 * MS);
        b.linkLost(2000 * MS);
        b.probeAnswered(2010 * MS, 1);
        assertThat(b.phase()).isEqualTo(Failover.Phase.OUTDATED);
        forcedThroughSilence(b, 10_000);
        assertThat(b.term()).isEqualTo(6);

        // A restarts (its config says primary, it persisted term 5) and meets B again.
        List<FailoverEffect> aOut = new ArrayList<>();
        Failover a2 = Failover.start(S, Role.PRIMARY, 5, CopyState.CONSISTENT, 20_000 * MS, aOut);
        List<FailoverEffect> toB = a2.linkUp(20_100 * MS, false);
        List<FailoverEffect> toA = b.linkUp(20_100 * MS, false);
        assertThat(toA).contains(new Announce(Role.PRIMARY, 6));
        assertThat(toB).contains(new Announce(Role.STANDBY, 5));
        aOut.addAll(a2.peerAnnouncement(20_101 * MS, Role.PRIMARY, 6));
        List<FailoverEffect> bOut = b.peerAnnouncement(20_101 * MS, Role.STANDBY, 5);
        assertThat(aOut).contains(new PersistTerm(6));
        assertThat(a2.phase()).isEqualTo(Failover.Phase.STANDBY);
        assertThat(a2.term()).isEqualTo(6);
        assertThat(bOut).noneMatch(e -> e instanceof StopServing);
        assertThat(b.serving()).isTrue();
        // Whatever the copies turn out to be (a resync, or a split brain that keeps them unusable), A never serves
        // while B is there, and its probes (none in this phase) decide nothing.
        a2.copyState(20_200 * MS, CopyState.UNUSABLE);
        for (long t = 20_200; t < 40_000; t += 100) assertThat(a2.tick(t * MS)).noneMatch(e -> e instanceof Serve || e instanceof Probe);
        assertThat(a2.serving()).isFalse();
    }

    @Test
    void anOldPrimaryThatStillServedStopsAtOnceWhenTheLinkHealsToTheForcedNode() {
        Failover a = connectedPrimary();           // term 5
        Failover b = connectedStandby();
        b.peerAnnouncement(1000 * MS, Role.PRIMARY, 5);
        a.linkLost(2000 * MS);
        b.linkLost(2000 * MS);
        b.probeAnswered(2010 * MS, 1);
        // The operator's mistake: A is alive, but the client network between the servers is cut too, so B's probes go unanswered.
        forcedThroughSilence(b, 5000);
        assertThat(a.serving()).isTrue();
        assertThat(b.serving()).isTrue();
        // The link heals: both announce, the lower term stops serving at once and the higher keeps serving.
        List<FailoverEffect> toB = a.linkUp(19_000 * MS, true);
        List<FailoverEffect> toA = b.linkUp(19_000 * MS, false);
        List<FailoverEffect> aOut = a.peerAnnouncement(19_001 * MS, Role.PRIMARY, ((Announce) toA.getLast()).term());
        List<FailoverEffect> bOut = b.peerAnnouncement(19_001 * MS, Role.PRIMARY, ((Announce) toB.getLast()).term());
        assertThat(aOut.getFirst()).isInstanceOf(StopServing.class);
        assertThat(aOut).contains(new PersistTerm(6));
        assertThat(a.serving()).isFalse();
        assertThat(b.serving()).isTrue();
        assertThat(bOut).contains(new Announce(Role.PRIMARY, 6)).noneMatch(e -> e instanceof StopServing);
    }

    @Test
    void theOperatorsDemotionWorksOnlyWhileApartAndLeavesAnOutdatedStandby() {
        Failover f = outdatedStandby();
        forcedThroughSilence(f, 1000);
        List<FailoverEffect> out = f.demote(20_000 * MS);
        assertThat(out.getFirst()).isInstanceOf(StopServing.class);
        assertThat(f.serving()).isFalse();
        assertThat(f.writesAlone()).isFalse();
        assertThat(f.phase()).isEqualTo(Failover.Phase.OUTDATED);
        assertThat(f.term()).as("a demotion does not give the term back").isEqualTo(5);
        for (long t = 20_000; t < 50_000; t += 100) assertThat(f.tick(t * MS)).noneMatch(e -> e instanceof Serve);
        assertThatThrownBy(() -> f.demote(50_000 * MS)).hasMessageContaining("not serving");
        // It can be forced again (term 6), and a connected primary's demotion is a switchover's job.
        forcedThroughSilence(f, 51_000);
        assertThat(f.term()).isEqualTo(6);
        Failover linked = connectedPrimary();
        assertThatThrownBy(() -> linked.demote(3000 * MS)).hasMessageContaining("switchover");
        assertThat(linked.serving()).isTrue();
    }

    @Test
    void aForcedPromotionIsRefusedWhenThePeerStillAnswersOnTheClientNetwork() {
        Failover f = outdatedStandby();
        List<FailoverEffect> out = new ArrayList<>(f.forcePrimary(1000 * MS));
        long seq = out.stream().filter(e -> e instanceof Probe).map(e -> ((Probe) e).seq()).reduce((x, y) -> y).orElseThrow();
        for (long t = 1000; t < 1500; t += 50) out.addAll(f.tick(t * MS));
        long last = out.stream().filter(e -> e instanceof Probe).map(e -> ((Probe) e).seq()).reduce((x, y) -> y).orElseThrow();
        assertThat(last).isGreaterThan(seq);
        out = f.probeAnswered(1500 * MS, last);   // the primary serves after all
        assertThat(out).anyMatch(e -> e instanceof ForcedPromotionRefused r && r.reason().contains("still answers"));
        assertThat(f.phase()).isEqualTo(Failover.Phase.OUTDATED);
        assertThat(f.term()).as("nothing persisted, nothing served").isEqualTo(4);
        assertThat(out).noneMatch(e -> e instanceof Serve || e instanceof PersistTerm);
        for (long t = 1500; t < 30_000; t += 100) assertThat(f.tick(t * MS)).noneMatch(e -> e instanceof Serve || e instanceof Probe);
    }

    @Test
    void aForcedPromotionEndsWhenThePeerConnectsMeanwhile() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = Failover.start(S, Role.PRIMARY, 2, CopyState.CONSISTENT, 0, out);
        for (long t = 0; t < 5000; t += 100) f.tick(t * MS);
        f.forcePrimary(5000 * MS);
        assertThatThrownBy(() -> f.forcePrimary(5100 * MS)).hasMessageContaining("under way");
        out = f.linkUp(5200 * MS, true);
        assertThat(out).anyMatch(e -> e instanceof ForcedPromotionRefused r && r.reason().contains("switchover"));
        // A starting primary goes on as one: with the peer standby and the copies in sync it decides by itself.
        assertThat(f.phase()).isEqualTo(Failover.Phase.STARTING);
        f.peerAnnouncement(5201 * MS, Role.STANDBY, 2);
        f.copyState(5202 * MS, CopyState.UP_TO_DATE);
        out.clear();
        for (long t = 5250; t < 8000 && !f.serving(); t += 50) out.addAll(f.tick(t * MS));
        assertThat(f.serving()).isTrue();
        assertThat(out).anyMatch(e -> e instanceof Serve s && !s.forced() && s.term() == 3);
    }

    // ------------------------------------------------------------------ the primary's half of the quorum

    static final Failover.Settings W = S.withWitness(1000 * MS);

    /** A primary serving under term 5 with a witness, heard from its peer and the witness up to {@code until} ms. */
    static Failover witnessedPrimary(long until, List<FailoverEffect> out) {
        Failover f = Failover.start(W, Role.PRIMARY, 4, CopyState.CONSISTENT, 0, out);
        f.linkUp(0, true);
        f.peerAnnouncement(1, Role.STANDBY, 4);
        f.copyState(2, CopyState.UP_TO_DATE);
        for (long t = 25; t <= until; t += 25) {
            f.peerHeard(t * MS);
            out.addAll(f.witnessAnswered(t * MS));
            out.addAll(f.tick(t * MS));
        }
        assertThat(f.phase()).isEqualTo(Failover.Phase.PRIMARY);
        return f;
    }

    /**
     * The primary's client cable cut at c: its peer and the witness go silent together. It stops serving before
     * the standby, which still hears the witness, could possibly take over, in the worst case for the fence: the
     * primary heard its peer at c, the standby last heard the primary a whole ping interval before c, so the
     * standby declares the link lost a timeout after that (c + 2 s) while the primary would only at c + 3 s.
     */
    @Test
    void withAWitnessAPrimaryCutOffFromPeerAndWitnessStopsServingBeforeTheStandbyCanTakeOver() {
        long c = 5000;
        List<FailoverEffect> p = new ArrayList<>();
        Failover primary = witnessedPrimary(c, p);
        Failover standby = Failover.start(W, Role.STANDBY, 5, CopyState.CONSISTENT, 0, new ArrayList<>());
        standby.linkUp(0, false);
        standby.peerAnnouncement(1, Role.PRIMARY, 5);
        standby.copyState(2, CopyState.UP_TO_DATE);
        long timeout = W.linkTimeoutNanos() / MS, ping = W.pingIntervalNanos() / MS;
        p.clear();
        long fencedAt = -1, standbyServesAt = -1;
        for (long t = c + 25; t <= c + 6000; t += 25) {
            if (t == c + timeout) p.addAll(primary.linkLost(t * MS));
            if (t == c - ping + timeout) standby.linkLost(t * MS);
            standby.witnessAnswered(t * MS);            // the standby's cable is fine
            p.addAll(primary.tick(t * MS));
            standby.tick(t * MS);                       // its probes reach a fenced (silent) or cut-off primary: no answer
            if (fencedAt < 0 && primary.fenced()) fencedAt = t;
            if (standbyServesAt < 0 && standby.serving()) standbyServesAt = t;
        }
        assertThat(standbyServesAt).as("the standby takes over").isPositive();
        assertThat(fencedAt).as("fenced at c + timeout - ping, before the standby serves at " + standbyServesAt)
                .isEqualTo(c + timeout - ping).isLessThan(standbyServesAt);
        assertThat(primary.serving()).isFalse();
        assertThat(primary.writesAlone()).as("it never acknowledged a write alone").isFalse();
        // The address goes down first; only then may the writes in flight finish on this copy, unacknowledged.
        assertThat(p).filteredOn(e -> e instanceof StopServing || e instanceof WriteAlone || e instanceof Serve)
                .satisfiesExactly(e -> assertThat(e).isInstanceOfSatisfying(StopServing.class, s -> assertThat(s.reason()).startsWith("FENCED")),
                        e -> assertThat(e).isInstanceOf(WriteAlone.class));
        assertThat(W.fenceBeforeTakeover()).isTrue();
    }

    /** The peer's process died (its kernel closed the link) but the witness answers: the primary serves on, degraded. */
    @Test
    void withAWitnessAnsweringAPrimaryThatLostOnlyItsPeerServesOnAlone() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = witnessedPrimary(1000, out);
        out.clear();
        out.addAll(f.linkLost(1010 * MS));
        for (long t = 1025; t <= 10_000; t += 25) {
            out.addAll(f.witnessAnswered(t * MS - 20 * MS));
            out.addAll(f.tick(t * MS));
        }
        assertThat(f.serving()).isTrue();
        assertThat(f.writesAlone()).isTrue();
        assertThat(out).noneMatch(e -> e instanceof StopServing);
    }

    /** The witness (say the router) reboots while the peer is connected: nothing changes, the standby cannot take over. */
    @Test
    void aSilentWitnessAloneDoesNotFenceAConnectedPrimary() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = witnessedPrimary(1000, out);
        out.clear();
        for (long t = 1025; t <= 10_000; t += 25) {
            f.peerHeard(t * MS);
            out.addAll(f.tick(t * MS));
        }
        assertThat(f.serving()).isTrue();
        assertThat(out).noneMatch(e -> e instanceof StopServing);
    }

    /** Without a witness nothing changes: a lone primary keeps serving, degraded, however long both are silent. */
    @Test
    void withoutAWitnessALonePrimaryServesOnDegraded() {
        Failover f = connectedPrimary();
        List<FailoverEffect> out = new ArrayList<>(f.linkLost(2000 * MS));
        for (long t = 2025; t <= 20_000; t += 25) out.addAll(f.tick(t * MS));
        assertThat(f.serving()).isTrue();
        assertThat(f.writesAlone()).isTrue();
        assertThat(out).noneMatch(e -> e instanceof StopServing);
    }

    /** Fenced, then the link is back and the peer is still standby under our term: serve again, announced. */
    @Test
    void aFencedPrimaryServesAgainWhenTheLinkShowsThePeerStillStandby() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = witnessedPrimary(1000, out);
        out.addAll(f.linkLost(1000 * MS));
        for (long t = 1025; t <= 4000; t += 25) out.addAll(f.tick(t * MS));
        assertThat(f.phase()).isEqualTo(Failover.Phase.FENCED);
        assertThat(f.role()).isEqualTo(Role.STANDBY);
        out.clear();
        out.addAll(f.linkUp(5000 * MS, true));
        assertThat(out).contains(new Announce(Role.STANDBY, 5));
        out.addAll(f.tick(5025 * MS));
        assertThat(f.serving()).as("not before the peer said what it is").isFalse();
        out.addAll(f.peerAnnouncement(5030 * MS, Role.STANDBY, 5));
        out.addAll(f.copyState(5040 * MS, CopyState.UP_TO_DATE));
        out.addAll(f.tick(5050 * MS));
        assertThat(f.serving()).isTrue();
        assertThat(f.term()).isEqualTo(6);
        assertThat(out).containsSubsequence(new PersistTerm(6), out.stream().filter(e -> e instanceof Serve).findFirst().orElseThrow(),
                new Announce(Role.PRIMARY, 6));
    }

    /** Not with a copy the handshake found unfit (split brain: it wrote, unacknowledged, and so did a peer that served). */
    @Test
    void aFencedPrimaryDoesNotServeAgainFromACopyInSplitBrain() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = witnessedPrimary(1000, out);
        f.linkLost(1000 * MS);
        for (long t = 1025; t <= 4000; t += 25) f.tick(t * MS);
        f.linkUp(5000 * MS, true);
        f.peerAnnouncement(5030 * MS, Role.STANDBY, 5);
        f.copyState(5040 * MS, CopyState.UNUSABLE);
        for (long t = 5050; t <= 8000; t += 25) f.tick(t * MS);
        assertThat(f.serving()).isFalse();
        assertThat(f.phase()).isEqualTo(Failover.Phase.FENCED);
    }

    /** Fenced, and the peer took over meanwhile (a higher term): standby, outdated, the failback path. */
    @Test
    void aFencedPrimaryWhosePeerTookOverStaysStandby() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = witnessedPrimary(1000, out);
        f.linkLost(1000 * MS);
        for (long t = 1025; t <= 4000; t += 25) f.tick(t * MS);
        assertThat(f.fenced()).isTrue();
        // The witness answers again first (the cable is back): that alone proves nothing about the peer.
        out.clear();
        for (long t = 4025; t <= 6000; t += 25) {
            out.addAll(f.witnessAnswered(t * MS));
            out.addAll(f.tick(t * MS));
        }
        assertThat(f.fenced()).isTrue();
        out.addAll(f.linkUp(6010 * MS, true));
        out.addAll(f.peerAnnouncement(6020 * MS, Role.PRIMARY, 6));
        out.addAll(f.copyState(6030 * MS, CopyState.UP_TO_DATE));   // e.g. after the failback resync
        for (long t = 6050; t <= 9000; t += 25) out.addAll(f.tick(t * MS));
        assertThat(f.serving()).isFalse();
        assertThat(f.phase()).isEqualTo(Failover.Phase.STANDBY);
        assertThat(f.term()).isEqualTo(6);
        assertThat(out).contains(new PersistTerm(6)).anyMatch(e -> e instanceof MarkOutdated m && m.reason().contains("took over"))
                .noneMatch(e -> e instanceof Serve);

        // A peer that served under a newer term and is standby again by now: its writes decide, we do not serve.
        Failover g = witnessedPrimary(1000, new ArrayList<>());
        g.linkLost(1000 * MS);
        for (long t = 1025; t <= 4000; t += 25) g.tick(t * MS);
        g.linkUp(5000 * MS, true);
        g.peerAnnouncement(5030 * MS, Role.STANDBY, 7);
        g.copyState(5040 * MS, CopyState.CONSISTENT);
        for (long t = 5050; t <= 8000; t += 25) g.tick(t * MS);
        assertThat(g.serving()).isFalse();
        assertThat(g.phase()).isEqualTo(Failover.Phase.OUTDATED);
    }

    /** The link never dropped (the cable was back within the link's timeout): fenced while quiet, serving once the peer talks again. */
    @Test
    void aPrimaryFencedOnAQuietLinkServesAgainWhenThePeerTalksAgain() {
        List<FailoverEffect> out = new ArrayList<>();
        Failover f = witnessedPrimary(1000, out);
        for (long t = 1025; t <= 3000; t += 25) out.addAll(f.tick(t * MS));
        assertThat(f.fenced()).as("quiet for timeout - ping = 2 s, witness silent").isTrue();
        assertThat(f.linkUp()).isTrue();
        out.clear();
        out.addAll(f.tick(3100 * MS));
        assertThat(f.serving()).as("nothing heard since").isFalse();
        f.peerHeard(3150 * MS);
        out.addAll(f.witnessAnswered(3150 * MS));
        out.addAll(f.tick(3175 * MS));
        assertThat(f.serving()).isTrue();
        assertThat(out).contains(new Announce(Role.PRIMARY, 6));
    }

    /**
     * A standby took over from a dead primary; then the witness falls silent (the router reboots). It writes alone
     * already: no peer can take over from it any more, so a fence would protect nothing and stop the last server.
     * It serves on through any witness silence. (Before, it fenced after 2 s and stayed fenced until the dead
     * peer's link came back.)
     */
    @Test
    void aPrimaryThatTookOverFromADeadPeerServesOnWhenTheWitnessFallsSilent() {
        Failover g = Failover.start(W, Role.STANDBY, 4, CopyState.CONSISTENT, 0, new ArrayList<>());
        g.linkUp(0, false);
        g.peerAnnouncement(1, Role.PRIMARY, 4);
        g.copyState(2, CopyState.UP_TO_DATE);
        g.linkLost(10 * MS);
        long t = 25;
        for (; t <= 3000 && !g.serving(); t += 25) {
            g.witnessAnswered(t * MS - 10 * MS);
            g.tick(t * MS);
        }
        assertThat(g.serving()).isTrue();
        long silentFrom = t;
        List<FailoverEffect> effects = new ArrayList<>();
        for (; t <= silentFrom + 60_000; t += 25) effects.addAll(g.tick(t * MS));
        assertThat(g.fenced()).isFalse();
        assertThat(g.serving()).as("a minute of silent witness").isTrue();
        assertThat(effects).noneMatch(e -> e instanceof FailoverEffect.StopServing);
    }
}
