package dev.netboot.app;

import dev.netboot.images.TestRootfs;
import dev.netboot.storage.CowBlockStore;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The boot state on the standby, with real peers: two server processes (the jar) in namespaces joined by
 * a replication veth; on the primary an operator imports an image and clones it for a client (the CLI,
 * as a person would), a real AoE initiator (bench/aoe-loadgen.c) writes to that clone; the standby then
 * lists the client, image and disk, holds the image with the same SHA-256, and its clone overlay has the
 * same md5 as the primary's, although the image's data crossed the link only once. A removal follows.
 */
class CatalogReplicationIT {

    static final Duration T = Duration.ofSeconds(120);
    static final int PORT = 7789;
    static final String SECRET = "catalog-it-secret-0123456789abcdef";
    static Path loadgen;

    @TempDir
    Path dir;
    NetLab lab;
    Namespace pri, sby, cli;
    VethPair clientLink, standbyClientLink, replicationLink;
    Server primary, standby;

    @BeforeAll
    static void buildLoadGenerator() throws Exception {
        loadgen = ServeProcess.buildLoadGenerator("catalog-it");
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
    }

    @AfterEach
    void cleanUp() {
        for (Server s : new Server[]{primary, standby}) if (s != null) s.kill();
        if (lab != null) lab.close();
    }

    final class Server {
        final String name;
        final Namespace ns;
        final Path dataDir;
        final List<String> sets;
        final List<String> output = Collections.synchronizedList(new ArrayList<>());
        Process process;

        Server(String name, Namespace ns, String role, String aoeInterface, String listen, String peer) {
            this.name = name;
            this.ns = ns;
            this.dataDir = dir.resolve(name);
            sets = List.of("dataDir=" + dataDir, "aoe.interfaces=[" + aoeInterface + "]", "tftp.enabled=false", "http.enabled=false",
                    "dhcp.mode=off", "replication.role=" + role, "replication.peer=" + peer, "replication.listen=" + listen,
                    "replication.secret=" + SECRET, "replication.pingMillis=200", "replication.timeoutMillis=1000");
        }

        Server start() throws IOException {
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

        String status() {
            try {
                Path f = ReplicationService.statusFile(dataDir);
                return Files.exists(f) ? Files.readString(f) : "";
            } catch (IOException e) {
                return "";
            }
        }

        void await(String what, Predicate<Server> condition) throws Exception {
            long end = System.nanoTime() + T.toNanos();
            while (!condition.test(this)) {
                if (process != null) assertThat(process.isAlive()).as(log()).isTrue();
                if (System.nanoTime() > end) throw new AssertionError(name + ": timed out waiting for " + what + "\nstatus:\n" + status() + "\n" + log());
                Thread.sleep(200);
            }
        }

        CommandResult cli(String... args) {
            List<String> cmd = new ArrayList<>(javaCommand());
            cmd.addAll(List.of(args));
            for (String s : sets) cmd.addAll(List.of("--set", s));
            CommandResult r = ns.exec(Duration.ofSeconds(180), cmd.toArray(String[]::new));
            assertThat(r.exitCode()).as(name + " netboot " + String.join(" ", args) + ":\n" + r.stdout() + r.stderr()).isZero();
            return r;
        }

        long counter(String key) {
            Matcher m = Pattern.compile(" " + Pattern.quote(key) + "=(\\d+)").matcher(status());
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        }
    }

    private static List<String> javaCommand() { return ServeProcess.javaCommand(); }

