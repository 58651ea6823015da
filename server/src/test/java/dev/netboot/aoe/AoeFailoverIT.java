package dev.netboot.aoe;

import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.testlib.Bridge;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failover under a real Linux aoe driver (docs/replication.md, "Failover"): two {@code netboot serve}
 * processes, each in its own namespace, on one client segment (a bridge) with a qemu guest, and a
 * replication link of their own (a veth pair). The disk is served from the service MAC, which only the
 * primary holds. The guest writes numbered 4 KiB blocks with O_DIRECT, one after the other, and prints
 * each one that completed.
 *
 * <p>Each server has its OWN copy of the disk (a copy-on-write clone of one image), kept equal by the
 * replication: every write the guest saw complete must be on the copy of whichever server serves after a
 * takeover, and after failback both copies must be identical.
 */
class AoeFailoverIT {

    static final String GUEST_MAC = "52:54:00:a0:e0:13";
    static final String SERVICE_MAC = "02:00:5e:10:00:01";
    static final int BLOCK = 4096;
    private static final Pattern ACK = Pattern.compile("NB-ACK (\\d+)\\b");

    @TempDir
    Path dir;
    NetLab lab;
    Process qemu;
    final List<String> console = Collections.synchronizedList(new ArrayList<>());
    final List<String> serverLog = Collections.synchronizedList(new ArrayList<>());
    /** Sequence number → when its completion reached the host (System.nanoTime). */
    final Map<Integer, Long> acked = new ConcurrentSkipListMap<>();

    Namespace a, b;
    VethPair aClient, bClient, link;
    /** Each server's own copy of the disk. */
    final Map<String, Path> copies = new java.util.HashMap<>();

    @AfterEach
    void cleanUp() throws Exception {
        if (qemu != null) qemu.destroyForcibly().waitFor();
        if (lab != null) lab.close();
    }

    /** The lab, the clone both servers serve, and the guest's initramfs. */
    private Path setUp() throws IOException {
        return setUp(true);
    }

    /** @param neverGiveUp aoe_deadsecs=0 (what our initrd sets); false: the driver's default, which moves between paths */
    private Path setUp(boolean neverGiveUp) throws IOException {
        lab = NetLab.create();
        Bridge lan = lab.bridge(null);
        a = lab.namespace("srva");
        b = lab.namespace("srvb");
        aClient = lan.connect(a);
        bClient = lan.connect(b);
        link = lab.veth(a, b);
        Path base = dir.resolve("images/base.img");
        Files.createDirectories(base.getParent());
        try (RandomAccessFile raf = new RandomAccessFile(base.toFile(), "rw")) {
            byte[] chunk = new byte[1 << 20];
            Random r = new Random(13);
            for (int i = 0; i < 64; i++) {
                r.nextBytes(chunk);
                raf.write(chunk);
            }
        }
        for (String server : List.of("A", "B")) {
            Path copy = dir.resolve("copy-" + server + "/e7.1.img");
            Files.createDirectories(copy.getParent());
            CowBlockStore.create(base, copy).close();
            copies.put(server, copy);
        }
        Path kernel = GuestImage.debianKernel();
        Path initrd = dir.resolve("initrd.gz");
        LinuxAoeGuestIT.buildInitramfs(kernel, GuestImage.staticBusybox(), initrd, neverGiveUp ? AoeFailoverIT::initScript
                : m -> initScript(m).replace("aoe_deadsecs=0 ", ""));
        String tap = lab.tap(null).name();
        lan.attach(tap);
        guestTap = tap;
        return initrd;
    }

    String guestTap;

    private Process server(String name, Namespace ns, String role, VethPair client, String listen, String peer) throws IOException {
        return server(name, name, ns, role, client, listen, peer);
    }

