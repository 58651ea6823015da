package dev.netboot.app;

import dev.netboot.images.TestRootfs;
import dev.netboot.storage.CommandRunner;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.storage.LvmGuest;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A standby with {@code disks.store: lvm} keeps its copies of the primary's disks as LVM thin volumes, with real
 * LVM: the development host has no device-mapper, so the standby server runs in a qemu TCG guest (as
 * {@code LvmStoreGuestIT} runs LVM): Debian's kernel with dm-thin-pool, the host's root file system read-only
 * over 9p (the same JDK, jar and lvm2 tools, chrooted), a virtio disk the test makes a PV, a VG and a thin pool
 * of, and a user-mode NIC started in a namespace joined to the primary's by a veth, over which the standby dials
 * the primary. The primary runs on the host with the file store. On the primary an operator imports an image and
 * clones it for a client; the standby gets a thin snapshot of its own copy of the image's volume (lvs shows it),
 * a real AoE initiator writes to the primary's clone, and at the end the standby's volume reads byte for byte as
 * the primary's clone does; a removal on the primary removes the volume. The qemu process and its disk file go
 * with the test, also when it fails (the VG lives only on that disk).
 */
class LvmStandbyIT {

    static final Duration T = Duration.ofSeconds(120);
    /** The standby's JVM runs under TCG emulation: everything it does takes minutes rather than seconds. */
    static final Duration SLOW = Duration.ofSeconds(900);
    static final int PORT = 7789;
    static final String SECRET = "lvm-standby-it-secret-0123456789ab";
    static final String VG = "nbtest";
    static final String POOL = "pool";
    /** The standby's data directory inside the guest's chroot (a tmpfs: the host's tree is read-only there). */
    static final String GUEST_DATA = "/run/sby";
    static Path loadgen;

    @TempDir
    Path dir;
    NetLab lab;
    Namespace pri, sby, cli;
    VethPair clientLink, replicationLink;
    Server primary;
    LvmGuest guest;

    @BeforeAll
    static void buildLoadGenerator() throws Exception {
        loadgen = ServeProcess.buildLoadGenerator("lvm-standby-it");
    }

    @BeforeEach
    void lab() {
        lab = NetLab.create();
        pri = lab.namespace("pri");
        sby = lab.namespace("sby");
        cli = lab.namespace("cli");
        clientLink = lab.veth(pri, cli);
        replicationLink = lab.veth(pri, sby);
    }

    @AfterEach
    void cleanUp() throws IOException {
        if (primary != null) primary.kill();
        if (guest != null) guest.close();   // the VG, the pool and every volume live only on the guest's disk file
        if (lab != null) lab.close();
    }

    final class Server {
        final Path dataDir;
        final List<String> sets;
        final List<String> output = Collections.synchronizedList(new ArrayList<>());
        Process process;

        Server(Path dataDir, List<String> sets) {
            this.dataDir = dataDir;
            this.sets = sets;
        }

        Server start() throws IOException {
            process = ServeProcess.serve(pri, sets, output);
            return this;
        }

        void kill() {
            ServeProcess.kill(process);
            process = null;
        }

        String log() { synchronized (output) { return "primary log:\n" + String.join("\n", output); } }

        String status() {
            try {
                Path f = ReplicationService.statusFile(dataDir);
                return Files.exists(f) ? Files.readString(f) : "";
            } catch (IOException e) {
                return "";
            }
        }

        CommandResult cli(String... args) {
            List<String> cmd = new ArrayList<>(javaCommand());
            cmd.addAll(List.of(args));
            for (String s : sets) cmd.addAll(List.of("--set", s));
            CommandResult r = pri.exec(Duration.ofSeconds(180), cmd.toArray(String[]::new));
            assertThat(r.exitCode()).as("primary netboot " + String.join(" ", args) + ":\n" + r.stdout() + r.stderr()).isZero();
            return r;
        }
    }

    private static List<String> javaCommand() { return ServeProcess.javaCommand(); }

    // ---------------------------------------------------------------- the guest

