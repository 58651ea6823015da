package dev.netboot.app;

import dev.netboot.aoe.TargetAddress;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.replication.GenerationIds;
import dev.netboot.replication.ReplicationCodec;
import dev.netboot.replication.ReplicationMessage;
import dev.netboot.replication.Role;
import dev.netboot.storage.FileBlockStore;
import dev.netboot.testlib.CommandResult;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The replicated standby with real peers, DRBD's test style: two server processes (the shaded jar) in
 * network namespaces joined by a veth replication link, a real AoE initiator (bench/aoe-loadgen.c) in a
 * client namespace writing to the primary, and at the end the md5 of both backing files compared.
 */
class ReplicationIT {

    static final Duration T = Duration.ofSeconds(60);
    static final int PORT = 7789;
    static final String SECRET = "replication-it-secret-0123456789";
    static final TargetAddress DISK = new TargetAddress(1, 1);
    static final long SIZE = 256L << 20;
    static Path loadgen;

    @TempDir
    Path dir;
    NetLab lab;
    Namespace pri, sby, cli;
    VethPair clientLink, standbyClientLink, replicationLink, hostLink;
    Server primary, standby;

    @BeforeAll
    static void buildLoadGenerator() throws Exception {
        loadgen = ServeProcess.buildLoadGenerator("repl-it");
    }

    @BeforeEach
    void lab() {
        lab = NetLab.create();
        pri = lab.namespace("pri");
        sby = lab.namespace("sby");
        cli = lab.namespace("cli");
        clientLink = lab.veth(pri, cli);
        standbyClientLink = lab.veth(sby, cli);
        replicationLink = lab.veth(pri, sby);
        hostLink = lab.veth(null, pri);   // the test's own raw connections to the primary's replication port
    }

    @AfterEach
    void cleanUp() {
        for (Server s : new Server[]{primary, standby}) if (s != null) s.kill();
        if (lab != null) lab.close();
    }

    /** One server process with its own data directory and one disk 1.1 of the same size. */
    final class Server {
        final String name;
        final Namespace ns;
        final Path dataDir;
        final Path image;
        final List<String> sets;
        final List<String> output = Collections.synchronizedList(new ArrayList<>());
        Process process;

        Server(String name, Namespace ns, Role role, String aoeInterface, String listen, String peer) throws IOException {
            this(name, ns, role, aoeInterface, listen, peer, List.of());
        }

        /** @param extra more settings ({@code --set} form), e.g. the failover's */
        Server(String name, Namespace ns, Role role, String aoeInterface, String listen, String peer, List<String> extra) throws IOException {
            this.name = name;
            this.ns = ns;
            this.dataDir = dir.resolve(name);
            this.image = DiskCatalog.defaultImage(dataDir, DISK);
            FileBlockStore.createSparse(image, SIZE).close();
            new DiskCatalog(dataDir).add(new DiskEntry(DISK.toString(), image.toString(), List.of(), true, false));
            List<String> all = new ArrayList<>(List.of("dataDir=" + dataDir, "aoe.interfaces=[" + aoeInterface + "]", "tftp.enabled=false", "http.enabled=false",
                    "dhcp.mode=off", "replication.role=" + role.name().toLowerCase(), "replication.peer=" + peer, "replication.listen=" + listen,
                    "replication.secret=" + SECRET, "replication.pingMillis=200", "replication.timeoutMillis=1000"));
            all.addAll(extra);
            sets = List.copyOf(all);
        }

        Server start() throws IOException {
            output.clear();
            // A killed server's last status must not be read as the new one's.
            Files.deleteIfExists(ReplicationService.statusFile(dataDir));
            process = ServeProcess.serve(ns, sets, output);
            return this;
        }

        void kill() {
            ServeProcess.kill(process);
            process = null;
        }

        String log() { return name + " log:\n" + text(); }

        /** The output so far; the reader thread appends while this copies, so it holds the list's lock. */
        String text() { synchronized (output) { return String.join("\n", output); } }

        /** The status file the running server rewrites every second (what 'netboot replication status' prints). */
        String status() throws IOException {
            Path f = ReplicationService.statusFile(dataDir);
            return Files.exists(f) ? Files.readString(f) : "";
        }

        String state() throws IOException { return field(status(), "state (\\S+) \\(") ; }

        long number(String key) throws IOException {
            String v = field(status(), Pattern.quote(key) + "[ =](\\d+)");
            return v == null ? -1 : Long.parseLong(v);
        }

        void await(String what, Predicate<Server> condition, Duration timeout) throws Exception {
            long end = System.nanoTime() + timeout.toNanos();
            while (!condition.test(this)) {
                if (process != null) assertThat(process.isAlive()).as(log()).isTrue();
                if (System.nanoTime() > end) throw new AssertionError(name + ": timed out waiting for " + what + "\nstatus:\n" + status() + "\n" + log());
                Thread.sleep(100);
            }
        }

        void awaitState(String state) throws Exception {
            await("state " + state, s -> state.equals(uncheckedState(s)), T);
        }

        /** Runs the CLI against this server's data directory. */
        CommandResult cli(String... args) {
            List<String> cmd = new ArrayList<>(javaCommand());
            cmd.addAll(List.of(args));
            for (String s : sets) cmd.addAll(List.of("--set", s));
            return ns.exec(Duration.ofSeconds(120), cmd.toArray(String[]::new));
        }
    }

