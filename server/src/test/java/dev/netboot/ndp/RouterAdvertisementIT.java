package dev.netboot.ndp;

import dev.netboot.net.MacAddress;
import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;
import dev.netboot.testlib.CommandResult;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.VethPair;
import io.micrometer.core.instrument.Counter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real IPv6 stack asks: rdisc6 (Debian's ndisc6) solicits routers from a namespace on the far end of a
 * veth pair whose near end our DHCP server serves. In full mode it must print our advertisement:
 * lifetime 0, our MAC as source link-layer address, from our EUI-64 link-local address; and the
 * namespace's kernel, which takes advertisements, must not gain a default route from it. In proxy
 * mode (auto) nothing answers.
 */
class RouterAdvertisementIT {

    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir Path tmp;

    @Test
    void fullModeAnswersRdisc6WithNoRouterHere() throws Exception {
        try (NetLab lab = NetLab.create()) {
            Namespace client = lab.namespace("rdisc");
            VethPair link = lab.veth(null, client);
            try (Appliance appliance = start(link, "full")) {
                MacAddress ours = MacAddress.parse(link.hostSideMac());
                String out = solicit(client, link, 5).stdout();
                assertThat(out).as(out)
                        .containsPattern("Router lifetime\\s*:\\s*0 \\(0x00000000\\) seconds")
                        .containsPattern("Stateful address conf\\.\\s*:\\s*No")
                        .containsPattern("Stateful other conf\\.\\s*:\\s*No")
                        .containsPattern("(?i)Source link-layer address\\s*:\\s*" + ours)
                        .contains("from " + Ipv6Address.linkLocal(ours))
                        .doesNotContain("Prefix");
                assertThat(client.execOk(WAIT, "ip", "-6", "route", "show", "default").stdout()).as("a lifetime-0 router is nobody's default")
                        .isBlank();
                assertThat(counter(appliance, "netboot.ndp.advertisements.sent")).isGreaterThanOrEqualTo(1);

                // Garbage is counted and dropped, and the next solicitation is answered all the same.
                double frames = counter(appliance, "netboot.ndp.frames.received");
                sendRaw(client, link, badHopLimitSolicitation(MacAddress.parse(link.peerMac())));
                await(() -> counter(appliance, "netboot.ndp.solicitations", "outcome", "malformed") == 1);
                // Other IPv6 traffic never gets past the socket's filter: a burst of pings to our link-local address.
                client.exec(WAIT, "ping", "-6", "-c", "20", "-i", "0.01", "-W", "1", Ipv6Address.linkLocal(ours) + "%" + link.peerName());
                assertThat(counter(appliance, "netboot.ndp.frames.received")).as("only the bad solicitation went through the filter")
                        .isEqualTo(frames + 1);

                // The interface goes down and up again (a cable pulled): answers resume.
                Thread.sleep(1100); // past the per-solicitor limit
                new ProcessBuilder("ip", "link", "set", "dev", link.hostSideName(), "down").start().waitFor();
                Thread.sleep(1500);
                new ProcessBuilder("ip", "link", "set", "dev", link.hostSideName(), "up").start().waitFor();
                String again = solicit(client, link, 8).stdout();
                assertThat(again).as(again).containsPattern("Router lifetime\\s*:\\s*0 ");
            }
        }
    }

    @Test
    void proxyModeLeavesRoutersToTheRealRouter() throws Exception {
        try (NetLab lab = NetLab.create()) {
            Namespace client = lab.namespace("rdisc");
            VethPair link = lab.veth(null, client);
            try (Appliance appliance = start(link, "proxy")) {
                awaitLinkLocal(client, link);
                CommandResult r = client.exec(WAIT, "rdisc6", "-1", "-r", "3", "-w", "1000", link.peerName());
                assertThat(r.stdout() + r.stderr()).as(r.stdout()).contains("No response").doesNotContain("Router lifetime");
                assertThat(appliance.registry().find("netboot.ndp.advertisements.sent").counters()).isEmpty();
            }
        }
    }

    private Appliance start(VethPair link, String mode) throws Exception {
        String prefix = link.subnet().dottedPrefix();
        Path config = Files.writeString(Files.createDirectories(tmp.resolve("data")).resolve("netboot.yaml"), """
                dataDir: %s
                networkInterface: %s
                tftp: {enabled: false}
                http: {enabled: false}
                dhcp:
                  mode: %s
                  probeForeignServer: false
                  pools:
                    - {subnet: %s0/24, range: %s100-%s109}
                """.formatted(tmp.resolve("data"), link.hostSideName(), mode, prefix, prefix, prefix));
        return new Appliance(ConfigLoader.load(Optional.of(config), List.of())).start();
    }

    /** rdisc6 until it prints an answer: the first solicitation may fall in the 1 s after the kernel's own one was answered. */
    static CommandResult solicit(Namespace client, VethPair link, int tries) throws Exception {
        awaitLinkLocal(client, link);
        return client.execOk(WAIT, "rdisc6", "-1", "-r", Integer.toString(tries), "-w", "1100", link.peerName());
    }

    /** Solicitations from a tentative address go out from ::, which gets a multicast answer; wait for DAD to finish. */
    static void awaitLinkLocal(Namespace client, VethPair link) throws Exception {
        await(() -> {
            String out = client.exec(WAIT, "ip", "-6", "addr", "show", "dev", link.peerName(), "scope", "link").stdout();
            return out.contains("fe80::") && !out.contains("tentative");
        });
    }

    /** A solicitation that arrived through a router (hop limit 64): RFC 4861 says drop it. */
    static byte[] badHopLimitSolicitation(MacAddress from) {
        var rs = new NdpMessage.RouterSolicitation(from, Ipv6Address.ALL_ROUTERS.multicastMac(), Ipv6Address.linkLocal(from),
                Ipv6Address.ALL_ROUTERS, Optional.of(from));
        byte[] frame = NdpCodec.encode(rs);
        frame[21] = 64; // the hop limit is not covered by the checksum
        return frame;
    }

    /** Sends one raw Ethernet frame from the namespace (python3's AF_PACKET socket: no extra tool needed). */
    static void sendRaw(Namespace client, VethPair link, byte[] frame) {
        client.execOk(WAIT, "python3", "-c", "import socket,sys; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((sys.argv[1], 0)); "
                + "s.send(bytes.fromhex(sys.argv[2]))", link.peerName(), HexFormat.of().formatHex(frame));
    }

    static double counter(Appliance appliance, String name, String... tags) {
        var search = appliance.registry().find(name);
        if (tags.length > 0) search = search.tags(tags);
        return search.counters().stream().mapToDouble(Counter::count).sum();
    }

    interface Check { boolean ok() throws Exception; }

    static void await(Check check) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within " + WAIT);
            Thread.sleep(100);
        }
    }
}
