package dev.netboot.aoe;

import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.storage.FileBlockStore;
import dev.netboot.testlib.CommandResult;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A disk bound to one of the server's AoE interfaces, seen with aoetools from two segments: each client in
 * its own namespace on its own veth to the server. The PC on the other segment sends with the bound disk's
 * client's own MAC (AoE has no authentication; a MAC is all a target knows of a client), so only the
 * interface binding can keep it away.
 */
class AoeInterfaceBindingIT {

    static final Duration T = Duration.ofSeconds(15);
    static NetLab lab;
    static Namespace client, other;
    static VethPair clientLink, otherLink;
    @TempDir
    static Path dataDir;
    static Appliance appliance;

    @BeforeAll
    static void start() throws Exception {
        lab = NetLab.create();
        client = lab.namespace("client");
        other = lab.namespace("other");
        clientLink = lab.veth(null, client);
        otherLink = lab.veth(null, other);
        // The other segment's PC forges the client's MAC.
        other.execOk(T, "ip", "link", "set", otherLink.peerName(), "address", clientLink.peerMac());
        DiskCatalog catalog = new DiskCatalog(dataDir);
        String mine = image(5, 1);
        try (var f = java.nio.channels.FileChannel.open(Path.of(mine), java.nio.file.StandardOpenOption.WRITE)) {
            f.write(java.nio.ByteBuffer.wrap(MARK.getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 0);
        }
        catalog.add(new DiskEntry("5.1", mine, List.of(clientLink.peerMac()), false, false, List.of(clientLink.hostSideName())));
        catalog.add(new DiskEntry("5.2", image(5, 2), List.of(clientLink.peerMac()), false, false));
        NetbootConfig config = ConfigLoader.load(Optional.empty(), List.of(
                "dataDir=" + dataDir, "tftp.enabled=false", "http.enabled=false", "dhcp.mode=off",
                "aoe.interfaces=[" + clientLink.hostSideName() + ", " + otherLink.hostSideName() + "]", "aoe.catalogPollMillis=100"));
        appliance = new Appliance(config).start();
    }

    static String image(int shelf, int slot) throws Exception {
        Path image = DiskCatalog.defaultImage(dataDir, new TargetAddress(shelf, slot));
        FileBlockStore.createSparse(image, 8 << 20).close();
        return image.toString();
    }

    @AfterAll
    static void stop() {
        if (appliance != null) appliance.close();
        if (lab != null) lab.close();
    }

    static String out(CommandResult r) { return r.stdout() + r.stderr(); }

    /** The client's disk carries this at LBA 0, so a read shows whose disk answered. */
    static final String MARK = "disk e5.1 of the client's segment";

    @Test
    void theBoundDiskIsSeenAndReadOnItsInterfaceOnly() throws Exception {
        // aoe-sancheck: raw-socket discovery (a broadcast Query Config), what every initiator starts with
        assertThat(out(client.execOk(T, "aoe-sancheck"))).contains("e5.1", "e5.2");
        String seen = out(other.execOk(T, "aoe-sancheck"));
        assertThat(seen).as("the other segment discovers only the unbound disk").contains("e5.2").doesNotContain("e5.1");

        CommandResult id = client.exec(T, "aoeping", "-s", "3", "-I", "5", "1", clientLink.peerName());
        assertThat(id.exitCode()).as(out(id)).isZero();
        assertThat(out(id)).contains("model: netboot AoE e5.1");
        assertThat(read(client, clientLink.peerName(), clientLink.hostSideMac(), "5.1")).isEqualTo("read " + hex(MARK));
        assertThat(out(client.exec(T, "aoecfg", "-c", "fset", "-s", "seg-a", "-t", "3", "5", "1", clientLink.peerName()))).contains("seg-a");

        long before = wrongInterface();
        // The same MAC from the other segment: no config reply, no IDENTIFY, no read.
        assertThat(other.exec(T, "aoeping", "-s", "2", "5", "1", otherLink.peerName()).exitCode()).isNotZero();
        assertThat(out(other.exec(T, "aoecfg", "-c", "read", "-t", "2", "5", "1", otherLink.peerName()))).doesNotContain("seg-a");
        assertThat(read(other, otherLink.peerName(), otherLink.hostSideMac(), "5.1")).isEqualTo("no reply");
        // aoeping retries its Query Config, aoecfg sends one, the reader three READs
        assertThat(wrongInterface() - before).isGreaterThanOrEqualTo(5);
        assertThat(appliance.aoe().responder().dropped(AoeResponder.Drop.NOT_ADMITTED)).as("the MAC was never the reason").isZero();
        assertThat(appliance.registry().scrape()).containsPattern("netboot_aoe_frames_dropped_total\\{reason=\"wrong_interface\"} [1-9]");

        // The unbound disk is there for both.
        assertThat(client.exec(T, "aoeping", "-s", "3", "-I", "5", "2", clientLink.peerName()).exitCode()).isZero();
        CommandResult other52 = other.exec(T, "aoeping", "-s", "3", "-I", "5", "2", otherLink.peerName());
        assertThat(other52.exitCode()).as(out(other52)).isZero();
        assertThat(out(other52)).contains("model: netboot AoE e5.2");
        assertThat(read(other, otherLink.peerName(), otherLink.hostSideMac(), "5.2")).startsWith("read ");
    }

    /** {@link AoeSectorReader} in its own JVM in the namespace: LBA 0 of the disk, or "no reply". */
    static String read(Namespace ns, String nic, String serverMac, String disk) throws Exception {
        String[] a = disk.split("\\.");
        Path classes = Path.of(AoeSectorReader.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path main = Path.of(dev.netboot.packet.PacketSocket.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        CommandResult r = ns.exec(Duration.ofSeconds(30), Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classes + java.io.File.pathSeparator + main, AoeSectorReader.class.getName(),
                nic, serverMac, a[0], a[1], "0");
        return r.stdout().strip();
    }

    static String hex(String text) {
        return java.util.HexFormat.of().formatHex(java.util.Arrays.copyOf(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 32));
    }

    static long wrongInterface() { return appliance.aoe().responder().dropped(AoeResponder.Drop.WRONG_INTERFACE); }
}