    static String uncheckedStatus(Server s) {
        try {
            return s.status();
        } catch (IOException e) {
            return "";
        }
    }

    static String uncheckedState(Server s) {
        try {
            return s.state();
        } catch (IOException e) {
            return null;
        }
    }

    static String field(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? m.group(1) : null;
    }

    private static List<String> javaCommand() { return ServeProcess.javaCommand(); }

    void startPair() throws Exception {
        String p = replicationLink.hostSideAddress().getHostAddress(), s = replicationLink.peerAddress().getHostAddress();
        primary = new Server("primary", pri, Role.PRIMARY, clientLink.hostSideName(), "0.0.0.0:" + PORT, s + ":" + PORT).start();
        standby = new Server("standby", sby, Role.STANDBY, standbyClientLink.hostSideName(), s + ":" + PORT, p + ":" + PORT).start();
        primary.awaitState("up-to-date");
        standby.awaitState("up-to-date");
    }

    /** The AoE initiator in the client namespace; returns its result line. */
    String load(String mode, int seconds, int pattern, String iface) {
        CommandResult r = cli.exec(Duration.ofSeconds(seconds + 60), loadgen.toString(), "-i", iface, "-s", "1", "-l", "1", "-m", mode,
                "-w", "16", "-t", Integer.toString(seconds), "-p", Integer.toString(pattern), "-r", Integer.toString(pattern));
        assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
        assertThat(r.stdout()).as("no write failed").contains("errors=0");
        return r.stdout();
    }

    /**
     * {@link #load}, tried again when the target did not answer the initiator's one discovery query (0.5 s): right
     * after a takeover, or on a machine whose two CPUs are busy, that query can go unanswered; nothing was written.
     */
    String loadAfterDiscovery(String mode, int seconds, int pattern, String iface) {
        for (int attempt = 1; ; attempt++) {
            CommandResult r = cli.exec(Duration.ofSeconds(seconds + 60), loadgen.toString(), "-i", iface, "-s", "1", "-l", "1", "-m", mode,
                    "-w", "16", "-t", Integer.toString(seconds), "-p", Integer.toString(pattern), "-r", Integer.toString(pattern));
            if (r.exitCode() != 0 && r.stderr().contains("no answer from") && attempt < 20) continue;
            if (attempt > 1) System.out.println("load: the target answered discovery at attempt " + attempt);
            assertThat(r.exitCode()).as(r.stdout() + r.stderr()).isZero();
            assertThat(r.stdout()).as("no write failed").contains("errors=0");
            return r.stdout();
        }
    }

