package dev.netboot.app;

import dev.netboot.aoe.AoeServer;
import dev.netboot.aoe.ConfigProbe;
import dev.netboot.config.NetbootConfig;
import dev.netboot.net.MacAddress;
import dev.netboot.replication.CopyState;
import dev.netboot.replication.Failover;
import dev.netboot.replication.FailoverEffect;
import dev.netboot.replication.ReplicaState;
import dev.netboot.replication.ReplicationNode;
import dev.netboot.replication.Role;
import dev.netboot.replication.ServiceAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link Failover} for this node: a single thread owns it, polls the replication link every
 * {@link #TICK_MILLIS} ms (a kill -9 of the peer's process closes the TCP connection, so that edge is seen
 * within a tick), feeds it the probe answers and the peer's announcements, and carries out its effects:
 * probes through {@link ConfigProbe}, the service address through {@link ServiceAddress}, AoE started on
 * the service interface at the first takeover, and the unsolicited AoE config responses after each.
 */
public final class FailoverService implements AutoCloseable, ReplicationService.OperatorRoles {

    private static final Logger log = LoggerFactory.getLogger(FailoverService.class);
    static final int TICK_MILLIS = 25;

    /** What the appliance does for a takeover: AoE running on the service interface, returned. */
    public interface AoeStarter {
        AoeServer ensureAoe() throws IOException;

