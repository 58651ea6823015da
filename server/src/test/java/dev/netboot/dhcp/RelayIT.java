package dev.netboot.dhcp;

import dev.netboot.app.Appliance;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client behind ISC dhcrelay: the relay puts its client-side address in giaddr, and we must pick
 * the pool of that subnet and answer the relay (port 67), not the client.
 * <pre>
 *   host (our server) ──veth── relay ns (dhcrelay) ──veth── client ns (udhcpc)
 * </pre>
 */
class RelayIT {

    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    @Test
    void relayedClientGetsAnAddressFromThePoolOfItsSubnet() throws Exception {
        try (NetLab lab = NetLab.create()) {
            Namespace relay = lab.namespace("relay");
            Namespace client = lab.namespace("client");
            VethPair upstream = lab.veth(null, relay);
            VethPair downstream = lab.veth(relay, client);
            client.execOk(WAIT, "ip", "addr", "flush", "dev", downstream.peerName());
            String farPrefix = downstream.subnet().dottedPrefix();
            String nearPrefix = upstream.subnet().dottedPrefix();
            // Replies go to giaddr, which is the relay's address on the client subnet: route it via the relay.
            // The route goes away with the veth when the lab closes.
            Process route = new ProcessBuilder("ip", "route", "add", downstream.subnet().network().getHostAddress() + "/24", "via", upstream.peerAddress().getHostAddress())
                    .inheritIO().start();
            assertThat(route.waitFor()).as("ip route add").isZero();

            Appliance server = DhcpHarness.start(tmp.resolve("data"), upstream.hostSideName(), """
                    mode: full
                    probeForeignServer: false
                    pools:
                      - {subnet: %s0/24, range: %s100-%s109}
                      - {subnet: %s0/24, range: %s50-%s59, router: %s1, leaseSeconds: 700}
                    """.formatted(nearPrefix, nearPrefix, nearPrefix, farPrefix, farPrefix, farPrefix, farPrefix));
            try {
                relay.start("dhcrelay", "-4", "-d", "--no-pid", "-id", downstream.hostSideName(), "-iu", upstream.peerName(),
                        upstream.hostSideAddress().getHostAddress());
                Thread.sleep(500); // dhcrelay opens its sockets
                Path script = DhcpHarness.clientScript(tmp, "relayed.sh");
                List<String> cmd = new ArrayList<>(List.of("udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "1", "-i", downstream.peerName(),
                        "-s", script.toString()));
                client.execOk(WAIT, cmd.toArray(String[]::new));
                Map<String, String> env = DhcpHarness.awaitEnv(tmp.resolve("relayed.bound.env"), WAIT);
                assertThat(env.get("ip")).startsWith(farPrefix).matches(".*\\.5[0-9]");
                assertThat(env).containsEntry("router", farPrefix + "1").containsEntry("lease", "700")
                        .containsEntry("serverid", upstream.hostSideAddress().getHostAddress());
            } finally {
                server.close();
            }
        }
    }
}