    static String md5(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("MD5");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Only the replication port is cut (both directions, in the primary's namespace): the client links stay up. */
    void cutReplicationLink() {
        pri.execOk(Duration.ofSeconds(10), "nft", "add table inet replit");
        pri.execOk(Duration.ofSeconds(10), "nft", "add chain inet replit in { type filter hook input priority 0 ; }");
        pri.execOk(Duration.ofSeconds(10), "nft", "add chain inet replit out { type filter hook output priority 0 ; }");
        pri.execOk(Duration.ofSeconds(10), "nft", "add rule inet replit in tcp dport " + PORT + " drop");
        pri.execOk(Duration.ofSeconds(10), "nft", "add rule inet replit in tcp sport " + PORT + " drop");
        pri.execOk(Duration.ofSeconds(10), "nft", "add rule inet replit out tcp dport " + PORT + " drop");
        pri.execOk(Duration.ofSeconds(10), "nft", "add rule inet replit out tcp sport " + PORT + " drop");
    }

    void healReplicationLink() {
        pri.execOk(Duration.ofSeconds(10), "nft", "delete table inet replit");
    }

    void awaitIdle() throws Exception {
        awaitIdle(primary);
    }

    void awaitIdle(Server server) throws Exception {
        // The status file is rewritten every second: only one written after this moment (plus a margin for the
        // writes still being marked) speaks of all the writes so far. CI once read a stale out-of-sync count.
        java.time.Instant after = java.time.Instant.now().plusMillis(1500);
        server.await("a fresh status with no write in flight", s -> {
            try {
                String written = field(s.status(), "written (\\S+)");
                return written != null && java.time.Instant.parse(written).isAfter(after) && s.number("in-flight") == 0;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }, T);
    }

    @Test
    void clientWritesAreOnBothCopiesAndTheStandbyNeverAnswersAoe() throws Exception {
        startPair();
        String random = load("randwrite", 3, 1, clientLink.peerName());
        String seq = load("seqwrite", 2, 2, clientLink.peerName());
        awaitIdle();
        assertThat(md5(standby.image)).as(random + seq).isEqualTo(md5(primary.image));
        assertThat(md5(primary.image)).as("the client really wrote").isNotEqualTo(md5(emptyFile()));

        // The standby holds the disk and has an interface on the client network, yet answers nothing there.
        CommandResult silent = cli.exec(Duration.ofSeconds(30), "aoeping", "-s", "3", "1", "1", standbyClientLink.peerName());
        assertThat(silent.exitCode()).as("aoeping to the standby: " + silent.stdout() + silent.stderr()).isNotZero();
        CommandResult served = cli.exec(Duration.ofSeconds(30), "aoeping", "-s", "3", "1", "1", clientLink.peerName());
        assertThat(served.exitCode()).as("aoeping to the primary: " + served.stdout() + served.stderr()).isZero();

        CommandResult status = primary.cli("replication", "status");
        assertThat(status.exitCode()).as(status.stderr()).isZero();
        assertThat(status.stdout()).contains("role primary connected yes").containsPattern("disk 1\\.1 role primary state up-to-date");
    }

    Path emptyFile() throws IOException {
        Path f = dir.resolve("empty");
        if (!Files.exists(f)) FileBlockStore.createSparse(f, SIZE).close();
        return f;
    }

    @Test
    void aPartitionedPrimaryGoesOnDegradedAndTheQuickResyncMovesOnlyTheDirtyRegions() throws Exception {
        startPair();
        load("randwrite", 2, 3, clientLink.peerName());
        awaitIdle();
        long before = standby.number("resync-received-bytes");

        cutReplicationLink();
        // The client keeps writing through the partition: the primary decides the peer is gone and goes on alone.
        // 2 s of random 4 KiB writes: at most ~25k writes even on a fast machine, so the dirty regions stay a
        // fraction of the disk and a quick resync is told apart from a full one.
        String during = load("randwrite", 2, 4, clientLink.peerName());
        primary.awaitState("degraded");
        standby.awaitState("outdated");
        awaitIdle();
        long dirty = primary.number("out-of-sync");
        assertThat(dirty).as(during).isPositive().isLessThan(SIZE / 2);
        assertThat(primary.status()).contains("role primary");
        assertThat(md5(standby.image)).isNotEqualTo(md5(primary.image));

        healReplicationLink();
        primary.awaitState("up-to-date");
        standby.awaitState("up-to-date");
        assertThat(md5(standby.image)).isEqualTo(md5(primary.image));
        assertThat(standby.number("resync-received-bytes") - before).as("only the dirty regions were resynced\n" + standby.status() + standby.log()).isEqualTo(dirty);
        assertThat(primary.number("out-of-sync")).isZero();
    }

    @Test
    void badInputOnTheReplicationPortIsRefusedCountedAndNeverApplied() throws Exception {
        String s = replicationLink.peerAddress().getHostAddress();
        primary = new Server("primary", pri, Role.PRIMARY, clientLink.hostSideName(), "0.0.0.0:" + PORT, s + ":" + PORT).start();
        primary.await("status file", x -> {
            try {
                return x.state() != null;
            } catch (IOException e) {
                return false;
            }
        }, T);
        InetSocketAddress port = new InetSocketAddress(hostLink.peerAddress(), PORT);
        String md5Before = md5(primary.image);
        ReplicationMessage.Write evil = new ReplicationMessage.Write(DISK.toString(), 1, 0, ByteBuffer.wrap(new byte[4096]).put(0, (byte) 0xEE), false);

        // Unauthenticated: a peer with the wrong secret sends a write.
        try (Raw raw = new Raw(port, "not-the-secret-0123456789".getBytes())) {
            raw.send(raw.codec.encode(new ReplicationMessage.Hello(42, ReplicationCodec.PROTOCOL_VERSION, Role.STANDBY, List.of())));
            raw.send(raw.codec.encode(evil));
            raw.awaitClosed();
        }
        awaitCounter("refused-bad_mac", 1);

        // Truncated: a length field shorter than any frame.
        try (Raw raw = new Raw(port, SECRET.getBytes())) {
            raw.send(ByteBuffer.allocate(8).putInt(0, 3));
            raw.awaitClosed();
        }
        awaitCounter("refused-truncated", 1);

        // Oversized: 64 MiB announced.
        try (Raw raw = new Raw(port, SECRET.getBytes())) {
            raw.send(ByteBuffer.allocate(8).putInt(0, 64 << 20));
            raw.awaitClosed();
        }
        awaitCounter("refused-oversized", 1);

        // Replayed: with the right secret, a Hello the primary takes, then the same frame again, then a write.
        try (Raw raw = new Raw(port, SECRET.getBytes())) {
            ByteBuffer hello = raw.codec.encode(new ReplicationMessage.Hello(42, ReplicationCodec.PROTOCOL_VERSION, Role.STANDBY,
                    List.of(new ReplicationMessage.DiskGenerations(DISK.toString(), SIZE, GenerationIds.BLANK))));
            raw.send(hello.duplicate());
            raw.send(hello.duplicate());
            raw.send(raw.codec.encode(evil));
            raw.awaitClosed();
        }
        awaitCounter("refused-replayed", 1);

        // A stranger (an HTTP client).
        try (Socket http = new Socket()) {
            http.connect(port, 5000);
            http.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes());
            http.setSoTimeout(10_000);
            assertThat(http.getInputStream().readAllBytes().length).isLessThan(200);
        }
        awaitCounter("refused-bad_preamble", 1);

        Thread.sleep(500);
        assertThat(md5(primary.image)).as("nothing from a refused connection was written").isEqualTo(md5Before);
        assertThat(primary.log()).contains("REFUSED a frame");
    }

    void awaitCounter(String name, long atLeast) throws Exception {
        primary.await(name + " >= " + atLeast, x -> {
            try {
                return x.number(name) >= atLeast;
            } catch (IOException e) {
                return false;
            }
        }, Duration.ofSeconds(20));
    }

    /** A raw TCP connection speaking the preamble, then whatever the test sends. */
    static final class Raw implements AutoCloseable {
        final Socket socket = new Socket();
        final ReplicationCodec codec;
        final OutputStream out;
        final InputStream in;

        Raw(InetSocketAddress to, byte[] secret) throws Exception {
            socket.connect(to, 5000);
            socket.setSoTimeout(10_000);
            out = socket.getOutputStream();
            in = socket.getInputStream();
            byte[] nonce = new byte[ReplicationCodec.NONCE_LENGTH];
            new Random().nextBytes(nonce);
            send(ReplicationCodec.preamble(nonce));
            byte[] theirs = in.readNBytes(ReplicationCodec.PREAMBLE_LENGTH);
            assertThat(theirs).hasSize(ReplicationCodec.PREAMBLE_LENGTH);
            codec = ReplicationCodec.forConnection(secret, nonce, ReplicationCodec.readPreamble(ByteBuffer.wrap(theirs)), ReplicationCodec.DEFAULT_MAX_FRAME);
        }

        void send(ByteBuffer b) throws IOException {
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException closedAlready) {
                // the server may close before everything is sent: that is the point
            }
        }

        /** The server closes the connection after a refusal (reads until EOF). */
        void awaitClosed() throws IOException {
            try {
                while (in.read(new byte[4096]) >= 0) { }
            } catch (java.net.SocketException reset) {
                // closed with a reset: also closed
            }
        }

        @Override
        public void close() throws IOException { socket.close(); }
    }

    @Test
    void verifyFindsBlocksChangedBehindTheReplicationsBack() throws Exception {
        startPair();
        load("seqwrite", 2, 5, clientLink.peerName());
        awaitIdle();
        assertThat(md5(standby.image)).isEqualTo(md5(primary.image));
        CommandResult clean = primary.cli("replication", "verify", "1.1");
        assertThat(clean.exitCode()).as(clean.stdout() + clean.stderr()).isZero();
        assertThat(clean.stdout()).contains("identical");

        // DRBD's test: blocks changed on one backing store directly, an adjacent pair among them.
        long[] changed = {3L << 20, (3L << 20) + 4096, 17L << 20, 40L << 20};
        try (RandomAccessFile f = new RandomAccessFile(standby.image.toFile(), "rw")) {
            for (long at : changed) {
                f.seek(at);
                f.write(new byte[]{1, 2, 3, 4, 5, 6, 7, 8});
            }
            f.getFD().sync();
        }
        long before = standby.number("resync-received-bytes");
        CommandResult found = primary.cli("replication", "verify", "1.1");
        assertThat(found.exitCode()).as(found.stdout() + found.stderr()).isEqualTo(1);
        assertThat(found.stdout()).contains("3 range(s) differ");
        // Marked and resynced from the primary at once (the identifiers alone would never move them): 3 ranges of
        // 1 MiB cross and the copies are identical again.
        awaitResynced(before + (3L << 20));

        // Verify run on the standby: its marks go to the primary, which resyncs them the same way.
        try (RandomAccessFile f = new RandomAccessFile(standby.image.toFile(), "rw")) {
            f.seek(50L << 20);
            f.write(new byte[]{9, 9, 9});
            f.getFD().sync();
        }
        CommandResult onStandby = standby.cli("replication", "verify", "1.1");
        assertThat(onStandby.exitCode()).as(onStandby.stdout() + onStandby.stderr()).isEqualTo(1);
        assertThat(onStandby.stdout()).contains("1 range(s) differ");
        awaitResynced(before + (4L << 20));
    }

    private void awaitResynced(long received) throws Exception {
        standby.await("the marked ranges resynced", s -> {
            try {
                return s.number("resync-received-bytes") == received && md5(standby.image).equals(md5(primary.image));
            } catch (Exception e) {
                return false;
            }
        }, T);
        // Each side's status file is rewritten once a second: the primary's may still show the resync a moment after
        // the last range landed here.
        for (Server side : List.of(primary, standby))
            side.await("its status showing the copy up to date again", s -> {
                try {
                    return s.status().contains("state up-to-date");
                } catch (IOException e) {
                    return false;
                }
            }, Duration.ofSeconds(10));
    }

    @Test
    void aPrimaryKilledWithWritesInFlightResyncsItsActivityLogExtentsWhenItComesBack() throws Exception {
        startPair();
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                cli.exec(Duration.ofSeconds(60), loadgen.toString(), "-i", clientLink.peerName(), "-s", "1", "-l", "1", "-m", "seqwrite",
                        "-w", "16", "-t", "6", "-p", "7", "-r", "7");
            } catch (RuntimeException ignored) {
                // the target dies under it
            }
        });
        Thread.sleep(2500);
        primary.kill();   // SIGKILL with writes in flight
        writer.join();
        standby.awaitState("outdated");
        long before = standby.number("resync-received-bytes");
        primary.start();
        primary.awaitState("up-to-date");
        standby.awaitState("up-to-date");
        assertThat(primary.log()).contains("activity-log extents are marked for resync");
        assertThat(md5(standby.image)).isEqualTo(md5(primary.image));
        long moved = standby.number("resync-received-bytes") - before;
        assertThat(moved).as("only activity-log extents (4 MiB each) moved, not the disk").isPositive().isLessThan(SIZE);
        assertThat(moved % (4L << 20)).isZero();
    }

    /**
     * DRBD's split-brain test with real processes: the replication link is cut, the operator forces the
     * standby to primary ({@code promote --force}), and clients write on both copies while apart. When the
     * link heals both sides detect the split brain, neither copy is overwritten and the primary keeps
     * serving; only after {@code demote} and {@code resolve --discard} on the standby do both copies end
     * identical, holding the primary's data.
     */
    @Test
    void aForcedSplitBrainIsDetectedOnBothSidesAndNothingIsOverwrittenUntilTheOperatorResolvesIt() throws Exception {
        startPair();
        load("randwrite", 2, 11, clientLink.peerName());
        awaitIdle();

        cutReplicationLink();
        primary.awaitState("degraded");
        standby.awaitState("outdated");
        CommandResult unforced = standby.cli("replication", "promote");
        assertThat(unforced.exitCode()).as(unforced.stdout() + unforced.stderr()).isEqualTo(2);
        assertThat(unforced.stderr()).contains("SPLIT BRAIN");
        CommandResult forced = standby.cli("replication", "promote", "--force");
        assertThat(forced.exitCode()).as(forced.stdout() + forced.stderr() + standby.log()).isZero();
        assertThat(forced.stdout()).contains("PRIMARY");
        standby.await("the standby's disk primary", x -> uncheckedStatus(x).contains("disk 1.1 role primary state degraded"), T);

        // Both serve while apart: different clients write to each copy.
        String onPrimary = load("randwrite", 2, 12, clientLink.peerName());
        String onStandby = load("randwrite", 2, 13, standbyClientLink.peerName());
        awaitIdle(primary);
        awaitIdle(standby);
        String primaryMd5 = md5(primary.image), standbyMd5 = md5(standby.image);
        assertThat(standbyMd5).as(onPrimary + onStandby).isNotEqualTo(primaryMd5);

        healReplicationLink();
        primary.awaitState("split-brain");
        standby.awaitState("split-brain");
        for (Server s : List.of(primary, standby)) {
            CommandResult status = s.cli("replication", "status");
            assertThat(status.stdout()).as(s.name + ": " + status.stdout() + status.stderr())
                    .contains("connected yes").containsPattern("disk 1\\.1 role primary state split-brain");
        }
        assertThat(primary.log()).contains("SPLIT BRAIN");
        assertThat(standby.log()).contains("SPLIT BRAIN");
        // Connected and in split brain for a while: nothing moved either way.
        Thread.sleep(3000);
        assertThat(md5(primary.image)).as("the primary's copy is not overwritten").isEqualTo(primaryMd5);
        assertThat(md5(standby.image)).as("nor the standby's").isEqualTo(standbyMd5);
        assertThat(primary.state()).isEqualTo("split-brain");
        assertThat(standby.state()).isEqualTo("split-brain");

        // The primary keeps serving its clients meanwhile; the standby's copy still is not touched.
        load("randwrite", 1, 14, clientLink.peerName());
        awaitIdle(primary);
        primaryMd5 = md5(primary.image);
        assertThat(md5(standby.image)).isEqualTo(standbyMd5);

        // A discard is refused while this node is primary; the operator demotes it, then discards its writes.
        String host = java.net.InetAddress.getLocalHost().getHostName();
        CommandResult early = standby.cli("replication", "resolve", "1.1", "--discard", host);
        assertThat(early.exitCode()).as(early.stdout() + early.stderr()).isNotZero();
        assertThat(md5(standby.image)).isEqualTo(standbyMd5);
        CommandResult demoted = standby.cli("replication", "demote");
        assertThat(demoted.exitCode()).as(demoted.stdout() + demoted.stderr() + standby.log()).isZero();
        CommandResult resolved = standby.cli("replication", "resolve", "1.1", "--discard", host);
        assertThat(resolved.exitCode()).as(resolved.stdout() + resolved.stderr() + standby.log()).isZero();
        primary.awaitState("up-to-date");
        standby.awaitState("up-to-date");
        awaitIdle(primary);
        assertThat(md5(standby.image)).as("both copies identical after resolve\n" + standby.status()).isEqualTo(md5(primary.image));
        assertThat(md5(primary.image)).as("the primary's writes survived, the standby's were discarded").isEqualTo(primaryMd5);
        standby.await("the standby's disk standby again", x -> uncheckedStatus(x).contains("disk 1.1 role standby state up-to-date"), T);
        assertThat(primary.number("out-of-sync")).isZero();
    }

    static final String SERVICE_MAC = "02:00:5e:10:00:3b";

    /** Failover on, with the service MAC on {@code lan}'s end in the server's namespace (the client segment). */
    static List<String> failover(VethPair lan) {
        return List.of("replication.serviceMac=" + SERVICE_MAC, "replication.clientInterface=" + lan.peerName(),
                "replication.serviceInterface=nbsvc0", "replication.probeMillis=100", "replication.deadAfterProbes=3");
    }

    /** The failover's own status line ({@code phase=... term=... link=...}), rewritten as it changes. */
    static String failoverStatus(Server s) {
        try {
            Path f = ReplicationService.stateDir(s.dataDir).resolve(FailoverService.STATUS_FILE);
            return Files.exists(f) ? Files.readString(f).strip() : "";
        } catch (IOException e) {
            return "";
        }
    }

    static long persistedTerm(Server s) throws IOException {
        return Long.parseLong(Files.readString(ReplicationService.stateDir(s.dataDir).resolve("term")).strip());
    }

    /**
     * {@code promote --force} with failover on: the pair on one client segment (a bridge) with a service MAC. The
     * replication port is cut: the standby finds the primary alive on the client network and is outdated (a forced
     * promotion now is refused: the primary answers the standby's probes); the primary writes alone, then dies (kill -9, its NIC down as a dead machine's). The outdated standby never takes
     * over by itself (nobody answers AoE); the forced promotion makes it serve through its failover (a higher term,
     * the service MAC up), and a client writes and reads there. The old primary, restarted with the link healed,
     * hears the higher term and stays standby, its service interface down; both wrote while apart, so both report
     * split brain and neither copy changes until {@code resolve --discard} on the old primary, after which both
     * hold the forced node's data.
     */
    @Test
    void aForcedPromotionWithFailoverServesFromTheOutdatedStandbyAndTheReturningPrimaryYields() throws Exception {
        dev.netboot.testlib.Bridge lan = lab.bridge(null);
        VethPair priLan = lan.connect(pri), sbyLan = lan.connect(sby), cliLan = lan.connect(cli);
        String p = replicationLink.hostSideAddress().getHostAddress(), s = replicationLink.peerAddress().getHostAddress();
        primary = new Server("primary", pri, Role.PRIMARY, priLan.peerName(), p + ":" + PORT, s + ":" + PORT, failover(priLan)).start();
        standby = new Server("standby", sby, Role.STANDBY, sbyLan.peerName(), s + ":" + PORT, p + ":" + PORT, failover(sbyLan)).start();
        primary.await("the primary serving", x -> x.text().contains("failover: serving on nbsvc0"), T);
        primary.awaitState("up-to-date");
        standby.awaitState("up-to-date");
        String client = cliLan.peerName();
        load("randwrite", 1, 31, client);
        awaitIdle();

        cutReplicationLink();
        standby.await("outdated (the primary answered its probes)", x -> x.text().contains("it writes alone, this copy is outdated"), T);
        primary.awaitState("degraded");
        // Forced while the primary still serves: its answers on the client network refuse it (two servers for one MAC).
        CommandResult refused = standby.cli("replication", "promote", "--force");
        assertThat(refused.exitCode()).as(refused.stdout() + refused.stderr()).isNotZero();
        assertThat(refused.stdout()).contains("still answers on the client network");
        assertThat(failoverStatus(standby)).startsWith("phase=OUTDATED");
        load("randwrite", 1, 32, client);          // only the primary's copy has these
        awaitIdle(primary);
        long oldTerm = persistedTerm(primary);
        primary.kill();
        pri.execOk(Duration.ofSeconds(10), "ip", "link", "set", priLan.peerName(), "down");

        // Outdated: it never serves by itself although the primary is dead.
        CommandResult nobody = cli.exec(Duration.ofSeconds(30), "aoeping", "-s", "2", "1", "1", client);
        assertThat(nobody.exitCode()).as("nobody answers AoE: " + nobody.stdout() + nobody.stderr() + standby.log()).isNotZero();
        assertThat(standby.text()).doesNotContain("failover: serving");
        assertThat(failoverStatus(standby)).startsWith("phase=OUTDATED");

        CommandResult forced = standby.cli("replication", "promote", "--force");
        assertThat(forced.exitCode()).as(forced.stdout() + forced.stderr() + standby.log()).isZero();
        assertThat(forced.stdout()).contains("PRIMARY (term " + (oldTerm + 1));
        standby.await("serving after the forced promotion", x -> x.text().contains("failover: serving on nbsvc0"), T);
        assertThat(standby.text()).contains("FORCED PROMOTION");
        assertThat(persistedTerm(standby)).isEqualTo(oldTerm + 1);
        assertThat(failoverStatus(standby)).startsWith("phase=PRIMARY term=" + (oldTerm + 1));
        standby.await("its disk primary", x -> uncheckedStatus(x).contains("disk 1.1 role primary state degraded"), T);
        load("randwrite", 1, 33, client);          // through the service MAC, now the forced node's
        load("randread", 1, 33, client);
        awaitIdle(standby);
        String primaryMd5 = md5(primary.image), standbyMd5 = md5(standby.image);
        assertThat(standbyMd5).isNotEqualTo(primaryMd5);

        // The old primary comes back (its config still says primary) with the link healed.
        healReplicationLink();
        pri.execOk(Duration.ofSeconds(10), "ip", "link", "set", priLan.peerName(), "up");
        primary.start();
        primary.await("the higher term heard, standby", x -> failoverStatus(x).startsWith("phase=STANDBY term=" + (oldTerm + 1)), T);
        primary.awaitState("split-brain");
        standby.awaitState("split-brain");
        assertThat(md5(standby.image)).as("the forced node's copy is not overwritten").isEqualTo(standbyMd5);
        load("randwrite", 1, 34, client);          // the forced node keeps serving its clients meanwhile
        awaitIdle(standby);
        standbyMd5 = md5(standby.image);
        // Connected and in split brain for seconds now: the returned primary never served, nothing moved to it.
        assertThat(primary.text()).doesNotContain("failover: serving");
        assertThat(pri.execOk(Duration.ofSeconds(10), "ip", "-o", "link", "show", "dev", "nbsvc0").stdout())
                .as("the returned primary's service interface").contains("state DOWN");
        assertThat(primary.status()).contains("disk 1.1 role standby state split-brain");
        assertThat(md5(primary.image)).as("the returned primary's copy is not overwritten").isEqualTo(primaryMd5);

        // The operator keeps the forced node's writes: the returned primary discards its own.
        CommandResult resolved = primary.cli("replication", "resolve", "1.1", "--discard", "this");
        assertThat(resolved.exitCode()).as(resolved.stdout() + resolved.stderr() + primary.log()).isZero();
        primary.awaitState("up-to-date");
        standby.awaitState("up-to-date");
        awaitIdle(standby);
        assertThat(md5(primary.image)).as("both copies after resolve").isEqualTo(md5(standby.image)).isEqualTo(standbyMd5);
        assertThat(primary.text()).doesNotContain("failover: serving");
    }

    /**
     * The witness: a standby cut off from everything (its client port and the replication link) finds the primary
     * silent exactly as if it had died, but the witness (an address on the client network, here held by the
     * client's namespace like a router) is silent too: it does not take over, so it never serves stale data when
     * its network returns; it is outdated at once, since the primary goes on alone. With the witness answering, a
     * primary that really dies is taken over as before.
     */
    @Test
    void withAWitnessAStandbyCutOffItselfNeverTakesOverAndADeadPrimaryStillIs() throws Exception {
        dev.netboot.testlib.Bridge lan = lab.bridge(null);
        VethPair priLan = lan.connect(pri), sbyLan = lan.connect(sby), cliLan = lan.connect(cli);
        // The witness: one more address of the client's namespace on the LAN (one subnet for the bridge), like its router.
        String witness = cliLan.subnet().host(9).getHostAddress(), witnessForPrimary = witness;
        cli.execOk(Duration.ofSeconds(10), "ip", "addr", "add", witness + "/" + cliLan.prefixLength(), "dev", cliLan.peerName());
        String p = replicationLink.hostSideAddress().getHostAddress(), s = replicationLink.peerAddress().getHostAddress();
        List<String> pf = new ArrayList<>(failover(priLan)), sf = new ArrayList<>(failover(sbyLan));
        pf.add("replication.witness=" + witnessForPrimary);
        sf.add("replication.witness=" + witness);
        primary = new Server("primary", pri, Role.PRIMARY, priLan.peerName(), p + ":" + PORT, s + ":" + PORT, pf).start();
        standby = new Server("standby", sby, Role.STANDBY, sbyLan.peerName(), s + ":" + PORT, p + ":" + PORT, sf).start();
        primary.await("the primary serving", x -> x.text().contains("failover: serving on nbsvc0"), T);
        primary.awaitState("up-to-date");
        standby.awaitState("up-to-date");
        standby.await("the witness heard", x -> x.text().contains("the witness [/" + witness + "] answers"), T);
        load("randwrite", 1, 41, cliLan.peerName());
        awaitIdle();

        // The standby's cable is pulled: no client network, no replication link.
        sby.execOk(Duration.ofSeconds(10), "ip", "link", "set", sbyLan.peerName(), "down");
        cutReplicationLink();
        standby.await("no takeover: the witness is silent, the copy outdated", x -> x.text().contains("the witness is silent too")
                && failoverStatus(x).startsWith("phase=OUTDATED"), T);
        Thread.sleep(3000);   // 30 probe intervals: without the witness it would have served long ago
        assertThat(standby.text()).as(standby.log()).doesNotContain("failover: serving");
        try {
            loadAfterDiscovery("randwrite", 1, 42, cliLan.peerName());   // the primary serves on, alone
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + primary.log() + "\n" + standby.log(), e);
        }
        awaitIdle(primary);

        // The cable is back: the copy (outdated since it went blind: the primary wrote alone meanwhile) is resynced.
        sby.execOk(Duration.ofSeconds(10), "ip", "link", "set", sbyLan.peerName(), "up");
        Thread.sleep(1000);
        assertThat(standby.text()).as("the witness back does not make it take over").doesNotContain("failover: serving");
        healReplicationLink();
        primary.awaitState("up-to-date");
        standby.awaitState("up-to-date");
        awaitIdle();
        assertThat(md5(standby.image)).isEqualTo(md5(primary.image));
        assertThat(standby.text()).doesNotContain("failover: serving");
        assertThat(primary.text()).as("the primary never stood down").doesNotContain("demoting at once");

        // The primary dies for real; the witness answers: taken over.
        primary.kill();
        pri.execOk(Duration.ofSeconds(10), "ip", "link", "set", priLan.peerName(), "down");
        standby.await("the standby serving", x -> x.text().contains("failover: serving on nbsvc0"), T);
        load("randwrite", 1, 43, cliLan.peerName());
    }

    /**
     * The primary's half of the quorum: the primary's own cable is pulled (its client port and, here a separate
     * wire, the replication link at the same moment). The standby still hears the witness and takes over; the
     * primary, hearing neither its peer nor the witness, takes its service interface down first: fenced before the
     * standby's earliest takeover (timeout - ping = 800 ms after the last frame, against timeout - ping plus
     * three probes = 1100 ms at the earliest with these timings). When its cable is back it hears the higher
     * term, stays standby with its service interface down, and resyncs.
     */
    @Test
    void withAWitnessAPrimaryCutOffFromPeerAndWitnessStopsServingBeforeTheStandbyTakesOver() throws Exception {
        dev.netboot.testlib.Bridge lan = lab.bridge(null);
        VethPair priLan = lan.connect(pri), sbyLan = lan.connect(sby), cliLan = lan.connect(cli);
        String witness = cliLan.subnet().host(9).getHostAddress();
        cli.execOk(Duration.ofSeconds(10), "ip", "addr", "add", witness + "/" + cliLan.prefixLength(), "dev", cliLan.peerName());
        String p = replicationLink.hostSideAddress().getHostAddress(), s = replicationLink.peerAddress().getHostAddress();
        List<String> pf = new ArrayList<>(failover(priLan)), sf = new ArrayList<>(failover(sbyLan));
        pf.add("replication.witness=" + witness);
        sf.add("replication.witness=" + witness);
        primary = new Server("primary", pri, Role.PRIMARY, priLan.peerName(), p + ":" + PORT, s + ":" + PORT, pf).start();
        standby = new Server("standby", sby, Role.STANDBY, sbyLan.peerName(), s + ":" + PORT, p + ":" + PORT, sf).start();
        primary.await("the primary serving", x -> x.text().contains("failover: serving on nbsvc0"), T);
        primary.awaitState("up-to-date");
        standby.awaitState("up-to-date");
        primary.await("the witness heard", x -> x.text().contains("the witness [/" + witness + "] answers"), T);
        standby.await("the witness heard", x -> x.text().contains("the witness [/" + witness + "] answers"), T);
        String client = cliLan.peerName();
        load("randwrite", 1, 51, client);
        awaitIdle();
        long oldTerm = persistedTerm(primary);
        CommandResult before = cli.exec(Duration.ofSeconds(30), "aoeping", "-s", "3", "1", "1", client);
        assertThat(before.exitCode()).as("the service MAC answers: " + before.stdout() + before.stderr()).isZero();

        // The primary's cable is pulled (its client port, then the replication port: the nft commands take a
        // while, so the bound is counted from the end of the cut, when the last frame can have crossed).
        pri.execOk(Duration.ofSeconds(10), "ip", "link", "set", priLan.peerName(), "down");
        cutReplicationLink();
        long cut = System.nanoTime();
        long fencedAt = -1, standbyServesAt = -1;
        while (System.nanoTime() - cut < Duration.ofSeconds(20).toNanos() && (fencedAt < 0 || standbyServesAt < 0)) {
            long now = System.nanoTime();
            if (fencedAt < 0 && failoverStatus(primary).startsWith("phase=FENCED")) fencedAt = now - cut;
            if (standbyServesAt < 0 && failoverStatus(standby).startsWith("phase=PRIMARY")) standbyServesAt = now - cut;
            Thread.sleep(10);
        }
        System.out.printf("primary cut off: fenced %d ms after the cut, the standby serving %d ms after it%n", fencedAt / 1_000_000, standbyServesAt / 1_000_000);
        assertThat(fencedAt).as("the primary fenced itself\n" + primary.log() + standby.log()).isPositive();
        assertThat(standbyServesAt).as("the standby took over\n" + standby.log()).isPositive();
        // The status file follows a tick (25 ms) and this loop polls every 10 ms; the margin in the core is 300 ms.
        assertThat(fencedAt).as("fenced (" + fencedAt / 1_000_000 + " ms after the cut) before the standby serves (" + standbyServesAt / 1_000_000
                + " ms)\n" + primary.log()).isLessThan(standbyServesAt);
        assertThat(fencedAt / 1_000_000).as("within timeout - ping = 800 ms of the last frame, plus the ticks").isLessThan(1000);
        assertThat(primary.text()).contains("FENCED (term " + oldTerm + ")");
        assertThat(pri.execOk(Duration.ofSeconds(10), "ip", "-o", "link", "show", "dev", "nbsvc0").stdout())
                .as("the fenced primary's service interface").contains("state DOWN");
        assertThat(primary.cli("replication", "status").stdout()).contains("failover phase=FENCED");
        standby.await("the standby serving", x -> x.text().contains("failover: serving on nbsvc0"), T);
        try {
            loadAfterDiscovery("randwrite", 1, 52, client);      // the clients write on, through the service MAC, to the new primary
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + primary.log() + "\n" + standby.log() + "\n"
                    + sby.execOk(Duration.ofSeconds(10), "ip", "-o", "link", "show").stdout(), e);
        }
        awaitIdle(standby);

        // The cable is back: the old primary hears the higher term and stays standby; nothing answers from it.
        pri.execOk(Duration.ofSeconds(10), "ip", "link", "set", priLan.peerName(), "up");
        healReplicationLink();
        primary.await("standby under the new term", x -> failoverStatus(x).startsWith("phase=STANDBY term=" + (oldTerm + 1))
                || failoverStatus(x).startsWith("phase=OUTDATED term=" + (oldTerm + 1)), T);
        assertThat(primary.text()).contains("the peer took over while this node was fenced");
        primary.awaitState("up-to-date");
        standby.awaitState("up-to-date");
        try {
            loadAfterDiscovery("randwrite", 1, 53, client);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + primary.log() + "\n" + standby.log() + "\n"
                    + sby.execOk(Duration.ofSeconds(10), "ip", "-o", "link", "show").stdout(), e);
        }
        awaitIdle(standby);
        assertThat(md5(primary.image)).as("the old primary resynced").isEqualTo(md5(standby.image));
        assertThat(primary.text().split("failover: serving on nbsvc0", -1)).as("the old primary served only before the cut").hasSize(2);
        assertThat(pri.execOk(Duration.ofSeconds(10), "ip", "-o", "link", "show", "dev", "nbsvc0").stdout())
                .as("the old primary's service interface").contains("state DOWN");
        assertThat(failoverStatus(primary)).doesNotContain("PRIMARY");
        assertThat(failoverStatus(standby)).startsWith("phase=PRIMARY term=" + (oldTerm + 1));
    }
}
