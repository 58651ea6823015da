package dev.netboot.aoe;

import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.testlib.NetLab;
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
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The default configuration (no {@code aoe.syncWrites}) under the Linux aoe driver, which never sends
 * FLUSH: a qemu guest writes 4 KiB blocks with O_DIRECT to its copy-on-write clone, one after the
 * other, each with its own sequence number, and prints the number of each write that completed
 * (the driver completes it on the server's reply). Meanwhile the host kills the server process with
 * SIGKILL at random moments, {@link #KILLS} times; the driver retransmits what was outstanding.
 * Afterwards every block whose write the guest saw complete must hold that write, none may read the
 * image again (what a forgotten allocation bit does).
 *
 * <p>The next server process is started before each kill: its JVM starts while the old one serves,
 * it cannot open the clone the old one holds (flock) and retries at each catalog poll, so it takes
 * over within a poll of the kill, as a process manager restarting the service would after its
 * start-up. Without that, dozens of JVM start-ups (seconds each on a busy CI machine) would be outages the
 * guest sits through, and the test would take many minutes.
 */
class LinuxAoeKillLoopIT {

    static final String GUEST_MAC = "52:54:00:a0:e0:03";
    /** 25 in CI (about 6 min); -Dnetboot.killLoop.kills=200 for a longer soak (issue 11 was closed on 50, 0 lost). */
    static final int KILLS = Integer.getInteger("netboot.killLoop.kills", 25);
    static final int BLOCK = 4096;
    private static final Pattern ACK = Pattern.compile("NB-ACK (\\d+)\\b");

    @TempDir
    Path dir;
    NetLab lab;
    final List<Process> servers = new ArrayList<>();
    Process qemu;
    final List<String> serverLog = Collections.synchronizedList(new ArrayList<>());
    final List<String> console = Collections.synchronizedList(new ArrayList<>());
    final Set<Integer> acked = new ConcurrentSkipListSet<>();

    @AfterEach
    void cleanUp() throws Exception {
        if (qemu != null) qemu.destroyForcibly().waitFor();
        for (Process p : servers) p.destroyForcibly().waitFor();
        if (lab != null) lab.close();
    }

    @Test
    void noAcknowledgedWriteIsLostAcrossRepeatedSigkillsOfTheServer() throws Exception {
        lab = NetLab.create();
        Path kernel = GuestImage.debianKernel();
        Path initrd = dir.resolve("initrd.gz");
        LinuxAoeGuestIT.buildInitramfs(kernel, GuestImage.staticBusybox(), initrd, LinuxAoeKillLoopIT::initScript);
        String tap = lab.tap(null).name();

        // An image with data everywhere, so a write that was forgotten reads as the image, not as zeros.
        Path base = dir.resolve("images/base.img");
        Files.createDirectories(base.getParent());
        try (RandomAccessFile raf = new RandomAccessFile(base.toFile(), "rw")) {
            byte[] chunk = new byte[1 << 20];
            Random r = new Random(11);
            for (int i = 0; i < 64; i++) {
                r.nextBytes(chunk);
                raf.write(chunk);
            }
        }
        Path dataDir = dir.resolve("data");
        Path clone = DiskCatalog.defaultImage(dataDir, new TargetAddress(7, 1));
        CowBlockStore.create(base, clone).close();
        new DiskCatalog(dataDir).add(new DiskEntry("7.1", clone.toString(), List.of(GUEST_MAC), false, false));
        List<String> serve = serveCommand(dataDir, tap);

        Server current = Server.start(serve, serverLog);
        servers.add(current.process);
        current.awaitExported(serverLog);
        qemu = new ProcessBuilder("qemu-system-x86_64", "-accel", "tcg", "-m", "384", "-smp", "1",
                "-kernel", GuestImage.vmlinuz(kernel).toString(), "-initrd", initrd.toString(),
                "-append", "console=ttyS0 panic=-1 loglevel=3",
                "-netdev", "tap,id=n0,ifname=" + tap + ",script=no,downscript=no",
                "-device", "e1000,netdev=n0,mac=" + GUEST_MAC,
                "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot")
                .redirectErrorStream(true).start();
        AtomicBoolean guestEnded = new AtomicBoolean();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    console.add(line);
                    Matcher m = ACK.matcher(line);
                    while (m.find()) acked.add(Integer.parseInt(m.group(1)));
                }
            } catch (IOException ignored) {
                // qemu is gone
            } finally {
                guestEnded.set(true);
            }
        });

        Random random = new Random();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30); // 13 min on a 2-CPU machine at load 10 (JVM starts dominate)
        waitForAcks(1, deadline, guestEnded);
        int kills = 0;
        List<Integer> ackedBeforeKill = new ArrayList<>();
        long outageNanos = 0;
        while (kills < KILLS) {
            Server next = Server.start(serve, serverLog);
            servers.add(next.process);
            next.awaitRunning(serverLog);
            // Writes are flowing (at least one completed against this server process), then a random moment.
            waitForAcks(size() + 1, deadline, guestEnded);
            Thread.sleep(random.nextInt(700));
            long killedAt = System.nanoTime();
            System.out.printf("kill %d at %d acknowledged writes%n", kills + 1, size());
            current.process.toHandle().destroyForcibly(); // SIGKILL: no shutdown hook, no flush, no close
            assertThat(current.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(current.process.exitValue()).isEqualTo(137);
            kills++;
            ackedBeforeKill.add(size());
            next.awaitExported(serverLog);
            outageNanos += System.nanoTime() - killedAt;
            current = next;
        }
        System.out.printf("kill loop: the next server exported the clone %d ms after a kill on average%n", outageNanos / kills / 1_000_000);
        waitForAcks(size() + 5, deadline, guestEnded);
        current.process.toHandle().destroyForcibly();
        current.process.waitFor(30, TimeUnit.SECONDS);
        qemu.destroyForcibly().waitFor();
        reader.join(5000);
        String log = String.join("\n", console);
        assertThat(log).as(log).contains("NB-DISCOVERED").doesNotContain("NB-FAIL");

        List<Integer> lost = new ArrayList<>();
        TreeSet<Integer> done = new TreeSet<>(acked);
        try (CowBlockStore store = CowBlockStore.open(clone, true, false)) {
            for (int i : done) {
                ByteBuffer got = ByteBuffer.allocate(BLOCK);
                store.read((long) i * BLOCK, got);
                if (!java.util.Arrays.equals(got.array(), block(i))) lost.add(i);
            }
        }
        System.out.printf("kill loop: %d SIGKILLs, %d acknowledged writes (%d..%d), %d lost; acknowledged at each kill: %s%n",
                kills, done.size(), done.first(), done.last(), lost.size(), ackedBeforeKill);
        assertThat(kills).isGreaterThanOrEqualTo(KILLS);
        assertThat(lost).as("acknowledged writes that read back otherwise after the kills").isEmpty();
        // The sequence numbers are consecutive: the guest writes one at a time and never skips one.
        assertThat(done.last() - done.first() + 1).as("acknowledged sequence numbers seen on the console").isLessThanOrEqualTo(done.size() + 5);
    }

    private int size() { return acked.size(); }

    private void waitForAcks(int atLeast, long deadline, AtomicBoolean guestEnded) throws InterruptedException {
        while (acked.size() < atLeast) {
            if (System.nanoTime() > deadline || guestEnded.get()) {
                throw new AssertionError("the guest completed " + acked.size() + " writes, waiting for " + atLeast + "\nconsole:\n"
                        + String.join("\n", console) + "\nserver:\n" + String.join("\n", serverLog.subList(Math.max(0, serverLog.size() - 40), serverLog.size())));
            }
            Thread.sleep(20);
        }
    }

    /** One {@code netboot serve} process and what its log said so far. */
    record Server(Process process, CountDownLatch running, CountDownLatch exported) {

        static Server start(List<String> command, List<String> log) throws IOException {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            Server s = new Server(p, new CountDownLatch(1), new CountDownLatch(1));
            Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        log.add(p.pid() + " " + line);
                        if (line.contains("netboot is running")) s.running.countDown();
                        if (line.contains("AoE e7.1 exported")) s.exported.countDown();
                    }
                } catch (IOException ignored) {
                    // killed
                }
            });
            return s;
        }

        void awaitRunning(List<String> log) throws InterruptedException { await(running, "started", log); }
        void awaitExported(List<String> log) throws InterruptedException { await(exported, "exported e7.1", log); }

        private void await(CountDownLatch latch, String what, List<String> log) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!latch.await(100, TimeUnit.MILLISECONDS)) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    List<String> mine;
                    synchronized (log) {
                        mine = log.stream().filter(l -> l.startsWith(process.pid() + " ")).toList();
                    }
                    throw new AssertionError("server " + process.pid() + " has not " + what + (process.isAlive() ? "" : " (it exited)")
                            + ":\n" + String.join("\n", mine));
                }
            }
        }
    }

    /**
     * The shaded jar (failsafe runs after package), else this test's class path; C1 only and the
     * serial collector start quicker.
     */
    private List<String> serveCommand(Path dataDir, String tap) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC"));
        Path jar = Path.of("target", "netboot.jar").toAbsolutePath();
        if (Files.isRegularFile(jar)) cmd.addAll(List.of("-jar", jar.toString()));
        else cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.netboot.cli.Main"));
        cmd.addAll(List.of("serve", "--set", "dataDir=" + dataDir, "--set", "aoe.interfaces=[" + tap + "]",
                "--set", "tftp.enabled=false", "--set", "http.enabled=false", "--set", "dhcp.mode=off", "--set", "aoe.catalogPollMillis=50"));
        return cmd;
    }

    /** What the guest writes as block {@code i}: its sequence number, over and over. */
    static byte[] block(int i) {
        byte[] unit = String.format("NBSEQ%08d\n", i).getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[BLOCK];
        for (int k = 0; k < BLOCK; k++) b[k] = unit[k % unit.length];
        return b;
    }

    /**
     * One write at a time, O_DIRECT (dd returns once the driver completed the write, i.e. the server
     * replied), then its number on the console. aoe_deadsecs=0: the driver never gives up on a
     * target that is restarting.
     */
    private static String initScript(String insmods) {
        return """
                %s
                i=0
                while true; do
                  yes "$(printf NBSEQ%%08d $i)" | head -c 4096 > /tmp/blk
                  if dd if=/tmp/blk of=/dev/etherd/e7.1 bs=4096 seek=$i count=1 oflag=direct conv=notrunc 2>/tmp/dd.err; then
                    echo "NB-ACK $i"
                  else
                    echo "NB-FAIL write $i $(cat /tmp/dd.err)"
                  fi
                  i=$((i+1))
                done
                """.formatted(LinuxAoeGuestIT.guestFindsE71(insmods).replace("insmod /mods/aoe.ko 2>/dev/null", "insmod /mods/aoe.ko aoe_deadsecs=0 2>/dev/null"));
    }
}