    /** Runs a shell script in the guest (busybox sh, outside the chroot); fails the test on a non-zero exit. */
    String sh(String script, int seconds) throws IOException {
        CommandRunner.Result r = guest.runner().execute(List.of("sh", "-c", script), Duration.ofSeconds(seconds));
        if (r.exitCode() != 0) throw new AssertionError("guest: " + script + "\nexit " + r.exitCode() + "\n" + r.stdout() + r.stderr() + "\nconsole:\n" + guest.console());
        return r.stdout();
    }

    /** The same in the host's tree (the chroot), with the lvm2 configuration for this guest (no udev, only /dev/vd*). */
    String inRoot(String command, int seconds) throws IOException {
        return sh("LVM_SYSTEM_DIR=/run/lvmconf chroot /host " + command, seconds);
    }

    String standbyStatus() throws IOException {
        return sh("cat /host" + GUEST_DATA + "/replication/status 2>/dev/null || true", 30);
    }

    String standbyLog() {
        try {
            return "standby log:\n" + sh("tail -c 20000 /host/run/sby.log 2>/dev/null || true", 30);
        } catch (IOException | AssertionError e) {
            return "standby log: unreadable: " + e.getMessage();
        }
    }

    /** The pool's thin volumes: name, origin, size in bytes, as lvs reports them. */
    String volumes() throws IOException {
        return inRoot("lvs --noheadings --units b --nosuffix -o lv_name,origin,lv_size,data_percent " + VG, 60);
    }

