package dev.netboot.replication;

import dev.netboot.storage.MemoryBlockStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Netty adapter with real TCP on loopback, two nodes in one JVM with memory disks: the link comes up,
 * a write is acknowledged only once it is on both, a stopped standby makes the primary degraded and a
 * restarted one is quick-resynced, a connection without the secret is refused and counted.
 */
class ReplicationNodeTest {

    static final int SIZE = 8 << 20;
    static final byte[] SECRET = "a shared secret for the test".getBytes();

    @TempDir Path dir;
    final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) { return s.getLocalPort(); }
    }

    ReplicationNode node(String name, long id, Role role, int listen, int peer, MemoryBlockStore store, SimpleMeterRegistry registry, byte[] secret) throws Exception {
        ReplicationNode.Settings s = new ReplicationNode.Settings(id, role, secret, new InetSocketAddress("127.0.0.1", listen), "127.0.0.1", peer,
                Duration.ofMillis(100), Duration.ofMillis(600), 0, false, dir.resolve(name));
        ReplicationNode n = new ReplicationNode(s, List.of(new ReplicationNode.DiskSpec("1.1", SIZE)), d -> store, registry).start();
        open.add(n);
        return n;
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting until " + what);
            Thread.sleep(20);
        }
    }

    static ReplicaState state(ReplicationNode n) { return n.status().getFirst().state(); }

    static String md5(MemoryBlockStore s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.snapshot()));
    }

    static boolean write(ReplicationNode n, long offset, byte[] data) throws Exception {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        n.write("1.1", offset, ByteBuffer.wrap(data), false, done::complete);
        return done.get(10, TimeUnit.SECONDS);
    }

    @Test
    void writesReachBothCopiesAndAQuickResyncMovesOnlyWhatChangedWhileApart() throws Exception {
        int pPort = freePort(), sPort = freePort();
        MemoryBlockStore pStore = new MemoryBlockStore(SIZE), sStore = new MemoryBlockStore(SIZE);
        SimpleMeterRegistry pReg = new SimpleMeterRegistry(), sReg = new SimpleMeterRegistry();
        ReplicationNode primary = node("p", 1, Role.PRIMARY, pPort, sPort, pStore, pReg, SECRET);
        ReplicationNode standby = node("s", 2, Role.STANDBY, sPort, pPort, sStore, sReg, SECRET);
        await(() -> state(primary) == ReplicaState.UP_TO_DATE && state(standby) == ReplicaState.UP_TO_DATE, "both up to date");
        assertThat(primary.connected()).isTrue();
        assertThat(primary.lastHeardFromPeer()).isPresent();

        Random random = new Random(5);
        for (int i = 0; i < 100; i++) {
            byte[] data = new byte[4096];
            random.nextBytes(data);
            assertThat(write(primary, (long) random.nextInt(SIZE / 4096) * 4096, data)).isTrue();
            // Protocol C: when the client hears "done", the standby's copy has it.
            assertThat(md5(sStore)).isEqualTo(md5(pStore));
        }

        // A client FLUSH: the standby synced all of them (otherwise its crash could lose them, and they would move too).
        assertThat(flush(primary)).isTrue();

        // The standby goes away; the primary goes on alone and records what it writes.
        standby.close();
        open.remove(standby);
        await(() -> state(primary) == ReplicaState.DEGRADED, "primary degraded");
        for (int i = 0; i < 20; i++) {
            byte[] data = new byte[4096];
            random.nextBytes(data);
            assertThat(write(primary, (long) i * 64 * 4096, data)).isTrue();
        }
        assertThat(primary.status().getFirst().outOfSyncBytes()).isEqualTo(20 * 4096);
        assertThat(md5(sStore)).isNotEqualTo(md5(pStore));

        // The standby comes back (same state folder): only the 20 dirty regions move.
        SimpleMeterRegistry sReg2 = new SimpleMeterRegistry();
        ReplicationNode again = node("s", 2, Role.STANDBY, sPort, pPort, sStore, sReg2, SECRET);
        await(() -> state(primary) == ReplicaState.UP_TO_DATE && state(again) == ReplicaState.UP_TO_DATE, "resynced");
        assertThat(md5(sStore)).isEqualTo(md5(pStore));
        assertThat(sReg2.get("netboot_replication_resync_received_bytes_total").counter().count()).isEqualTo(20 * 4096);
        assertThat(pReg.get("netboot_replication_degraded_seconds_total").functionCounter().count()).isPositive();
    }

    /** A primary and a standby on loopback, in sync (each on its own store). */
    ReplicationNode[] pairUpToDate(MemoryBlockStore pStore, MemoryBlockStore sStore) throws Exception {
        return pairUpToDate(pStore, sStore, freePort(), freePort());
    }

    ReplicationNode[] pairUpToDate(MemoryBlockStore pStore, MemoryBlockStore sStore, int pPort, int sPort) throws Exception {
        ReplicationNode primary = node("p", 1, Role.PRIMARY, pPort, sPort, pStore, new SimpleMeterRegistry(), SECRET);
        ReplicationNode standby = node("s", 2, Role.STANDBY, sPort, pPort, sStore, new SimpleMeterRegistry(), SECRET);
        await(() -> state(primary) == ReplicaState.UP_TO_DATE && state(standby) == ReplicaState.UP_TO_DATE, "both up to date");
        return new ReplicationNode[] {primary, standby};
    }

    /**
     * A client's sequential writes come as 1 KiB AoE frames, handed over together per receive batch: each copy
     * takes a run of adjacent ones as one write, after the frames to the peer have left.
     */
    @Test
    void adjacentWritesOfOneBurstAreOneWriteOnEachCopy() throws Exception {
        MemoryBlockStore pStore = new MemoryBlockStore(SIZE), sStore = new MemoryBlockStore(SIZE);
        ReplicationNode[] pair = pairUpToDate(pStore, sStore);
        ReplicationNode primary = pair[0], standby = pair[1];
        assertThat(write(primary, 0, new byte[4096])).isTrue();   // the extent's activity-log transaction, out of the way
        long pBefore = pStore.writeCalls(), sBefore = sStore.writeCalls();
        Random random = new Random(3);
        List<CompletableFuture<Boolean>> done = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            byte[] data = new byte[1024];
            random.nextBytes(data);
            CompletableFuture<Boolean> f = new CompletableFuture<>();
            primary.writeHeld("1.1", 8192 + i * 1024L, ByteBuffer.wrap(data), false, f::complete);
            done.add(f);
        }
        // And one further on, not adjacent: a write of its own.
        CompletableFuture<Boolean> apart = new CompletableFuture<>();
        primary.writeHeld("1.1", 1 << 20, ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), false, apart::complete);
        primary.handOver();
        for (CompletableFuture<Boolean> f : done) assertThat(f.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(apart.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(md5(sStore)).isEqualTo(md5(pStore));
        assertThat(pStore.snapshot()[1 << 20]).isEqualTo((byte) 1);
        assertThat(pStore.writeCalls() - pBefore).as("the primary's writes for 33 client writes").isEqualTo(2);
        // The standby's come as the TCP stream delivers them: one read holds them all here, yet a split is allowed.
        assertThat(sStore.writeCalls() - sBefore).as("the standby's writes for 33 client writes").isBetween(2L, 8L);
    }

    static boolean flush(ReplicationNode n) throws Exception {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        n.flush("1.1", done::complete);
        return done.get(10, TimeUnit.SECONDS);
    }

    /**
     * The standby's ack means written, not synced: writes no flush of the standby covered are marked when the link
     * goes, as its machine may have crashed with them in its page cache; a barrier the primary sends on its own
     * (DRBD's epochs) makes them durable there within a second, after which a lost link marks nothing.
     */
    @Test
    void writesTheStandbyNeverSyncedAreMarkedWhenTheLinkGoesAndABarrierSyncsThemWithinASecond() throws Exception {
        int pPort = freePort(), sPort = freePort();
        MemoryBlockStore pStore = new MemoryBlockStore(SIZE), sStore = new MemoryBlockStore(SIZE);
        ReplicationNode[] pair = pairUpToDate(pStore, sStore, pPort, sPort);
        ReplicationNode primary = pair[0], standby = pair[1];
        byte[] data = new byte[4096];
        new Random(9).nextBytes(data);
        for (int i = 0; i < 10; i++) assertThat(write(primary, (long) i * 16 * 4096, data)).isTrue();
        // Sequential writes are one range: 8 pages in a row.
        for (int i = 0; i < 8; i++) assertThat(write(primary, (6L << 20) + i * 4096L, data)).isTrue();
        // Synced writes (FUA) are durable on the standby before its ack: nothing to mark for them.
        CompletableFuture<Boolean> fua = new CompletableFuture<>();
        primary.write("1.1", 7L << 20, ByteBuffer.wrap(data), true, fua::complete);
        assertThat(fua.get(10, TimeUnit.SECONDS)).isTrue();
        standby.close();
        open.remove(standby);
        await(() -> state(primary) == ReplicaState.DEGRADED, "primary degraded");
        assertThat(primary.status().getFirst().outOfSyncBytes()).as("every write no flush of the standby covered").isEqualTo(18 * 4096);

        // Connected again (a quick resync moves them), writes again, and this time the link lasts past a barrier.
        ReplicationNode again = node("s", 2, Role.STANDBY, sPort, pPort, sStore, new SimpleMeterRegistry(), SECRET);
        await(() -> state(primary) == ReplicaState.UP_TO_DATE && state(again) == ReplicaState.UP_TO_DATE, "resynced");
        assertThat(md5(sStore)).isEqualTo(md5(pStore));
        for (int i = 0; i < 10; i++) assertThat(write(primary, (long) i * 16 * 4096, data)).isTrue();
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(ReplicationNode.BARRIER_NANOS) + 700);
        again.close();
        open.remove(again);
        await(() -> state(primary) == ReplicaState.DEGRADED, "primary degraded");
        assertThat(primary.status().getFirst().outOfSyncBytes()).as("the barrier covered them").isZero();
    }

    @Test
    void aDiskThePrimaryHasAndTheStandbyLacksIsCreatedThereAndFullySynced() throws Exception {
        int pPort = freePort(), sPort = freePort();
        MemoryBlockStore pStore = new MemoryBlockStore(SIZE);
        ReplicationNode primary = node("p", 1, Role.PRIMARY, pPort, sPort, pStore, new SimpleMeterRegistry(), SECRET);
        byte[] data = new byte[8192];
        new Random(3).nextBytes(data);
        assertThat(write(primary, 5 << 20, data)).isTrue();
        Map<String, MemoryBlockStore> made = new java.util.concurrent.ConcurrentHashMap<>();
        ReplicationNode.Settings s = new ReplicationNode.Settings(2, Role.STANDBY, SECRET, new InetSocketAddress("127.0.0.1", sPort), "127.0.0.1", pPort,
                Duration.ofMillis(100), Duration.ofMillis(600), 0, false, dir.resolve("s"));
        ReplicationNode standby = new ReplicationNode(s, List.of(), made::get, new SimpleMeterRegistry())
                .createMissingDisksWith((disk, size) -> {
                    made.put(disk, new MemoryBlockStore((int) size));
                    return java.util.Optional.of(new ReplicationNode.DiskSpec(disk, size));
                }).start();
        open.add(standby);
        await(() -> !standby.status().isEmpty() && state(standby) == ReplicaState.UP_TO_DATE && state(primary) == ReplicaState.UP_TO_DATE, "created and synced");
        assertThat(md5(made.get("1.1"))).isEqualTo(md5(pStore));
        assertThat(write(primary, 6 << 20, data)).isTrue();
        assertThat(md5(made.get("1.1"))).isEqualTo(md5(pStore));
    }

    @Test
    void aFullSyncOfABlankStandbySendsNoSparseRegions() throws Exception {
        int pPort = freePort(), sPort = freePort();
        MemoryBlockStore pStore = new MemoryBlockStore(SIZE), sStore = new MemoryBlockStore(SIZE);
        SimpleMeterRegistry sReg = new SimpleMeterRegistry();
        ReplicationNode primary = node("p", 1, Role.PRIMARY, pPort, sPort, pStore, new SimpleMeterRegistry(), SECRET);
        byte[] data = new byte[64 << 10];
        new Random(1).nextBytes(data);
        assertThat(write(primary, 1 << 20, data)).isTrue();   // written alone: the standby is not there yet
        ReplicationNode standby = node("s", 2, Role.STANDBY, sPort, pPort, sStore, sReg, SECRET);
        await(() -> state(standby) == ReplicaState.UP_TO_DATE, "full sync done");
        assertThat(md5(sStore)).isEqualTo(md5(pStore));
        // Every region was written here, but only the non-zero ones crossed as data.
        assertThat(sReg.get("netboot_replication_received_bytes_total").counter().count()).isLessThan(SIZE / 4.0);
    }

    @Test
    void aPeerWithoutTheSecretIsRefusedCountedAndNothingIsApplied() throws Exception {
        int pPort = freePort(), sPort = freePort();
        MemoryBlockStore pStore = new MemoryBlockStore(SIZE), sStore = new MemoryBlockStore(SIZE);
        SimpleMeterRegistry pReg = new SimpleMeterRegistry();
        ReplicationNode primary = node("p", 1, Role.PRIMARY, pPort, sPort, pStore, pReg, SECRET);
        ReplicationNode intruder = node("s", 2, Role.STANDBY, sPort, pPort, sStore, new SimpleMeterRegistry(), "not the secret at all!!".getBytes());
        await(() -> pReg.get("netboot_replication_refused_frames_total").tag("reason", "bad_mac").counter().count() >= 1, "a refusal counted");
        assertThat(primary.connected()).isFalse();
        assertThat(state(primary)).isIn(ReplicaState.CONNECTING, ReplicaState.DEGRADED);
        intruder.close();
        open.remove(intruder);

        // A stranger's bytes (an HTTP client) are refused from the first four.
        try (Socket s = new Socket("127.0.0.1", pPort)) {
            s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes());
            s.getOutputStream().flush();
            await(() -> pReg.get("netboot_replication_refused_frames_total").tag("reason", "bad_preamble").counter().count() >= 1, "stranger refused");
        }
        assertThat(primary.status().getFirst().state()).isNotEqualTo(ReplicaState.UP_TO_DATE);
    }

    // ---------------------------------------------------------------- TLS

    /** A throwaway self-signed certificate (EC P-256, BouncyCastle as the app's own generator uses). */
    static ReplicationTls identity(String name, java.util.function.Function<java.security.cert.X509Certificate, String> pinFor) throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair pair = g.generateKeyPair();
        org.bouncycastle.asn1.x500.X500Name subject = new org.bouncycastle.asn1.x500.X500Name("CN=" + name);
        java.util.Date now = new java.util.Date();
        var holder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(subject, java.math.BigInteger.valueOf(name.hashCode() & 0xffff),
                new java.util.Date(now.getTime() - 86_400_000L), new java.util.Date(now.getTime() + 86_400_000L), subject, pair.getPublic())
                .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
        java.security.cert.X509Certificate cert = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(holder);
        return new ReplicationTls(pair.getPrivate(), List.of(cert), pinFor.apply(cert));
    }

    ReplicationNode tlsNode(String name, long id, Role role, int listen, int peer, MemoryBlockStore store, SimpleMeterRegistry registry, ReplicationTls tls) throws Exception {
        ReplicationNode.Settings s = new ReplicationNode.Settings(id, role, SECRET, new InetSocketAddress("127.0.0.1", listen), "127.0.0.1", peer,
                Duration.ofMillis(100), Duration.ofMillis(600), 0, false, dir.resolve(name));
        ReplicationNode n = new ReplicationNode(s, List.of(new ReplicationNode.DiskSpec("1.1", SIZE)), d -> store, registry).withTls(tls).start();
        open.add(n);
        return n;
    }

    ReplicationNode failoverNode(String name, long id, Role configured, int listen, int peer, MemoryBlockStore store) throws Exception {
        ReplicationNode.Settings s = new ReplicationNode.Settings(id, configured, SECRET, new InetSocketAddress("127.0.0.1", listen), "127.0.0.1", peer,
                Duration.ofMillis(100), Duration.ofMillis(600), 0, false, dir.resolve(name));
        ReplicationNode n = new ReplicationNode(s, List.of(new ReplicationNode.DiskSpec("1.1", SIZE)), d -> store, new SimpleMeterRegistry(), true).start();
        open.add(n);
        return n;
    }

    @Test
    void overTlsWithPinnedCertificatesWritesReachBothCopiesAndNoClearDataCrosses() throws Exception {
        int pPort = freePort(), sPort = freePort();
        java.util.concurrent.atomic.AtomicReference<java.security.cert.X509Certificate> pCert = new java.util.concurrent.atomic.AtomicReference<>(), sCert = new java.util.concurrent.atomic.AtomicReference<>();
        // Each pins the other's: make both certificates first, then the identities with the other's fingerprint.
        ReplicationTls pTmp = identity("primary", c -> { pCert.set(c); return ""; });
        ReplicationTls sTmp = identity("standby", c -> { sCert.set(c); return ""; });
        ReplicationTls pTls = new ReplicationTls(pTmp.key(), pTmp.chain(), ReplicationTls.fingerprint(sCert.get()));
        ReplicationTls sTls = new ReplicationTls(sTmp.key(), sTmp.chain(), ReplicationTls.fingerprint(pCert.get()));
        MemoryBlockStore pStore = new MemoryBlockStore(SIZE), sStore = new MemoryBlockStore(SIZE);
        SimpleMeterRegistry pReg = new SimpleMeterRegistry();
        ReplicationNode primary = tlsNode("p", 1, Role.PRIMARY, pPort, sPort, pStore, pReg, pTls);
        ReplicationNode standby = tlsNode("s", 2, Role.STANDBY, sPort, pPort, sStore, new SimpleMeterRegistry(), sTls);
        await(() -> state(primary) == ReplicaState.UP_TO_DATE && state(standby) == ReplicaState.UP_TO_DATE, "both up to date over TLS");
        byte[] data = new byte[4096];
        java.util.Arrays.fill(data, (byte) 'Z');
        for (int i = 0; i < 20; i++) {
            assertThat(write(primary, (long) i * 8192, data)).isTrue();
            assertThat(md5(sStore)).isEqualTo(md5(pStore));
        }
        assertThat(pReg.get("netboot_replication_tls_refused_total").counter().count()).isZero();
    }

    @Test
    void overTlsAPeerWhoseCertificateIsNotThePinnedOneIsRefusedCountedAndLogged() throws Exception {
        int pPort = freePort(), sPort = freePort();
        java.util.concurrent.atomic.AtomicReference<java.security.cert.X509Certificate> sCert = new java.util.concurrent.atomic.AtomicReference<>();
        ReplicationTls sTmp = identity("standby", c -> { sCert.set(c); return ""; });
        // The primary pins a certificate that is not the standby's (a stranger with the right secret, or a typo).
        String wrong = ReplicationTls.fingerprint(identity("someone-else", c -> "").chain().getFirst());
        ReplicationTls pTls = identity("primary", c -> wrong);
        ReplicationTls sTls = new ReplicationTls(sTmp.key(), sTmp.chain(), pTls.fingerprint());
        SimpleMeterRegistry pReg = new SimpleMeterRegistry();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ReplicationNode.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged = new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try {
            ReplicationNode primary = tlsNode("p", 1, Role.PRIMARY, pPort, sPort, new MemoryBlockStore(SIZE), pReg, pTls);
            ReplicationNode standby = tlsNode("s", 2, Role.STANDBY, sPort, pPort, new MemoryBlockStore(SIZE), new SimpleMeterRegistry(), sTls);
            await(() -> pReg.get("netboot_replication_tls_refused_total").counter().count() >= 2, "the primary refused the standby's TLS twice (it redials)");
            assertThat(primary.connected()).isFalse();
            assertThat(standby.connected()).isFalse();
            assertThat(state(primary)).isNotEqualTo(ReplicaState.UP_TO_DATE);
            assertThat(logged.list).anyMatch(e -> e.getFormattedMessage().contains("REFUSED the TLS connection")
                    && e.getFormattedMessage().contains(ReplicationTls.fingerprint(sCert.get())) && e.getFormattedMessage().contains(wrong));
        } finally {
            logger.detachAppender(logged);
        }
    }

    @Test
    void rolesChangeAtRunTimeTheDataFollowsTheNewPrimaryAndTheNewStandbyDials() throws Exception {
        int aPort = freePort(), bPort = freePort();
        MemoryBlockStore aStore = new MemoryBlockStore(SIZE), bStore = new MemoryBlockStore(SIZE);
        byte[] seed = new byte[SIZE];
        new Random(9).nextBytes(seed);
        aStore.write(0, ByteBuffer.wrap(seed));
        ReplicationNode a = failoverNode("a", 1, Role.PRIMARY, aPort, bPort, aStore);
        ReplicationNode b = failoverNode("b", 2, Role.STANDBY, bPort, aPort, bStore);
        // Both start standby (the failover decides who serves): both dial, one connection stands, and the
        // configured primary's named data is synced to the blank copy.
        assertThat(a.role()).isEqualTo(Role.STANDBY);
        assertThat(b.role()).isEqualTo(Role.STANDBY);
        await(() -> state(a) == ReplicaState.UP_TO_DATE && state(b) == ReplicaState.UP_TO_DATE, "in sync");
        assertThat(md5(bStore)).isEqualTo(md5(aStore));
        byte[] data = new byte[4096];
        new Random(4).nextBytes(data);
        assertThat(write(a, 0, data)).as("a standby refuses client writes").isFalse();

        assertThat(a.promote().get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(a.role()).isEqualTo(Role.PRIMARY);
        assertThat(write(a, 4096, data)).isTrue();
        assertThat(md5(bStore)).isEqualTo(md5(aStore));

        // Switchover: the old primary first, then the new one; writes now flow the other way.
        a.demote().get(5, TimeUnit.SECONDS);
        assertThat(b.promote().get(5, TimeUnit.SECONDS)).isEmpty();
        new Random(5).nextBytes(data);
        assertThat(write(b, 8192, data)).isTrue();
        assertThat(md5(aStore)).isEqualTo(md5(bStore));
        assertThat(state(a)).isEqualTo(ReplicaState.UP_TO_DATE);

        // The dial rule follows the role: after the link drops, only the new standby (a) dials.
        b.reconnect();
        await(() -> !b.connected(), "link dropped");
        await(() -> b.connected() && state(b) == ReplicaState.UP_TO_DATE && state(a) == ReplicaState.UP_TO_DATE, "a dialled the new primary");
        assertThat(write(b, 12288, data)).isTrue();
        assertThat(md5(aStore)).isEqualTo(md5(bStore));

        // The new standby dies (after a client FLUSH, so the writes before it are durable there and not marked):
        // the primary's writes wait for the failover's WriteAlone, then complete alone.
        CompletableFuture<Boolean> flushed = new CompletableFuture<>();
        b.flush("1.1", flushed::complete);
        assertThat(flushed.get(5, TimeUnit.SECONDS)).isTrue();
        a.close();
        open.remove(a);
        await(() -> state(b) == ReplicaState.DEGRADED, "b degraded");
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        b.write("1.1", 16384, ByteBuffer.wrap(data), false, done::complete);
        Thread.sleep(500);
        assertThat(done).as("acknowledged alone before WriteAlone").isNotDone();
        b.writeAlone();
        assertThat(done.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(b.status().getFirst().outOfSyncBytes()).isEqualTo(4096);
    }

    @Test
    void aDiskReplacedByAnotherFileLeavesReplicationAndComesBackAsANewDiskTheStandbysOldCopyNeverPassesFor() throws Exception {
        int pPort = freePort(), sPort = freePort();
        MemoryBlockStore pStore = new MemoryBlockStore(SIZE), sStore = new MemoryBlockStore(SIZE);
        java.util.concurrent.atomic.AtomicReference<MemoryBlockStore> pCurrent = new java.util.concurrent.atomic.AtomicReference<>(pStore);
        List<String> released = new java.util.concurrent.CopyOnWriteArrayList<>();
        ReplicationNode.DiskStores pStores = new ReplicationNode.DiskStores() {
            @Override public dev.netboot.storage.BlockStore store(String disk) { return pCurrent.get(); }
            @Override public void released(String disk) { released.add(disk); }
        };
        ReplicationNode.Settings ps = new ReplicationNode.Settings(1, Role.PRIMARY, SECRET, new InetSocketAddress("127.0.0.1", pPort), "127.0.0.1", sPort,
                Duration.ofMillis(100), Duration.ofMillis(600), 0, false, dir.resolve("p"));
        SimpleMeterRegistry pReg = new SimpleMeterRegistry();
        ReplicationNode primary = new ReplicationNode(ps, List.of(new ReplicationNode.DiskSpec("1.1", SIZE, "old-file")), pStores, pReg).start();
        open.add(primary);
        ReplicationNode standby = node("s", 2, Role.STANDBY, sPort, pPort, sStore, new SimpleMeterRegistry(), SECRET);
        await(() -> state(primary) == ReplicaState.UP_TO_DATE && state(standby) == ReplicaState.UP_TO_DATE, "both up to date");
        String oldIds = primary.status().getFirst().ids();
        assertThat(primary.backingOf("1.1")).contains("old-file");

        // Re-imaged: the catalog names another file under 1.1. It leaves replication (its store released, meters gone) ...
        primary.removeDisks(List.of("1.1")).get(10, TimeUnit.SECONDS);
        assertThat(primary.disks()).isEmpty();
        assertThat(primary.replicates("1.1")).isFalse();
        assertThat(released).containsExactly("1.1");
        assertThat(pReg.find("netboot_replication_state").tag("disk", "1.1").gauge()).isNull();

        // ... and joins again as a new disk with new identifiers. The standby's copy is the old file's: it must not
        // count as in sync with the new one (before, the old state was loaded for the new file and both said "up to date").
        MemoryBlockStore reimaged = new MemoryBlockStore(SIZE);
        byte[] data = new byte[SIZE];
        new Random(9).nextBytes(data);
        reimaged.write(0, ByteBuffer.wrap(data));
        pCurrent.set(reimaged);
        primary.addDisks(List.of(new ReplicationNode.DiskSpec("1.1", SIZE, "new-file")));
        await(() -> primary.replicates("1.1") && !primary.status().isEmpty() && state(standby) == ReplicaState.UNRELATED, "the standby refuses the new file");
        assertThat(primary.status().getFirst().ids()).isNotEqualTo(oldIds);
        assertThat(state(primary)).isNotEqualTo(ReplicaState.UP_TO_DATE);
        assertThat(write(primary, 0, new byte[4096])).as("the primary serves the new file").isTrue();
        assertThat(md5(sStore)).as("nothing of the new file overwrote the standby's old copy").isNotEqualTo(md5(reimaged));
    }
    /**
     * Writes to extents not in the activity log, arriving together, share one transaction and one fsync (group
     * commit): on a disk bigger than the log (1 GiB), random writes otherwise paid an fsync each.
     */
    @Test
    void writesArrivingTogetherShareOneActivityLogTransaction() throws Exception {
        long size = 2L << 30;
        int pPort = freePort(), sPort = freePort();
        try (dev.netboot.storage.FileBlockStore pStore = dev.netboot.storage.FileBlockStore.createSparse(dir.resolve("p.img"), size);
             dev.netboot.storage.FileBlockStore sStore = dev.netboot.storage.FileBlockStore.createSparse(dir.resolve("s.img"), size)) {
            SimpleMeterRegistry pReg = new SimpleMeterRegistry();
            ReplicationNode primary = new ReplicationNode(new ReplicationNode.Settings(1, Role.PRIMARY, SECRET, new InetSocketAddress("127.0.0.1", pPort), "127.0.0.1", sPort,
                    Duration.ofMillis(100), Duration.ofMillis(600), 0, false, dir.resolve("p")), List.of(new ReplicationNode.DiskSpec("1.1", size)), d -> pStore, pReg).start();
            open.add(primary);
            ReplicationNode standby = new ReplicationNode(new ReplicationNode.Settings(2, Role.STANDBY, SECRET, new InetSocketAddress("127.0.0.1", sPort), "127.0.0.1", pPort,
                    Duration.ofMillis(100), Duration.ofMillis(600), 0, false, dir.resolve("s")), List.of(new ReplicationNode.DiskSpec("1.1", size)), d -> sStore, new SimpleMeterRegistry()).start();
            open.add(standby);
            await(() -> state(primary) == ReplicaState.UP_TO_DATE && state(standby) == ReplicaState.UP_TO_DATE, "both up to date");
            io.micrometer.core.instrument.Counter logWrites = pReg.get("netboot_replication_activity_log_writes_total").counter();

            // One at a time: each write to a new extent makes its own transaction durable (the log fills, then evicts).
            long extent = ActivityLog.DEFAULT_EXTENT;
            for (int i = 0; i < ActivityLog.DEFAULT_SLOTS + 20; i++) assertThat(write(primary, i * extent, new byte[4096])).isTrue();
            double alone = logWrites.count();
            assertThat(alone).isGreaterThanOrEqualTo(ActivityLog.DEFAULT_SLOTS + 20);

            // 100 writes to 100 more new extents, submitted together (a client's writes in flight).
            List<CompletableFuture<Boolean>> done = new ArrayList<>();
            Random random = new Random(9);
            byte[][] data = new byte[100][4096];
            for (int i = 0; i < 100; i++) {
                random.nextBytes(data[i]);
                CompletableFuture<Boolean> f = new CompletableFuture<>();
                primary.write("1.1", (300L + i) * extent + 8192, ByteBuffer.wrap(data[i]), false, f::complete);
                done.add(f);
            }
            for (CompletableFuture<Boolean> f : done) assertThat(f.get(20, TimeUnit.SECONDS)).isTrue();
            assertThat(logWrites.count() - alone).as("activity-log transactions made durable for 100 writes arriving together").isLessThanOrEqualTo(20);
            for (int i = 0; i < 100; i++) {
                ByteBuffer p = ByteBuffer.allocate(4096), q = ByteBuffer.allocate(4096);
                pStore.read((300L + i) * extent + 8192, p);
                sStore.read((300L + i) * extent + 8192, q);
                assertThat(p.array()).isEqualTo(data[i]);
                assertThat(q.array()).as("protocol C: on the standby too").isEqualTo(data[i]);
            }
        }
    }
}
