package dev.netboot.app;

import dev.netboot.config.ConfigLoader;
import dev.netboot.inventory.Image;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With {@code disks.defaultImage} set, a disk is made only for a machine whose network boot this server
 * answered (a real DHCP client in a namespace), never for a GET of a menu: before, 300 unauthenticated
 * GETs of /boot/ipxe/MAC.ipxe made 300 clones, ran the server out of file handles and left orphans.
 */
class DefaultImageClonesIT {

    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir Path tmp;
    NetLab lab;
    Namespace pc;
    VethPair link;
    Appliance server;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        lab = NetLab.create();
        pc = lab.namespace("pc");
        link = lab.veth(null, pc);
        pc.execOk(WAIT, "ip", "addr", "flush", "dev", link.peerName());
        String prefix = link.subnet().dottedPrefix();
        Path config = tmp.resolve("netboot.yaml");
        Files.writeString(config, """
                dataDir: %s
                networkInterface: %s
                tftp: {enabled: false}
                http: {port: 0}
                dhcp:
                  mode: full
                  probeForeignServer: false
                  routerAdvertisements: "off"
                  pools:
                    - {subnet: "%s0/24", range: "%s100-%s150", leaseSeconds: 600}
                disks: {defaultImage: demo, maxAutoClones: 5, autoClonesPerMinute: 30}
                """.formatted(tmp.resolve("data"), link.hostSideName(), prefix, prefix, prefix));
        server = new Appliance(ConfigLoader.load(Optional.of(config), List.of())).start();
        Path disk = Files.createDirectories(tmp.resolve("data/images/demo")).resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        server.inventory().addImage(new Image(0, "demo", disk.getParent().toString(), disk.toString(), "6.1.0-test", 16 << 20, "", "", Instant.now()));
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
        if (lab != null) lab.close();
    }

    String menu(String mac) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + link.hostSideAddress().getHostAddress() + ":" + server.httpPort() + "/boot/ipxe/"
                + mac.replace(':', '-') + ".ipxe")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    @Test
    void menuRequestsForMacsNobodySawBootCreateNothing() throws Exception {
        for (int i = 0; i < 300; i++) {
            String body = menu(String.format("02:00:00:00:%02x:%02x", i >> 8, i & 0xff));
            assertThat(body).contains("has no image assigned yet");
        }
        assertThat(server.inventory().disks()).as("no disk for a mere GET").isEmpty();
        assertThat(tmp.resolve("data/disks")).satisfiesAnyOf(p -> assertThat(p).doesNotExist(), p -> assertThat(p).isEmptyDirectory());
    }

    @Test
    void aPcWhoseNetworkBootWeAnsweredGetsItsCloneAndItsMenuBootsIt() throws Exception {
        // A PXE ROM's DHCP exchange, from busybox udhcpc with the PXE vendor class and architecture 0 (BIOS).
        pc.execOk(WAIT, "udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "1", "-i", link.peerName(), "-s", "/bin/true",
                "-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000");
        String mac = link.peerMac();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (server.inventory().assignment(mac).isEmpty() && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(server.inventory().assignment(mac)).as("the answered boot made its clone").isPresent();
        assertThat(menu(mac)).contains("kernel ../images/demo/vmlinuz", "netboot.mac=" + mac);
        assertThat(server.inventory().disks()).hasSize(1);
    }
}