        /**
         * No longer primary: stop the AoE target and close its disks, so the peer can open storage both
         * reach (its lock), and a later takeover starts it afresh.
         */
        void releaseAoe();
    }

    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("failover").daemon().factory());
    private final ReplicationNode node;
    private final ServiceAddress address;
    private final AoeStarter aoe;
    private final Path termFile;
    private final Path stateDir;
    private String lastStatus = "";
    private final byte[] probeKey;
    private final Failover failover;
    private ConfigProbe probe;
    private boolean linkSeen;
    private volatile long lastTakeoverNanos;
    private final WitnessPinger witness;
    /** What went wrong in the last Serve (for the operator's answer to a forced promotion); null when nothing did. Failover thread only. */
    private String serveProblem;

    private final io.micrometer.core.instrument.Counter fences;

    private FailoverService(NetbootConfig.Replication r, ReplicationNode node, ServiceAddress address, AoeStarter aoe, Path termFile, byte[] secret,
                            io.micrometer.core.instrument.MeterRegistry registry) throws IOException {
        this.node = node;
        this.address = address;
        this.aoe = aoe;
        this.termFile = termFile;
        this.stateDir = termFile.getParent();
        this.probeKey = hmac(secret, "netboot failover probe key".getBytes(StandardCharsets.US_ASCII));
        Failover.Settings settings = Failover.Settings.of(TimeUnit.MILLISECONDS.toNanos(r.probeMillis()), r.deadAfterProbes(),
                TimeUnit.MILLISECONDS.toNanos(r.pingMillis())).withLinkTimeout(TimeUnit.MILLISECONDS.toNanos(r.timeoutMillis()));
        List<java.net.InetAddress> witnesses = WitnessPinger.parse(r.witness());
        // An answer counts for four probe intervals: pinged every interval, each ping waiting up to one.
        if (!witnesses.isEmpty()) settings = settings.withWitness(TimeUnit.MILLISECONDS.toNanos(4L * r.probeMillis()));
        if (!witnesses.isEmpty() && !settings.fenceBeforeTakeover())
            log.warn("failover: with these timings (probeMillis {}, deadAfterProbes {}, pingMillis {}, timeoutMillis {}) a primary cut off from its peer "
                    + "and the witness may stop serving only after the standby could have taken over (both answering AoE for a moment when its "
                    + "network returns): keep 4 x probeMillis + 125 < timeoutMillis - pingMillis + deadAfterProbes x probeMillis, and "
                    + "timeoutMillis - pingMillis + 125 below the same", r.probeMillis(), r.deadAfterProbes(), r.pingMillis(), r.timeoutMillis());
        List<FailoverEffect> first = new java.util.ArrayList<>();
        fences = io.micrometer.core.instrument.Counter.builder("netboot_failover_fences_total")
                .description("Times this primary stopped serving because it heard neither its peer nor any witness").register(registry);
        // The configured role: the data path starts standby on both nodes and follows this Failover.
        Role configured = ReplicationService.role(r).orElseThrow();
        this.failover = Failover.start(settings, configured, readTerm(termFile), CopyState.CONSISTENT, System.nanoTime(), first);
        this.probe = new ConfigProbe(r.clientInterface(), MacAddress.parse(r.serviceMac()), this::token,
                tag -> thread.execute(() -> run(failover.probeAnswered(System.nanoTime(), tag == 0 ? -1 : tag))));
        thread.execute(() -> run(first));
        // Both come from the link's event loop in the order they happened there, so the failover never hears
        // a peer's announcement before the link it came over is up (polling the link missed that order, and a
        // primary that started took the fresh "standby" for a stale one: it never decided to serve).
        node.onLinkChange(up -> thread.execute(() -> linkEdge(up)));
        node.onRoleAnnouncement((role, term) -> thread.execute(() -> run(failover.peerAnnouncement(System.nanoTime(), role, term))));
        thread.scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        this.witness = witnesses.isEmpty() ? null : new WitnessPinger(witnesses, r.clientInterface(), r.probeMillis(),
                at -> thread.execute(() -> run(failover.witnessAnswered(at))));
    }

    /** Prepares the service interface (down) before anything binds it, so a node always starts silent. */
    public static ServiceAddress prepare(NetbootConfig.Replication r) throws IOException {
        ServiceAddress a = new ServiceAddress(r.clientInterface(), r.serviceInterface(), r.serviceMac(), r.serviceIp());
        a.prepare();
        return a;
    }

    public static FailoverService start(NetbootConfig config, ServiceAddress address, ReplicationNode node, byte[] secret, AoeStarter aoe,
                                        io.micrometer.core.instrument.MeterRegistry registry) throws IOException {
        Path termFile = ReplicationService.stateDir(Path.of(config.dataDir())).resolve("term");
        FailoverService f = new FailoverService(config.replication(), node, address, aoe, termFile, secret, registry);
        io.micrometer.core.instrument.Gauge.builder("netboot_failover_fenced", f, x -> x.failover.fenced() ? 1 : 0)
                .description("1 while this primary is fenced: cut off from its peer and every witness, it serves nothing").register(registry);
        io.micrometer.core.instrument.Gauge.builder("netboot_failover_serving", f, x -> x.failover.serving() ? 1 : 0)
                .description("1 while this node serves the disks on the service address").register(registry);
        return f;
    }

    /** Answers the peer's probes on this node's AoE target (only proven ones: see {@link #isPeerProbe}). */
    void acceptProbes(AoeServer server) {
        server.responder().acceptPeerProbes(this::isPeerProbe);
    }

    private byte[] token(MacAddress from, int tag) {
        byte[] m = hmac(probeKey, ByteBuffer.allocate(10).put(from.toBytes()).putInt(tag).array());
        return java.util.Arrays.copyOf(m, 16);
    }

    private boolean isPeerProbe(MacAddress from, int tag, ByteBuffer config) {
        if (config.remaining() != 16) return false;
        byte[] got = new byte[16];
        config.duplicate().get(got);
        return MessageDigest.isEqual(got, token(from, tag));
    }

    /** Operator: planned move of the primary role to the peer; completes when this node has handed it over. */
    public CompletableFuture<String> switchover() {
        CompletableFuture<String> done = new CompletableFuture<>();
        thread.execute(() -> {
            try {
                run(failover.switchover(System.nanoTime()));
                done.complete("this node released the service address, drained its writes and handed the primary role to the peer (term "
                        + failover.term() + "); the peer announces itself when it has taken over");
            } catch (IllegalStateException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /**
     * Operator: {@code netboot replication promote --force} with failover on. The failover decides: it
     * refuses at once while the peer is connected or for a copy that must not serve, then probes the service
     * MAC ({@link Failover.Settings#forcingWait}) and refuses if the peer answers or connects; on silence it is
     * carried out as any takeover: term grown and persisted, AoE started, data path promoted (dialling the
     * peer on), service address up and announced, boot services started. Completes once this node serves, or
     * with the refusal.
     */
    @Override
    public CompletableFuture<String> promoteForced() {
        CompletableFuture<String> done = new CompletableFuture<>();
        thread.execute(() -> {
            Failover.Phase before = failover.phase();
            List<FailoverEffect> effects;
            try {
                effects = failover.forcePrimary(System.nanoTime());
            } catch (IllegalStateException e) {
                log.warn("failover: the operator's forced promotion is refused: {}", e.getMessage());
                done.completeExceptionally(e);
                return;
            }
            log.warn("failover: FORCED PROMOTION asked by the operator (this node is {}, its peer is not connected: {}); the service MAC is "
                    + "probed first. If the peer still serves where the probes do not reach, both copies take writes: a SPLIT BRAIN when the "
                    + "link heals, until 'netboot replication resolve DISK --discard HOST'", before, node.lastDisconnect());
            forced = done;
            forcedFrom = before;
            run(effects);
            writeStatus();
        });
        return done;
    }

    /** The operator's forced promotion waiting for the failover's probes (failover thread only). */
    private CompletableFuture<String> forced;
    private Failover.Phase forcedFrom;

    /** The forced promotion's Serve has run: tell the operator how it went. */
    private void forcedServed(long term) {
        CompletableFuture<String> f = forced;
        forced = null;
        if (f == null) return;
        String problem = serveProblem;
        f.complete("this node is PRIMARY (term " + term + ", was " + forcedFrom + ") and serves on " + address.interfaceName()
                + " without its peer" + (problem == null ? "" : "; BUT " + problem)
                + "; the peer, when it returns, hears the higher term and stays standby; if it still serves, this is a split brain when the link heals");
    }

    /**
     * Operator: {@code netboot replication demote} with failover on, only while apart from the peer (the undo
     * of a forced promotion); refused while connected (a switchover moves the role with no write lost).
     */
    @Override
    public CompletableFuture<String> demote() {
        CompletableFuture<String> done = new CompletableFuture<>();
        thread.execute(() -> {
            try {
                run(failover.demote(System.nanoTime()));
            } catch (IllegalStateException e) {
                done.completeExceptionally(e);
                return;
            }
            writeStatus();
            done.complete("this node released the service address and stopped AoE (term " + failover.term() + "); its disks become standby copies "
                    + "once the writes in flight are answered; it does not take over by itself until it is in sync with its peer again");
        });
        return done;
    }

    public String status() {
        return failover.phase() + " (term " + failover.term() + (failover.linkUp() ? ", link up" : ", link down") + ")";
    }

    public Failover.Phase phase() { return failover.phase(); }

    private void tick() {
        try {
            long now = System.nanoTime();
            if (linkSeen) {
                // A snapshot in which the link is already down, taken before its down edge reaches this thread,
                // is not the copy's state at the link's loss: fed in, it said "not up to date" and a standby
                // whose primary had just died refused to take over (seen in AoeFailoverIT). The edge comes next;
                // the state seen while the link was up is the one that decides.
                linkedCopyState(node.status()).ifPresent(c -> run(failover.copyState(now, c)));
            }
            long heard = node.lastHeardNanos();
            if (heard != Long.MIN_VALUE) failover.peerHeard(heard);
            boolean wasFenced = failover.fenced();
            run(failover.tick(now));
            if (failover.fenced() && !wasFenced) fences.increment();
            switchoverRequest();
            writeStatus();
        } catch (RuntimeException e) {
            log.error("failover: {}", e.toString(), e);
        }
    }

    private void linkEdge(boolean up) {
        if (up == linkSeen) return;
        linkSeen = up;
        long now = System.nanoTime();
        // The node-id tie-breaker: with false on both nodes, two primaries of the same term (possible after a
        // forced promotion) would both stop serving when they met.
        run(up ? failover.linkUp(now, node.winsTies()) : failover.linkLost(now));
        if (up) run(failover.copyState(now, copyState()));
    }

    /**
     * The disks both nodes replicate decide; a disk the peer does not hold (e.g. one on storage both
     * servers reach) does not stand in the way.
     */
    private CopyState copyState() {
        return copyState(node.status());
    }

    /** What a periodic snapshot tells the failover: nothing when the link is already down in it (its edge follows). */
    static java.util.Optional<CopyState> linkedCopyState(List<ReplicationNode.DiskStatus> disks) {
        return disks.stream().allMatch(ReplicationNode.DiskStatus::connected) ? java.util.Optional.of(copyState(disks)) : java.util.Optional.empty();
    }

    /**
     * What a snapshot of the disks is worth. A snapshot taken after the link dropped (the failover thread
     * hears of the drop a moment later) says nothing is up to date: skipping its disks made an empty
     * verdict "up to date", and a blank standby whose link blinked took over.
     */
    static CopyState copyState(List<ReplicationNode.DiskStatus> disks) {
        CopyState worst = CopyState.UP_TO_DATE;
        for (ReplicationNode.DiskStatus d : disks) {
            if (!d.connected()) return CopyState.CONSISTENT;
            ReplicaState s = d.state();
            // Degraded while connected: the peer does not hold this disk (or failed a write to it). The
            // primary's own copy is what it is; on the standby such a copy is behind.
            if (s == ReplicaState.DEGRADED && d.role() == Role.PRIMARY) continue;
            if (s == ReplicaState.SYNC_TARGET || s == ReplicaState.SPLIT_BRAIN || s == ReplicaState.UNRELATED) return CopyState.UNUSABLE;
            if (s != ReplicaState.UP_TO_DATE && s != ReplicaState.SYNC_SOURCE) worst = CopyState.CONSISTENT;
        }
        return worst;
    }

    private void run(List<FailoverEffect> effects) {
        for (FailoverEffect e : effects) {
            if (e instanceof FailoverEffect.Serve) serveProblem = null;
            try {
                effect(e);
            } catch (IOException | RuntimeException ex) {
                log.error("failover: {} failed: {}", e, ex.getMessage(), ex);
                if (e instanceof FailoverEffect.Serve) serveProblem = "taking the service address failed: " + ex.getMessage();
            }
            if (e instanceof FailoverEffect.Serve s && s.forced()) forcedServed(s.term());
        }
    }

    private volatile java.util.function.Consumer<Boolean> servingListener = serving -> {};

    /**
     * Hears "this node serves now" (after the service address is up) and "stopped serving" (after it is
     * down), on the failover thread: the boot services follow the role here (they must not block it).
     */
    public void onServing(java.util.function.Consumer<Boolean> listener) { this.servingListener = listener; }

    private void servingChanged(boolean serving) {
        try {
            servingListener.accept(serving);
        } catch (RuntimeException ex) {
            log.warn("failover: a listener of the role change failed: {}", ex.toString());
        }
    }

    private void effect(FailoverEffect e) throws IOException {
        switch (e) {
            case FailoverEffect.Probe p -> probe.probe(p.seq());
            case FailoverEffect.PersistTerm t -> writeTerm(termFile, t.term());
            case FailoverEffect.Serve s -> {
                long t0 = System.nanoTime();
                log.warn("failover: {}", s.reason());
                AoeServer server = aoe.ensureAoe();
                acceptProbes(server);
                // The data path first: a client write that arrives once the address is up must find a primary.
                // Forced: the peer may serve too (only cut off) and would not dial; this node dials on.
                List<String> refused = await(s.forced() ? node.promoteForced() : node.promote(), "promotion");
                if (refused == null) serveProblem = "the data path's promotion did not complete (see the log)";
                if (refused != null && !refused.isEmpty()) {
                    log.error("failover: these disks must not be served from this copy: {}", refused);
                    serveProblem = "not served (their copies must not serve): " + refused;
                }
                address.up();
                server.announce();
                lastTakeoverNanos = System.nanoTime() - t0;
                servingChanged(true);
                log.warn("failover: serving on {} (term {}) {} ms after the decision; announced {} disk(s)", address.interfaceName(), s.term(),
                        lastTakeoverNanos / 1_000_000, server.exported().size());
                // Exports that land a moment later (catalog poll), and a switch that missed the first frames.
                for (int ms : new int[]{200, 1000, 3000}) thread.schedule(() -> { if (failover.serving()) server.announce(); }, ms, TimeUnit.MILLISECONDS);
            }
            case FailoverEffect.StopServing s -> {
                address.down();
                servingChanged(false);
                log.warn("failover: {}", s.reason());
                // A switchover closes the target once its writes are drained (awaitDrain); a demotion at once,
                // and the data path follows once the writes in flight are answered (never blocks this thread).
                if (failover.phase() != Failover.Phase.DRAINING) {
                    aoe.releaseAoe();
                    node.demote();
                }
            }
            case FailoverEffect.AwaitDrain a -> awaitDrain(System.nanoTime());
            case FailoverEffect.Announce a -> node.announce(a.role(), a.term());
            case FailoverEffect.MarkOutdated m -> log.warn("failover: {}", m.reason());
            case FailoverEffect.WriteAlone w -> {
                log.warn("failover: {}", w.reason());
                node.writeAlone();
            }
            case FailoverEffect.Report r -> log.info("failover: {}", r.message());
            case FailoverEffect.ForcedPromotionRefused r -> {
                log.warn("failover: the operator's forced promotion is refused: {}", r.reason());
                CompletableFuture<String> f = forced;
                forced = null;
                if (f != null) f.completeExceptionally(new IllegalStateException(r.reason()));
            }
        }
    }

    /**
     * {@code netboot replication switchover} asks through a file in the state directory (root's, like the
     * catalog the disk commands edit): {@code switchover.request} holds a nonce, the answer goes to
     * {@code switchover.NONCE.result}, and {@code failover-status} shows the phase and term as they change.
     */
    private void switchoverRequest() {
        Path request = stateDir.resolve(SWITCHOVER_REQUEST);
        if (!Files.exists(request)) return;
        String nonce;
        try {
            nonce = Files.readString(request).strip();
            Files.deleteIfExists(request);
        } catch (IOException e) {
            return;
        }
        if (!nonce.matches("[A-Za-z0-9]{1,64}")) return;
        String answer;
        try {
            run(failover.switchover(System.nanoTime()));
            answer = "ok: releasing the service address and draining writes; the role goes to the peer at term " + (failover.term() + 1);
        } catch (IllegalStateException e) {
            answer = "refused: " + e.getMessage();
        }
        log.warn("failover: operator asked for a switchover: {}", answer);
        writeStatus(); // before the answer, so the command never reads the phase from before it
        try {
            OperatorFiles.put(stateDir.resolve("switchover." + nonce + ".result"), answer + "\n");
        } catch (IOException e) {
            log.warn("failover: cannot answer the switchover request: {}", e.getMessage());
        }
    }

    public static final String SWITCHOVER_REQUEST = "switchover.request";
    public static final String STATUS_FILE = "failover-status";

    private void writeStatus() {
        String s = "phase=" + failover.phase() + " term=" + failover.term() + " link=" + (failover.linkUp() ? "up" : "down")
                + (failover.fenced() ? " FENCED: cut off from the peer and every witness, serving nothing until the link shows the peer standby" : "") + "\n";
        if (s.equals(lastStatus)) return;
        try {
            OperatorFiles.put(stateDir.resolve(STATUS_FILE), s);
            lastStatus = s;
        } catch (IOException e) {
            log.warn("failover: cannot write {}: {}", STATUS_FILE, e.getMessage());
        }
    }

    /** Switchover: the address is down, so no new write arrives; wait for the ones in flight to be on both copies. */
    private void awaitDrain(long since) {
        int inFlight = node.status().stream().mapToInt(ReplicationNode.DiskStatus::writesInFlight).sum();
        if (inFlight == 0 && System.nanoTime() - since > TimeUnit.MILLISECONDS.toNanos(50)) {
            if (failover.phase() == Failover.Phase.DRAINING) {
                aoe.releaseAoe();
                // Standby before the role is handed over: the peer's first replicated write must find one.
                await(node.demote(), "demotion");
            }
            run(failover.drained(System.nanoTime()));
            return;
        }
        thread.schedule(() -> awaitDrain(since), 10, TimeUnit.MILLISECONDS);
    }

    private static <T> T await(CompletableFuture<T> f, String what) {
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.error("failover: {} of the data path did not complete: {}", what, e.toString());
            return null;
        }
    }

    static long readTerm(Path file) throws IOException {
        if (!Files.exists(file)) return 0;
        return Long.parseLong(Files.readString(file).strip());
    }

    /** Durable before the address goes up (the effect order says so): write, fsync, rename. */
    static void writeTerm(Path file, long term) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling("term.tmp");
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap((term + "\n").getBytes(StandardCharsets.US_ASCII)));
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (witness != null) witness.close();
        thread.shutdownNow();
        if (probe != null) probe.close();
        try {
            if (failover.serving()) address.down();
        } catch (IOException e) {
            log.warn("failover: releasing the service address: {}", e.getMessage());
        }
    }
}
