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
 * aoetools (the Coraid/OpenAoE userspace initiator tools) against the appliance over veth pairs:
 * an allowed client and a stranger, each in its own namespace, on two interfaces of one server.
 */
class AoeToolsIT {

    static final Duration T = Duration.ofSeconds(15);
    static NetLab lab;
    static Namespace client, stranger;
    static VethPair clientLink, strangerLink;
    @TempDir
    static Path dataDir;
    static Appliance appliance;

    @BeforeAll
    static void start() throws Exception {
        lab = NetLab.create();
        client = lab.namespace("client");
        stranger = lab.namespace("stranger");
        clientLink = lab.veth(null, client);
        strangerLink = lab.veth(null, stranger);
        DiskCatalog catalog = new DiskCatalog(dataDir);
        Path image = DiskCatalog.defaultImage(dataDir, new TargetAddress(3, 1));
        FileBlockStore.createSparse(image, 8 << 20).close();
        catalog.add(new DiskEntry("3.1", image.toString(), List.of(clientLink.peerMac()), false, false));
        appliance = startAppliance();
    }

    /** The recvmmsg receive path here (the guest and end-to-end tests run the default receive ring). */
    static Appliance startAppliance() throws Exception {
        NetbootConfig config = ConfigLoader.load(Optional.empty(), List.of(
                "dataDir=" + dataDir, "tftp.enabled=false", "http.enabled=false", "dhcp.mode=off",
                "aoe.interfaces=[" + clientLink.hostSideName() + ", " + strangerLink.hostSideName() + "]", "aoe.catalogPollMillis=100",
                "aoe.threadsPerInterface=2", "aoe.packetRing=false"));
        return new Appliance(config).start();
    }

    @AfterAll
    static void stop() {
        if (appliance != null) appliance.close();
        if (lab != null) lab.close();
    }

    static String out(CommandResult r) { return r.stdout() + r.stderr(); }

    @Test
    void aoepingIdentifiesTheDiskForTheAllowedClientOnly() {
        CommandResult id = client.exec(T, "aoeping", "-s", "3", "-I", "3", "1", clientLink.peerName());
        assertThat(id.exitCode()).as(out(id)).isZero();
        assertThat(out(id)).contains("model: netboot AoE e3.1").contains("serial_number: NB3.1");
        CommandResult denied = stranger.exec(T, "aoeping", "-s", "2", "3", "1", strangerLink.peerName());
        assertThat(denied.exitCode()).as("a stranger gets no reply at all").isNotZero();
    }

    @Test
    void smartIsReportedUnsupported() {
        CommandResult smart = client.exec(T, "aoeping", "-s", "3", "-S", "0xd0", "3", "1", clientLink.peerName());
        assertThat(out(smart)).contains("does not support SMART");
    }

    @Test
    void configStringSetTestAndSurvivesARestart() throws Exception {
        String nic = clientLink.peerName();
        assertThat(out(client.exec(T, "aoecfg", "-c", "fset", "-s", "client-a", "-t", "3", "3", "1", nic))).contains("client-a");
        assertThat(out(client.exec(T, "aoecfg", "-c", "set", "-s", "client-b", "-t", "3", "3", "1", nic))).doesNotContain("client-b");
        assertThat(out(client.exec(T, "aoecfg", "-c", "test", "-s", "client-a", "-t", "2", "3", "1", nic))).contains("client-a");
        assertThat(out(client.exec(T, "aoecfg", "-c", "prefix", "-s", "client", "-t", "2", "3", "1", nic))).contains("client-a");
        assertThat(out(client.exec(T, "aoecfg", "-c", "test", "-s", "client", "-t", "2", "3", "1", nic))).doesNotContain("client-a");
        appliance.close();
        appliance = startAppliance();
        assertThat(out(client.exec(T, "aoecfg", "-c", "read", "-t", "3", "3", "1", nic))).contains("client-a");
    }

    @Test
    void disksAddedAndRemovedInTheCatalogAppearAndVanishWhileRunning() throws Exception {
        DiskCatalog catalog = new DiskCatalog(dataDir);
        Path image = DiskCatalog.defaultImage(dataDir, new TargetAddress(3, 2));
        FileBlockStore.createSparse(image, 1 << 20).close();
        catalog.add(new DiskEntry("3.2", image.toString(), List.of(strangerLink.peerMac()), false, false));
        CommandResult seen = null;
        for (int i = 0; i < 20; i++) {
            seen = stranger.exec(T, "aoeping", "-s", "1", "-I", "3", "2", strangerLink.peerName());
            if (seen.exitCode() == 0) break;
        }
        assertThat(out(seen)).contains("netboot AoE e3.2");
        catalog.remove(new TargetAddress(3, 2));
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (appliance.aoe().exported().contains(new TargetAddress(3, 2)) && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(stranger.exec(T, "aoeping", "-s", "1", "3", "2", strangerLink.peerName()).exitCode()).isNotZero();
    }

    @Test
    void theTargetOutlivesItsInterfaceGoingDownAndAnswersFromTheInterfacesNewMac() throws Exception {
        String server = clientLink.hostSideName();
        exec("ip", "link", "set", server, "down");
        Thread.sleep(1500); // the receive threads see the interface down
        exec("ip", "link", "set", server, "up");
        assertThat(aoepingUntilAnswered()).as("AoE serves again after the link came back").isTrue();

        // A bridge's MAC changes when its ports do; replies must come from the address the interface has now.
        String newMac = "02:4e:42:00:00:31";
        exec("ip", "link", "set", server, "address", newMac);
        Thread.sleep(1200); // the MAC is re-read at most once a second
        Process capture = client.start("tcpdump", "-i", clientLink.peerName(), "-e", "-n", "-c", "1", "-l",
                "ether proto 0x88a2 and ether src " + newMac);
        try {
            Thread.sleep(1000); // tcpdump attaches its filter
            assertThat(aoepingUntilAnswered()).isTrue();
            assertThat(capture.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("a reply with source " + newMac).isTrue();
            assertThat(new String(capture.getInputStream().readAllBytes())).contains(newMac);
        } finally {
            capture.destroyForcibly();
        }
    }

    private static boolean aoepingUntilAnswered() {
        for (int i = 0; i < 10; i++) {
            if (client.exec(T, "aoeping", "-s", "2", "-I", "3", "1", clientLink.peerName()).exitCode() == 0) return true;
        }
        return false;
    }

    private static void exec(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertThat(p.waitFor()).as(String.join(" ", cmd)).isZero();
    }
}