    static String digest(String algorithm, Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance(algorithm);
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Client disks under a data directory that are clones (overlay + sidecar), by path relative to it. */
    static List<Path> clones(Path dataDir) throws IOException {
        try (Stream<Path> walk = Files.walk(dataDir)) {
            return walk.filter(Files::isRegularFile).filter(p -> !p.startsWith(dataDir.resolve("images")))
                    .filter(CowBlockStore::isClone).map(dataDir::relativize).sorted().toList();
        }
    }

    /** Primary and standby started and linked; a root file system to import images from. */
    private Path startLinkedPair() throws Exception {
        String p = replicationLink.hostSideAddress().getHostAddress(), s = replicationLink.peerAddress().getHostAddress();
        primary = new Server("primary", pri, "primary", clientLink.hostSideName(), "0.0.0.0:" + PORT, s + ":" + PORT).start();
        standby = new Server("standby", sby, "standby", standbyClientLink.hostSideName(), s + ":" + PORT, p + ":" + PORT).start();
        primary.await("the link", x -> x.status().contains("connected yes"));
        return TestRootfs.create(dir.resolve("rootfs"));
    }

    @Test
    void anImageCloneAndAssignmentOnThePrimaryAppearOnTheStandbyAndTheImageCrossesOnce() throws Exception {
        Path rootfs = startLinkedPair();
        primary.cli("image", "import", "demo", rootfs.toString(), "--size", "64M");
        String mac = clientLink.peerMac();
        primary.cli("clone", "demo", "--to", mac);

        // The clone joins the data path once the standby holds it; both copies up to date.
        Pattern diskLine = Pattern.compile("disk (\\d+)\\.(\\d+) role primary state up-to-date");
        primary.await("the clone replicated and up to date", x -> diskLine.matcher(x.status()).find());
        standby.await("the clone up to date on the standby", x -> x.status().contains("role standby state up-to-date"));
        Matcher address = diskLine.matcher(primary.status());
        assertThat(address.find()).isTrue();

        // A real initiator writes to the clone (it is the client's MAC the clone is exported to).
        CommandResult w = cli.exec(Duration.ofSeconds(90), loadgen.toString(), "-i", clientLink.peerName(), "-s", address.group(1), "-l", address.group(2),
                "-m", "randwrite", "-w", "16", "-t", "2", "-p", "7", "-r", "7");
        assertThat(w.exitCode()).as(w.stdout() + w.stderr()).isZero();
        assertThat(w.stdout()).contains("errors=0");
        primary.await("no write in flight", x -> x.status().contains("in-flight 0") && !x.status().contains("syncing"));

        // The standby's own view: client, image, disk.
        String clients = standby.cli("client", "list").stdout();
        assertThat(clients).as(clients).contains(mac).contains("demo");
        String images = standby.cli("image", "list").stdout();
        assertThat(images).as(images).contains("demo");
        String disks = standby.cli("disk", "list").stdout();
        String listed = "e" + address.group(1) + "." + address.group(2) + " ";
        assertThat(disks).as(disks).contains(listed);

        Path image = Path.of("images", "demo", "disk.img");
        assertThat(digest("SHA-256", standby.dataDir.resolve(image))).isEqualTo(digest("SHA-256", primary.dataDir.resolve(image)));
        List<Path> clones = clones(primary.dataDir);
        assertThat(clones).as("one clone on the primary").hasSize(1);
        assertThat(clones(standby.dataDir)).as("the standby's disk is a clone of its own image copy, at the same place").isEqualTo(clones);
        assertThat(digest("MD5", standby.dataDir.resolve(clones.getFirst()))).as("overlay")
                .isEqualTo(digest("MD5", primary.dataDir.resolve(clones.getFirst())));

        // The image crossed once (its file copy); the clone's full sync sent only the clone's own blocks.
        long imageBytes = Files.size(primary.dataDir.resolve(image));
        long received = standby.counter("received-bytes");
        assertThat(received).as(standby.status()).isPositive().isLessThan(imageBytes + imageBytes / 2);

        // A removal on the primary happens on the standby too.
        primary.cli("client", "unassign", mac);
        standby.await("the disk gone from the standby's catalog", x -> !x.cli("disk", "list").stdout().contains(listed));
        assertThat(clones(standby.dataDir)).isEmpty();
    }

    /** The status line of one disk ("" when the server does not list it). */
    static String diskLine(Server s, String disk) {
        for (String line : s.status().split("\n")) if (line.startsWith("disk " + disk + " ")) return line;
        return "";
    }

    /** The disk's current generation identifier in the status ("" when not listed). */
    static String currentId(Server s, String disk) {
        Matcher m = Pattern.compile(" ids ([0-9a-f]+)/").matcher(diskLine(s, disk));
        return m.find() ? m.group(1) : "";
    }

    /** Whether a clone's sidecar names {@code base} (read as bytes: opening the clone is refused while a server holds it). */
    static boolean cloneOf(Path clone, Path base) throws IOException {
        byte[] header = Files.readAllBytes(CowBlockStore.sidecarOf(clone));
        String text = new String(header, 0, Math.min(header.length, 8192), StandardCharsets.ISO_8859_1);
        return text.contains(base.toAbsolutePath().normalize().toString());
    }

    /** Waits until the standby holds {@code disk} up to date with the primary's copy whose current identifier is not {@code notId}. */
    void awaitInSyncWithNewCopy(String disk, String notId) throws Exception {
        standby.await("the standby's copy of " + disk + " up to date with the primary's new one", x -> {
            String id = currentId(primary, disk);
            return !id.isEmpty() && !id.equals(notId) && id.equals(currentId(x, disk)) && diskLine(x, disk).contains("state up-to-date")
                    && diskLine(primary, disk).contains("state up-to-date");
        });
    }

    void write(String shelf, String slot, int seed) {
        CommandResult w = cli.exec(Duration.ofSeconds(90), loadgen.toString(), "-i", clientLink.peerName(), "-s", shelf, "-l", slot,
                "-m", "randwrite", "-w", "16", "-t", "2", "-p", String.valueOf(seed), "-r", String.valueOf(seed));
        assertThat(w.exitCode()).as(w.stdout() + w.stderr()).isZero();
        assertThat(w.stdout()).contains("errors=0");
    }

    /**
     * A PC re-imaged on the primary ('clone IMAGE --to MAC --replace': a new file at the same AoE address) is
     * followed by the standby: its old copy is discarded, a clone of the new image's local copy made, and a full
     * sync brings it up to date, byte for byte, also when the standby was down during the re-image. A primary
     * that shows another file without having replaced the standby's (a wrongly rebuilt primary) gets nothing:
     * the standby keeps its copy, unrelated.
     */
    @Test
    void aDiskReimagedOnThePrimaryIsFollowedByTheStandbyAndAnUnprovenOneIsNot() throws Exception {
        Path rootfs = startLinkedPair();
        primary.cli("image", "import", "demo", rootfs.toString(), "--size", "64M");
        primary.cli("image", "import", "demo2", rootfs.toString(), "--size", "64M");
        String mac = clientLink.peerMac();
        primary.cli("clone", "demo", "--to", mac);
        Pattern diskLinePattern = Pattern.compile("disk ((\\d+)\\.(\\d+)) role primary state up-to-date");
        primary.await("the clone replicated and up to date", x -> diskLinePattern.matcher(x.status()).find());
        Matcher address = diskLinePattern.matcher(primary.status());
        assertThat(address.find()).isTrue();
        String disk = address.group(1), shelf = address.group(2), slot = address.group(3);
        awaitInSyncWithNewCopy(disk, "");
        write(shelf, slot, 7);
        primary.await("no write in flight", x -> x.status().contains("in-flight 0") && !x.status().contains("syncing"));
        Path clone = clones(primary.dataDir).getFirst();
        Path standbyCopy = standby.dataDir.resolve(clone);
        String firstCopy = dev.netboot.storage.FileIdentity.peek(standbyCopy);
        assertThat(firstCopy).as("the standby's copy has an identity").isNotEmpty();
        String firstId = currentId(primary, disk);

        // 1. Re-imaged while the standby runs.
        primary.cli("clone", "demo2", "--to", mac, "--replace");
        awaitInSyncWithNewCopy(disk, firstId);
        write(shelf, slot, 11);
        primary.await("no write in flight", x -> x.status().contains("in-flight 0") && !x.status().contains("syncing"));
        standby.await("the standby up to date", x -> diskLine(x, disk).contains("state up-to-date"));
        assertThat(clones(primary.dataDir)).containsExactly(clone);
        assertThat(clones(standby.dataDir)).as("the old copy is gone, the new one in its place").containsExactly(clone);
        String secondCopy = dev.netboot.storage.FileIdentity.peek(standbyCopy);
        assertThat(secondCopy).as("another file than the old copy").isNotEmpty().isNotEqualTo(firstCopy);
        assertThat(cloneOf(standbyCopy, standby.dataDir.resolve("images/demo2/disk.img"))).as("a clone of the new image's local copy").isTrue();
        // As a client reads them: the overlays' layouts differ when the sync moved image data instead of naming it.
        assertThat(liveDiskDigest(standbyCopy)).as("the disk\n" + standby.log() + "\n" + primary.log()).isEqualTo(liveDiskDigest(primary.dataDir.resolve(clone)));
        // (Which path the standby took depends on timing: the CLI's re-image removes and re-adds the catalog entry, and a
        // standby that saw the state in between removed its copy as for a removal; otherwise it found the file replaced.)
        String clients = standby.cli("client", "list").stdout();
        assertThat(clients).as(clients).containsPattern("(?i)" + Pattern.quote(mac) + ".*demo2");

        // 2. Re-imaged while the standby is down: it follows when it comes back.
        String secondId = currentId(primary, disk);
        standby.kill();
        primary.await("the link down", x -> x.status().contains("connected no"));
        primary.cli("clone", "demo", "--to", mac, "--replace");
        primary.await("the new disk replicated (alone)", x -> !currentId(x, disk).isEmpty() && !currentId(x, disk).equals(secondId));
        write(shelf, slot, 13);
        standby.output.clear();
        standby.start();
        awaitInSyncWithNewCopy(disk, secondId);
        primary.await("no write in flight", x -> x.status().contains("in-flight 0") && !x.status().contains("syncing"));
        assertThat(standby.text()).as("it never saw the disk removed: the replacement told it")
                .contains("disk " + disk + " was replaced on the primary (re-imaged from image demo)");
        String thirdCopy = dev.netboot.storage.FileIdentity.peek(standbyCopy);
        assertThat(thirdCopy).isNotEmpty().isNotEqualTo(secondCopy);
        assertThat(clones(standby.dataDir)).containsExactly(clone);
        assertThat(cloneOf(standbyCopy, standby.dataDir.resolve("images/demo/disk.img"))).isTrue();
        // The writes came before the full sync, so the standby's overlay holds image data of ranges the clone wrote into
        // too: the disks as clients read them (image under overlay) are compared, with both servers stopped (a clone is locked).
        primary.kill();
        standby.kill();
        assertThat(diskDigest(standbyCopy)).as("the standby's disk as a client reads it").isEqualTo(diskDigest(primary.dataDir.resolve(clone)));
        standby.output.clear();
        standby.start();
        primary.start();
        standby.await("up to date again", x -> diskLine(x, disk).contains("state up-to-date") && x.status().contains("in-sync yes"));

        // 3. A wrongly rebuilt primary: its file is another one (a copy, so another identity) and its replica state is
        // gone, so it cannot name the file the standby's copy mirrors. The standby keeps its copy, unrelated.
        primary.kill();
        standby.await("the link down", x -> x.status().contains("connected no"));
        Path primaryFile = primary.dataDir.resolve(clone);
        Path copy = primaryFile.resolveSibling("rebuilt.tmp");
        Files.copy(primaryFile, copy);
        Files.move(copy, primaryFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(dev.netboot.storage.FileIdentity.peek(primaryFile)).as("the rebuilt file has no identity yet").isEmpty();
        deleteTree(dev.netboot.replication.ReplicaFiles.dirOf(ReplicationService.stateDir(primary.dataDir), disk));
        String kept = digest("MD5", standbyCopy);
        primary.output.clear();
        standby.output.clear();
        primary.start();
        standby.await("the copy found unrelated", x -> diskLine(x, disk).contains("state unrelated"));
        standby.await("the rebuilt primary's state applied", x -> x.status().contains("in-sync yes")
                && x.text().contains("is KEPT"));
        Thread.sleep(3000);   // time for a wrong discard to show
        assertThat(diskLine(standby, disk)).contains("state unrelated");
        assertThat(dev.netboot.storage.FileIdentity.peek(standbyCopy)).as("the same copy").isEqualTo(thirdCopy);
        assertThat(digest("MD5", standbyCopy)).as("nothing written over the copy").isEqualTo(kept);
        assertThat(standby.text()).doesNotContain("was replaced on the primary (re-imaged");
    }

    /** MD5 of a clone as its client reads it (the image's blocks under the clone's own), opened read-only. */
    /** {@link #diskDigest} of a clone a running server holds locked: read from a copy of its overlay and map (no write in flight). */
    String liveDiskDigest(Path clone) throws Exception {
        Path copy = Files.createTempDirectory(dir, "copy").resolve(clone.getFileName());
        Files.copy(clone, copy);
        Files.copy(CowBlockStore.sidecarOf(clone), CowBlockStore.sidecarOf(copy));
        return diskDigest(copy);
    }

    static String diskDigest(Path clone) throws Exception {
        MessageDigest md = MessageDigest.getInstance("MD5");
        try (CowBlockStore c = CowBlockStore.open(clone, true, false)) {
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

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }
}
