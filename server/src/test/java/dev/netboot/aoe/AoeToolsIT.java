package dev.netboot.aoe;

import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.storage.FileBlockStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * aoetools (the Coraid/OpenAoE userspace initiator tools) against the appliance over veth pairs:
 * an allowed client and a stranger, each in its own namespace, on two interfaces of one server.
 */
class AoeToolsIT {

    static Netns client;
    static Netns stranger;
    @TempDir
    static Path dataDir;
    static Appliance appliance;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Netns.haveRootAnd("ip", "aoeping", "aoecfg"), "needs root, iproute2 and aoetools");
        client = new Netns("ac");
        stranger = new Netns("as");
        DiskCatalog catalog = new DiskCatalog(dataDir);
        Path image = DiskCatalog.defaultImage(dataDir, new TargetAddress(3, 1));
        FileBlockStore.createSparse(image, 8 << 20).close();
        catalog.add(new DiskEntry("3.1", image.toString(), List.of(client.nsMac()), false, false));
        appliance = startAppliance();
    }

    static Appliance startAppliance() throws Exception {
        NetbootConfig config = ConfigLoader.load(Optional.empty(), List.of(
                "dataDir=" + dataDir, "tftp.enabled=false", "http.enabled=false",
                "aoe.interfaces=[" + client.hostIf + ", " + stranger.hostIf + "]", "aoe.catalogPollMillis=100",
                "aoe.threadsPerInterface=2"));
        return new Appliance(config).start();
    }

    @AfterAll
    static void stop() {
        if (appliance != null) appliance.close();
        if (client != null) client.close();
        if (stranger != null) stranger.close();
    }

    @Test
    void aoepingIdentifiesTheDiskForTheAllowedClientOnly() throws Exception {
        Netns.Result id = client.exec(10, "aoeping", "-s", "3", "-I", "3", "1", client.nsIf);
        assertThat(id.exitCode()).as(id.output()).isZero();
        assertThat(id.output()).contains("model: netboot AoE e3.1").contains("serial_number: NB3.1");
        Netns.Result denied = stranger.exec(10, "aoeping", "-s", "2", "3", "1", stranger.nsIf);
        assertThat(denied.exitCode()).as("a stranger gets no reply at all").isNotZero();
    }

    @Test
    void smartIsReportedUnsupported() throws Exception {
        Netns.Result smart = client.exec(10, "aoeping", "-s", "3", "-S", "0xd0", "3", "1", client.nsIf);
        assertThat(smart.output()).contains("does not support SMART");
    }

    @Test
    void configStringSetTestAndSurvivesARestart() throws Exception {
        assertThat(client.exec(10, "aoecfg", "-c", "fset", "-s", "client-a", "-t", "3", "3", "1", client.nsIf).output()).contains("client-a");
        Netns.Result refused = client.exec(10, "aoecfg", "-c", "set", "-s", "client-b", "-t", "3", "3", "1", client.nsIf);
        assertThat(refused.output()).doesNotContain("client-b");
        assertThat(client.exec(10, "aoecfg", "-c", "test", "-s", "client-a", "-t", "2", "3", "1", client.nsIf).output()).contains("client-a");
        assertThat(client.exec(10, "aoecfg", "-c", "prefix", "-s", "client", "-t", "2", "3", "1", client.nsIf).output()).contains("client-a");
        assertThat(client.exec(10, "aoecfg", "-c", "test", "-s", "client", "-t", "2", "3", "1", client.nsIf).output()).doesNotContain("client-a");
        appliance.close();
        appliance = startAppliance();
        assertThat(client.exec(10, "aoecfg", "-c", "read", "-t", "3", "3", "1", client.nsIf).output()).contains("client-a");
    }

    @Test
    void disksAddedAndRemovedInTheCatalogAppearAndVanishWhileRunning() throws Exception {
        DiskCatalog catalog = new DiskCatalog(dataDir);
        Path image = DiskCatalog.defaultImage(dataDir, new TargetAddress(3, 2));
        FileBlockStore.createSparse(image, 1 << 20).close();
        catalog.add(new DiskEntry("3.2", image.toString(), List.of(stranger.nsMac()), false, false));
        Netns.Result seen = null;
        for (int i = 0; i < 20; i++) {
            seen = stranger.exec(10, "aoeping", "-s", "1", "-I", "3", "2", stranger.nsIf);
            if (seen.exitCode() == 0) break;
        }
        assertThat(seen.output()).contains("netboot AoE e3.2");
        catalog.remove(new TargetAddress(3, 2));
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (appliance.aoe().exported().contains(new TargetAddress(3, 2)) && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(stranger.exec(10, "aoeping", "-s", "1", "3", "2", stranger.nsIf).exitCode()).isNotZero();
    }
}