    /** @param label how its log lines start (a restarted server gets a new one, so its two lives are told apart) */
    private Process server(String name, String label, Namespace ns, String role, VethPair client, String listen, String peer) throws IOException {
        Path dataDir = dir.resolve(name);
        DiskCatalog catalog = new DiskCatalog(dataDir);
        if (catalog.list().isEmpty()) catalog.add(new DiskEntry("7.1", copies.get(name).toString(), List.of(GUEST_MAC), false, false));
        String clientIf = client.peerName();
        List<String> cmd = new ArrayList<>(javaCommand());
        cmd.addAll(List.of("serve", "--set", "dataDir=" + dataDir, "--set", "tftp.enabled=false", "--set", "http.enabled=false",
                "--set", "dhcp.mode=off", "--set", "aoe.catalogPollMillis=50",
                "--set", "replication.role=" + role, "--set", "replication.peer=" + peer, "--set", "replication.listen=" + listen,
                "--set", "replication.secret=failover-test-secret-0123456789",
                "--set", "replication.pingMillis=200", "--set", "replication.timeoutMillis=3000",
                "--set", "replication.serviceMac=" + SERVICE_MAC, "--set", "replication.clientInterface=" + clientIf,
                "--set", "replication.serviceInterface=nbsvc0", "--set", "replication.probeMillis=100", "--set", "replication.deadAfterProbes=3"));
        Process p = ns.start(cmd.toArray(String[]::new));
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) serverLog.add(label + " " + line);
            } catch (IOException ignored) {
                // killed
            }
        });
        return p;
    }

    private void awaitLog(String who, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (serverLog) {
                for (String l : serverLog) if (l.startsWith(who + " ") && l.contains(text)) return;
            }
            Thread.sleep(50);
        }
        Path all = Path.of("target", "AoeFailoverIT-" + System.currentTimeMillis() + ".log").toAbsolutePath();
        try {
            synchronized (serverLog) {
                Files.write(all, serverLog);
            }
        } catch (IOException e) {
            all = null;
        }
        throw new AssertionError(who + " never logged '" + text + "' (both servers' whole log: " + all + "):\n" + tail(serverLog, 60));
    }

    private boolean logged(String who, String text) {
        synchronized (serverLog) {
            return serverLog.stream().anyMatch(l -> l.startsWith(who + " ") && l.contains(text));
        }
    }

    /** A reader thread appends to these lists while a test reads them: reads copy under the list's lock. */
    private static List<String> snapshot(List<String> l) {
        synchronized (l) {
            return List.copyOf(l);
        }
    }

    private static String joined(List<String> l) {
        return String.join("\n", snapshot(l));
    }

    private static String tail(List<String> l, int n) {
        synchronized (l) {
            return String.join("\n", l.subList(Math.max(0, l.size() - n), l.size()));
        }
    }

    private void startGuest(Path initrd) throws IOException {
        Path kernel = GuestImage.debianKernel();
        qemu = new ProcessBuilder("nice", "-n", "10", "qemu-system-x86_64", "-accel", "tcg", "-m", "384", "-smp", "1",
                "-kernel", GuestImage.vmlinuz(kernel).toString(), "-initrd", initrd.toString(),
                "-append", "console=ttyS0 panic=-1 loglevel=3 no_timer_check",
                "-netdev", "tap,id=n0,ifname=" + guestTap + ",script=no,downscript=no",
                "-device", "e1000,netdev=n0,mac=" + GUEST_MAC,
                "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot")
                .redirectErrorStream(true).start();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    long now = System.nanoTime();
                    console.add(line);
                    Matcher m = ACK.matcher(line);
                    while (m.find()) acked.putIfAbsent(Integer.parseInt(m.group(1)), now);
                }
            } catch (IOException ignored) {
                // qemu is gone
            }
        });
    }

    private void waitForAcks(int atLeast, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (acked.size() < atLeast) {
            if (System.nanoTime() > deadline || !qemu.isAlive())
                throw new AssertionError("the guest completed " + acked.size() + " writes, waiting for " + atLeast + "\nconsole:\n"
                        + tail(console, 40) + "\nservers:\n" + tail(serverLog, 80));
            Thread.sleep(20);
        }
    }

    /** Capture of the AoE frames a server sends (what enters the bridge from its veth; broadcasts from the other node leave by it too). */
    private Process capture(VethPair port, Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("tcpdump", "-Q", "in", "-i", port.hostSideName(), "-U", "-w", file.toString(), "ether", "proto", "0x88a2")
                .redirectErrorStream(true).start();
        Thread.sleep(500);
        return p;
    }

    /** Frames in {@code pcap} sent from the service MAC (AoE answers or announcements). */
    private static int fromServiceMac(Path pcap) throws IOException, InterruptedException {
        Process r = new ProcessBuilder("tcpdump", "-r", pcap.toString(), "-nn", "ether", "src", SERVICE_MAC).redirectErrorStream(true).start();
        String out = new String(r.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        r.waitFor();
        return (int) out.lines().filter(l -> l.contains(SERVICE_MAC) || l.matches("^\\d.*")).filter(l -> !l.startsWith("reading")).count();
    }

    @Test
    void theStandbyTakesOverByItselfWhenThePrimaryIsKilledAndTheGuestLosesNoWrite() throws Exception {
        Path initrd = setUp();
        String ipA = link.hostSideAddress().getHostAddress(), ipB = link.peerAddress().getHostAddress();
        Process pa = server("A", a, "primary", aClient, ipA + ":7789", ipB + ":7789");
        Process pb = server("B", b, "standby", bClient, ipB + ":7789", ipA + ":7789");
        awaitLog("A", "failover: serving on nbsvc0", Duration.ofSeconds(120));
        awaitInSync("B");
        Path capB = dir.resolve("b-before.pcap");
        Process dumpB = capture(bClient, capB);
        startGuest(initrd);
        // Long enough for the driver to learn the round trip: it starts from 250 ms +- 2 s and adapts slowly (its
        // retransmission timeout, 2 x rttavg + 8 x rttdev, decides the guest's pause after the kill; see docs/replication.md).
        waitForAcks(100, Duration.ofSeconds(200));
        dumpB.destroy();
        dumpB.waitFor();
        assertThat(fromServiceMac(capB)).as("frames from the service MAC on the standby's port while the primary lives").isZero();
        assertThat(logged("B", "failover: serving")).isFalse();

        long killedAt = System.nanoTime();
        java.time.LocalTime killedWall = java.time.LocalTime.now();
        int ackedAtKill = acked.size();
        String rttAtKill;
        synchronized (console) {
            rttAtKill = console.stream().filter(l -> l.contains("NB-RTT")).reduce((x, y) -> y).map(l -> l.substring(l.indexOf("NB-RTT"))).orElse("none");
        }
        pa.toHandle().destroyForcibly(); // SIGKILL: no shutdown, the kernel closes its sockets; its macvlan stays (down or up)
        assertThat(pa.waitFor(30, TimeUnit.SECONDS)).isTrue();
        // A killed process leaves its service interface up in its (still living) kernel: a restarted node
        // takes it down first thing; here the "machine" of A stays as it is, which is the harder case only
        // for ARP (none in this test).
        awaitLog("B", "failover: serving on nbsvc0", Duration.ofSeconds(30));
        waitForAcks(ackedAtKill + 30, Duration.ofSeconds(120));
        // The write in flight at the kill completes only after the takeover; the ack printed just after the
        // kill may be one the old primary answered a moment before. So: the longest gap between consecutive
        // completions from a second before the kill on.
        double stallAfterDeath = longestGap(killedAt - 1_000_000_000L) / 1e9;
        String decided = snapshot(serverLog).stream().filter(l -> l.startsWith("B ") && l.contains("failover: serving on")).findFirst().orElse("");
        System.out.printf("failover: the guest's longest pause between two completed writes around the kill -9 of the primary: %.2f s"
                + " (writes every %.2f s before it); %s%n", stallAfterDeath, typicalGap(killedAt) / 1e9, decided);
        // Where the time goes: the pauses over half a second, from the kill, and what B logged meanwhile.
        System.out.println("failover: killed at " + killedWall + "; pauses over 0.5 s (start after the kill, length): " + pauses(killedAt - 1_000_000_000L, killedAt));
        // The driver retransmits a frame only after its retransmission timeout (2 x rttavg + 8 x rttdev, no
        // back-off): the last estimate before the kill says how long the guest waits at least.
        System.out.println("failover: the guest driver's last round-trip estimate before the kill (microseconds): " + rttAtKill);
        synchronized (serverLog) {
            serverLog.stream().filter(l -> l.startsWith("B ") && (l.contains("failover") || l.contains("AoE") || l.contains("replication"))).forEach(System.out::println);
        }
        assertThat(joined(console)).doesNotContain("NB-FAIL");

        // Failback: A comes back (its config still says primary), finds B serving, stays standby, learns from
        // the generation identifiers that it is behind and receives only what B wrote alone plus its own
        // activity-log extents; only then is it in sync (eligible to take over again).
        int beforeFailback = acked.size();
        pa = server("A", "A2", a, "primary", aClient, ipA + ":7789", ipB + ":7789");
        // It hears B's announcement over the link ("the peer is primary") or finds it answering its probes.
        awaitLog("A2", "resync of 7.1 complete", Duration.ofSeconds(120));
        awaitInSync("A2");
        waitForAcks(beforeFailback + 10, Duration.ofSeconds(120));
        String resync = snapshot(serverLog).stream().filter(l -> l.startsWith("A2 ") && l.contains("resync of 7.1 complete")).findFirst().orElseThrow();
        System.out.println("failback: " + resync);
        Matcher mib = Pattern.compile("(\\d+) MiB written here").matcher(resync);
        assertThat(mib.find()).isTrue();
        assertThat(Integer.parseInt(mib.group(1))).as("the failback resync moves what changed, not the 64 MiB disk").isLessThan(32);
        assertThat(logged("A2", "failover: serving")).as("the returning node took over").isFalse();

        qemu.destroyForcibly().waitFor();
        Thread.sleep(500);   // replicated writes the guest had in flight land on both (each ack waits for both)
        pa.toHandle().destroyForcibly();
        pb.toHandle().destroyForcibly();
        pa.waitFor(30, TimeUnit.SECONDS);
        pb.waitFor(30, TimeUnit.SECONDS);
        assertThat(lostOn("B")).as("acknowledged writes that read back otherwise on the survivor's copy").isEmpty();
        assertThat(lostOn("A")).as("acknowledged writes missing on the returned node's copy").isEmpty();
        assertThat(md5("A")).as("both copies after failback").isEqualTo(md5("B"));
        // The driver resends a frame only after its retransmission timeout (no back-off, no earlier trigger):
        // what we control is how much the guest waits beyond it (takeover, address, announcement).
        double rto = retransmitTimeoutSeconds(rttAtKill);
        System.out.printf("failover: the driver's retransmission timeout at the kill: %.2f s; the guest waited %.2f s beyond it%n", rto, stallAfterDeath - rto);
        assertThat(stallAfterDeath).as("the guest's pause after the primary died, seconds (driver's timeout %.2f s)", rto).isLessThan(Math.max(rto, 0) + 3);
    }

    /**
     * The aoe driver's retransmission timeout from its debugfs line ("rttavg: A rttdev: D", microseconds, as
     * aoe_debugfs_show prints them): rto() in aoecmd.c is 2 x A + 8 x D. 12 s (more than any seen) when unknown.
     */
    static double retransmitTimeoutSeconds(String rttLine) {
        Matcher m = Pattern.compile("rttavg: (\\d+) rttdev: (\\d+)").matcher(rttLine);
        if (!m.find()) return 12;
        return (2 * Long.parseLong(m.group(1)) + 8 * Long.parseLong(m.group(2))) / 1e6;
    }

    /** Waits until {@code who} says its copy of 7.1 is up to date with the peer's. */
    private void awaitInSync(String who) throws InterruptedException {
        awaitLog(who, "[UP_TO_DATE]", Duration.ofSeconds(120));
    }

    /** Acknowledged writes whose block on {@code server}'s copy is not what the guest wrote. */
    private List<Integer> lostOn(String server) throws IOException {
        List<Integer> lost = new ArrayList<>();
        try (CowBlockStore store = CowBlockStore.open(copies.get(server), true, false)) {
            for (int i : new TreeSet<>(acked.keySet())) {
                ByteBuffer got = ByteBuffer.allocate(BLOCK);
                store.read((long) i * BLOCK, got);
                if (!java.util.Arrays.equals(got.array(), LinuxAoeKillLoopIT.block(i))) lost.add(i);
            }
        }
        return lost;
    }

    /** MD5 of what {@code server}'s copy holds (as a disk: the clone over its image). */
    private String md5(String server) throws Exception {
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("MD5");
        try (CowBlockStore store = CowBlockStore.open(copies.get(server), true, false)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            for (long off = 0; off < store.size(); off += buf.capacity()) {
                buf.clear();
                store.read(off, buf);
                md.update(buf.flip());
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    @Test
    void aCutReplicationLinkAloneMakesNoTakeoverAndNeverTwoServers() throws Exception {
        Path initrd = setUp();
        String ipA = link.hostSideAddress().getHostAddress(), ipB = link.peerAddress().getHostAddress();
        server("A", a, "primary", aClient, ipA + ":7789", ipB + ":7789");
        server("B", b, "standby", bClient, ipB + ":7789", ipA + ":7789");
        awaitLog("A", "failover: serving on nbsvc0", Duration.ofSeconds(120));
        awaitInSync("B");
        Path capB = dir.resolve("b.pcap");
        Process dumpB = capture(bClient, capB);
        startGuest(initrd);
        waitForAcks(20, Duration.ofSeconds(150));
        // The replication link only: drop everything on B's end of the link veth.
        b.execOk(Duration.ofSeconds(10), "nft", "add", "table", "inet", "nbcut");
        b.execOk(Duration.ofSeconds(10), "nft", "add", "chain", "inet", "nbcut", "in", "{ type filter hook input priority 0 ; }");
        b.execOk(Duration.ofSeconds(10), "nft", "add", "chain", "inet", "nbcut", "out", "{ type filter hook output priority 0 ; }");
        b.execOk(Duration.ofSeconds(10), "nft", "add", "rule", "inet", "nbcut", "in", "iifname", link.peerName(), "drop");
        b.execOk(Duration.ofSeconds(10), "nft", "add", "rule", "inet", "nbcut", "out", "oifname", link.peerName(), "drop");
        int before = acked.size();
        awaitLog("B", "it writes alone, this copy is outdated", Duration.ofSeconds(30));
        // Long past every detection and probe window: still only A serves, and the guest goes on writing.
        Thread.sleep(8000);
        waitForAcks(before + 20, Duration.ofSeconds(120));
        dumpB.destroy();
        dumpB.waitFor();
        assertThat(logged("B", "failover: serving")).as("the standby took over on a cut link").isFalse();
        assertThat(fromServiceMac(capB)).as("frames from the service MAC on the standby's port").isZero();
        assertThat(joined(console)).doesNotContain("NB-FAIL");
    }

    @Test
    void switchoverMovesThePrimaryWithNoWriteLost() throws Exception {
        Path initrd = setUp();
        String ipA = link.hostSideAddress().getHostAddress(), ipB = link.peerAddress().getHostAddress();
        Process pa = server("A", a, "primary", aClient, ipA + ":7789", ipB + ":7789");
        Process pb = server("B", b, "standby", bClient, ipB + ":7789", ipA + ":7789");
        awaitLog("A", "failover: serving on nbsvc0", Duration.ofSeconds(120));
        awaitInSync("B");
        startGuest(initrd);
        waitForAcks(20, Duration.ofSeconds(150));
        // The operator's command, as a person would run it on the primary.
        List<String> cmd = new ArrayList<>(javaCommand());
        cmd.addAll(List.of("replication", "switchover", "--set", "dataDir=" + dir.resolve("A"), "--set", "replication.role=primary",
                "--set", "replication.peer=" + ipB + ":7789", "--set", "replication.serviceMac=" + SERVICE_MAC,
                "--set", "replication.clientInterface=" + aClient.peerName()));
        long asked = System.nanoTime();
        var result = a.exec(Duration.ofSeconds(90), cmd.toArray(String[]::new));
        System.out.println("switchover command: exit " + result.exitCode() + "\n" + result.stdout() + result.stderr());
        assertThat(result.exitCode()).as(result.stdout() + result.stderr() + "\n" + tail(serverLog, 60)).isZero();
        awaitLog("B", "failover: serving on nbsvc0", Duration.ofSeconds(30));
        int at = acked.size();
        waitForAcks(at + 20, Duration.ofSeconds(120));
        System.out.printf("switchover: the guest's longest pause between two completed writes around it: %.2f s (writes every %.2f s before it)%n",
                longestGap(asked - 1_000_000_000L) / 1e9, typicalGap(asked) / 1e9);
        assertThat(logged("A", "this node is now STANDBY")).as("the old primary's data path follows the handover").isTrue();
        qemu.destroyForcibly().waitFor();
        Thread.sleep(500);
        pa.toHandle().destroyForcibly();
        pb.toHandle().destroyForcibly();
        pa.waitFor(30, TimeUnit.SECONDS);
        pb.waitFor(30, TimeUnit.SECONDS);
        assertThat(joined(console)).doesNotContain("NB-FAIL");
        assertThat(lostOn("B")).as("acknowledged writes lost by the switchover on the new primary's copy").isEmpty();
        assertThat(lostOn("A")).as("acknowledged writes missing on the old primary's copy (replicated back)").isEmpty();
        assertThat(md5("A")).as("both copies after the switchover").isEqualTo(md5("B"));
    }

    /**
     * The peer for bench/failover.sh (not a test: only with -Dbench.failover.peer=true): vblade on both
     * servers exporting one raw file, so the driver knows two paths, and vblade on the primary killed;
     * the driver moves to the other path on its own. The pause the guest sees is printed.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "bench.failover.peer", matches = "true")
    void peerVbladeOnBothServersPauseWhenOneDies() throws Exception {
        // With aoe_deadsecs=0 the driver never scorns a silent path and would wait for the dead vblade forever.
        Path initrd = setUp(false);
        Path raw = dir.resolve("shared/raw.img");
        Files.createDirectories(raw.getParent());
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.setLength(64L << 20);
        }
        Process va = a.start("vblade", "7", "1", aClient.peerName(), raw.toString());
        Process vb = b.start("vblade", "7", "1", bClient.peerName(), raw.toString());
        Thread.sleep(1000);
        startGuest(initrd);
        waitForAcks(30, Duration.ofSeconds(150));
        long killedAt = System.nanoTime();
        int at = acked.size();
        va.toHandle().destroyForcibly(); // SIGKILL (ip netns exec became vblade: same process)
        waitForAcks(at + 30, Duration.ofSeconds(300));
        System.out.printf("peer: vblade on both servers (two paths): the guest's longest pause between two completed writes around the kill -9 of one vblade: %.2f s%n",
                longestGap(killedAt - 1_000_000_000L) / 1e9);
        vb.destroyForcibly();
    }

    /** The longest time between two consecutive completed writes that both reached the host after {@code from}. */
    private long longestGap(long from) {
        List<Long> t = acked.values().stream().filter(x -> x >= from).sorted().toList();
        long max = 0;
        for (int i = 1; i < t.size(); i++) max = Math.max(max, t.get(i) - t.get(i - 1));
        return max;
    }

    private String pauses(long from, long origin) {
        List<Long> t = acked.values().stream().filter(x -> x >= from).sorted().toList();
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < t.size(); i++) {
            long g = t.get(i) - t.get(i - 1);
            if (g > 500_000_000L) b.append(String.format("[%+.2f s, %.2f s] ", (t.get(i - 1) - origin) / 1e9, g / 1e9));
        }
        return b.toString();
    }

    /** The median time between completed writes before {@code until}: what one write costs this guest. */
    private long typicalGap(long until) {
        List<Long> t = acked.values().stream().filter(x -> x < until).sorted().toList();
        List<Long> gaps = new ArrayList<>();
        for (int i = 1; i < t.size(); i++) gaps.add(t.get(i) - t.get(i - 1));
        Collections.sort(gaps);
        return gaps.isEmpty() ? 0 : gaps.get(gaps.size() / 2);
    }

    private static List<String> javaCommand() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        Path jar = Path.of("target", "netboot.jar").toAbsolutePath();
        if (Files.isRegularFile(jar)) cmd.addAll(List.of("-jar", jar.toString()));
        else cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.netboot.cli.Main"));
        return cmd;
    }

    /** One O_DIRECT write at a time, its number on the console once it completed; the driver never gives up. */
    static String initScript(String insmods) {
        return """
                %s
                echo NB-DEADSECS $(cat /sys/module/aoe/parameters/aoe_deadsecs)
                mkdir -p /sys/kernel/debug && mount -t debugfs none /sys/kernel/debug 2>/dev/null
                # Held open, as a mounted root disk is: at the last close the driver asks the target's config
                # again and, the device being closed, re-identifies it and resets its round-trip estimate to
                # 250 ms +- 2 s (a retransmission timeout of ~15 s) before every dd.
                exec 3</dev/etherd/e7.1
                i=0
                while true; do
                  yes "$(printf NBSEQ%%08d $i)" | head -c 4096 > /tmp/blk
                  if dd if=/tmp/blk of=/dev/etherd/e7.1 bs=4096 seek=$i count=1 oflag=direct conv=notrunc 2>/tmp/dd.err; then
                    echo "NB-ACK $i"
                    # The driver's round-trip estimate: it retransmits a frame after 2 x rttavg + 8 x rttdev.
                    [ $((i %% 10)) -eq 0 ] && echo "NB-RTT $i $(head -1 /sys/kernel/debug/aoe/e7.1 2>/dev/null)"
                  else
                    echo "NB-FAIL write $i $(cat /tmp/dd.err)"
                  fi
                  i=$((i+1))
                done
                """.formatted(LinuxAoeGuestIT.guestFindsE71(insmods).replace("insmod /mods/aoe.ko 2>/dev/null", "insmod /mods/aoe.ko aoe_deadsecs=0 2>/dev/null"));
    }
}