    void await(String what, Duration timeout, BooleanSupplier condition) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (primary.process != null) assertThat(primary.process.isAlive()).as(primary.log()).isTrue();
            if (System.nanoTime() > end)
                throw new AssertionError("timed out waiting for " + what + "\nprimary status:\n" + primary.status() + "\nstandby status:\n" + standbyStatus()
                        + "\n" + primary.log() + "\n" + standbyLog() + "\nvolumes:\n" + volumes());
            Thread.sleep(1000);
        }
    }

    private void startGuest() throws Exception {
        Path guestDir = Files.createDirectories(dir.resolve("guest"));
        guest = LvmGuest.boot(guestDir, 768L << 20, new LvmGuest.Extras(List.of("9pnet_virtio", "9p", "virtio_net"),
                List.of("-virtfs", "local,path=/,mount_tag=host,security_model=none,readonly=on",
                        "-nic", "user,model=virtio-net-pci"),
                1536, List.of("ip", "netns", "exec", sby.name())));
        // The host's tree read-only, with the guest's own /proc, /sys, /dev (where LVM makes its nodes) and a /run for
        // what the standby writes: its data directory, the JVM's temporary files, LVM's locks.
        sh("""
                set -e
                mkdir -p /host
                mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144 host /host
                mount -t proc proc /host/proc
                mount -t sysfs sys /host/sys
                mount -t devtmpfs dev /host/dev
                mount -t tmpfs run /host/run
                mkdir -p /host/run/lock/lvm /host/run/lvm /host/run/lvmconf /host/run/jtmp /host%s
                cp /etc/lvm/lvm.conf /host/run/lvmconf/lvm.conf
                ip link set lo up
                ip link set eth0 up
                ip addr add 10.0.2.15/24 dev eth0
                ip route add default via 10.0.2.2
                """.formatted(GUEST_DATA), 120);
        inRoot("pvcreate --yes /dev/vda", 120);
        inRoot("vgcreate " + VG + " /dev/vda", 120);
        inRoot("lvcreate --yes --type thin-pool --size 600M --name " + POOL + " " + VG, 180);
    }

    private void startStandby(String primaryAddress) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx320m", "-XX:-UsePerfData", "-Djava.io.tmpdir=/run/jtmp", "--enable-native-access=ALL-UNNAMED"));
        List<String> rest = javaCommand();
        cmd.addAll(rest.subList(3, rest.size()));   // -jar JAR or -cp PATH MAIN, the same files as the host's (read-only over 9p)
        cmd.add("serve");
        for (String s : List.of("dataDir=" + GUEST_DATA, "aoe.interfaces=[eth0]", "tftp.enabled=false", "http.enabled=false", "dhcp.mode=off",
                "disks.store=lvm", "disks.volumeGroup=" + VG, "disks.thinPool=" + POOL,
                "replication.role=standby", "replication.peer=" + primaryAddress + ":" + PORT, "replication.listen=10.0.2.15:" + PORT,
                "replication.secret=" + SECRET, "replication.pingMillis=500", "replication.timeoutMillis=8000"))
            cmd.addAll(List.of("--set", s));
        StringBuilder line = new StringBuilder();
        for (String c : cmd) line.append('\'').append(c.replace("'", "'\\''")).append("' ");
        // Detached: the command server waits only for the shell that starts it.
        sh("LVM_SYSTEM_DIR=/run/lvmconf PATH=/usr/sbin:/usr/bin:/sbin:/bin setsid chroot /host " + line + " >/host/run/sby.log 2>&1 </dev/null &", 30);
    }

    // ---------------------------------------------------------------- the test

    @Test
    void aCloneOnThePrimaryBecomesAThinVolumeOnAnLvmStandbyWritesReplicateAndARemovalRemovesIt() throws Exception {
        String p = replicationLink.hostSideAddress().getHostAddress();
        primary = new Server(dir.resolve("primary"), List.of("dataDir=" + dir.resolve("primary"), "aoe.interfaces=[" + clientLink.hostSideName() + "]",
                "tftp.enabled=false", "http.enabled=false", "dhcp.mode=off", "replication.role=primary",
                "replication.peer=" + replicationLink.peerAddress().getHostAddress() + ":" + PORT, "replication.listen=0.0.0.0:" + PORT,
                "replication.secret=" + SECRET, "replication.pingMillis=500", "replication.timeoutMillis=8000")).start();
        startGuest();
        startStandby(p);
        await("the standby connected", SLOW, () -> primary.status().contains("connected yes"));

        Path rootfs = TestRootfs.create(dir.resolve("rootfs"));
        primary.cli("image", "import", "demo", rootfs.toString(), "--size", "64M");
        primary.cli("image", "import", "demo2", rootfs.toString(), "--size", "64M");
        String mac = clientLink.peerMac();
        primary.cli("clone", "demo", "--to", mac);
        Pattern diskLine = Pattern.compile("disk ((\\d+)\\.(\\d+)) role primary state up-to-date");
        await("the clone replicated and up to date on both", SLOW, () -> diskLine.matcher(primary.status()).find() && status(this::standbyStatus).contains("role standby state up-to-date"));
        Matcher address = diskLine.matcher(primary.status());
        assertThat(address.find()).isTrue();
        String volume = "client-" + mac.replace(":", "").toLowerCase();

        // The standby's copy is a thin snapshot of its own image volume, in its pool, of the primary's disk's size.
        String lvs = volumes();
        Path clone = primary.dataDir.resolve("disks").resolve(volume + ".img");
        long size = Files.size(clone);
        assertThat(lvs).as(lvs).containsPattern("(?m)^\\s*" + Pattern.quote(volume) + "\\s+img-demo\\s+" + size + "\\s");
        // The full sync gave the snapshot no blocks of its own: the image's ranges crossed by reference and matched its
        // origin, the holes were zeros already (unprovisioned). The pool holds the image volume's data and nothing more
        // (one thin chunk, 64 KiB, of slack per volume for rounding of the percentages).
        long pool = usedBytes(POOL, 600L << 20), image = usedBytes("img-demo", size);
        assertThat(pool).as("bytes used in the pool after the full sync vs the image volume's\n" + lvs).isLessThanOrEqualTo(image + (128 << 10));

        // A real initiator writes to the primary's clone; the writes reach the standby's volume.
        CommandResult w = cli.exec(Duration.ofSeconds(90), loadgen.toString(), "-i", clientLink.peerName(), "-s", address.group(2), "-l", address.group(3),
                "-m", "randwrite", "-w", "16", "-t", "2", "-p", "7", "-r", "7");
        assertThat(w.exitCode()).as(w.stdout() + w.stderr()).isZero();
        assertThat(w.stdout()).contains("errors=0");
        await("no write in flight", SLOW, () -> primary.status().contains("in-flight 0") && !primary.status().contains("syncing")
                && status(this::standbyStatus).contains("role standby state up-to-date"));
        String standbyMd5 = sh("md5sum /dev/" + VG + "/" + volume, 600).split("\\s+")[0];
        assertThat(standbyMd5).as("the standby's thin volume reads as the primary's clone\n" + standbyLog()).isEqualTo(liveDiskDigest(clone));
        System.out.println("LvmStandbyIT: pool used after the full sync " + pool + " bytes (image volume " + image + "), after the writes "
                + usedBytes(POOL, 600L << 20) + " bytes; volumes:\n" + volumes());

        // Re-imaged on the primary: the standby's volume is replaced by a snapshot of the new image's volume, synced anew.
        String disk = address.group(1), firstId = currentId(primary.status(), disk);
        primary.cli("clone", "demo2", "--to", mac, "--replace");
        await("the standby's new copy up to date with the primary's new disk", SLOW, () -> {
            String ps = primary.status(), ss = status(this::standbyStatus), id = currentId(ps, disk);
            return !id.isEmpty() && !id.equals(firstId) && id.equals(currentId(ss, disk)) && diskLine(ps, disk).contains("state up-to-date")
                    && diskLine(ss, disk).contains("state up-to-date") && ps.contains("in-flight 0");
        });
        lvs = volumes();
        assertThat(lvs).as(lvs).containsPattern("(?m)^\\s*" + Pattern.quote(volume) + "\\s+img-demo2\\s+" + size + "\\s");
        assertThat(sh("md5sum /dev/" + VG + "/" + volume, 600).split("\\s+")[0]).as("the new copy\n" + standbyLog()).isEqualTo(liveDiskDigest(clone));

        // A removal on the primary removes the standby's volume.
        primary.cli("client", "unassign", mac);
        await("the volume gone from the standby's pool", SLOW, () -> !status(this::volumes).contains(volume));
        assertThat(volumes()).contains("img-demo").contains("img-demo2");
    }

    /** Bytes a thin volume or the pool maps, from lvs's data_percent (two decimals) of its size. */
    long usedBytes(String lv, long sizeBytes) throws IOException {
        String percent = inRoot("lvs --noheadings -o data_percent " + VG + "/" + lv, 60).strip();
        return Math.round(Double.parseDouble(percent) / 100 * sizeBytes);
    }

    /** The status line of one disk ("" when not listed). */
    static String diskLine(String status, String disk) {
        for (String line : status.split("\n")) if (line.startsWith("disk " + disk + " ")) return line;
        return "";
    }

    /** The disk's current generation identifier in a status ("" when not listed). */
    static String currentId(String status, String disk) {
        Matcher m = Pattern.compile(" ids ([0-9a-f]+)/").matcher(diskLine(status, disk));
        return m.find() ? m.group(1) : "";
    }

    interface IoSupplier {
        String get() throws IOException;
    }

    static String status(IoSupplier s) {
        try {
            return s.get();
        } catch (IOException e) {
            return "";
        }
    }

    /** MD5 of a clone a running server holds, as its client reads it: from a copy of its overlay and map (no write in flight). */
    String liveDiskDigest(Path clone) throws Exception {
        Path copy = Files.createTempDirectory(dir, "copy").resolve(clone.getFileName());
        Files.copy(clone, copy);
        Files.copy(CowBlockStore.sidecarOf(clone), CowBlockStore.sidecarOf(copy));
        MessageDigest md = MessageDigest.getInstance("MD5");
        try (CowBlockStore c = CowBlockStore.open(copy, true, false)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(1 << 20);
            byte[] bytes = new byte[1 << 20];
            for (long at = 0; at < c.size(); at += b.capacity()) {
                b.clear().limit((int) Math.min(b.capacity(), c.size() - at));
                c.read(at, b);
                b.flip();
                int n = b.remaining();
                b.get(bytes, 0, n);
                md.update(bytes, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
