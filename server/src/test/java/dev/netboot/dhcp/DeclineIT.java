package dev.netboot.dhcp;

import dev.netboot.app.Appliance;
import dev.netboot.testlib.Bridge;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A host that squats on the first pool address without a lease: udhcpc's ARP check (-a) finds it,
 * DECLINEs the offer, and the server quarantines that address and hands out another. (Slow by
 * design: udhcpc waits 10 s after a DECLINE before it starts over, as RFC 2131 §3.1 asks.)
 */
class DeclineIT {

    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    void aDeclinedAddressIsQuarantinedAndTheClientGetsAnother() throws Exception {
        try (NetLab lab = NetLab.create()) {
            Bridge bridge = lab.bridge(null);
            Namespace squatter = lab.namespace("squatter");
            VethPair squat = bridge.connect(squatter);
            Namespace client = lab.namespace("client");
            VethPair link = bridge.connect(client);
            client.execOk(WAIT, "ip", "addr", "flush", "dev", link.peerName());
            String prefix = bridge.subnet().dottedPrefix();
            squatter.execOk(WAIT, "ip", "addr", "flush", "dev", squat.peerName());
            squatter.execOk(WAIT, "ip", "addr", "add", prefix + "100/24", "dev", squat.peerName());
            try (Appliance server = DhcpHarness.start(tmp.resolve("data"), bridge.name(), """
                    mode: full
                    probeForeignServer: false
                    pools:
                      - {subnet: %s0/24, range: %s100-%s109}
                    """.formatted(prefix, prefix, prefix))) {
                Path script = DhcpHarness.clientScript(tmp, "arp.sh");
                client.execOk(WAIT, "udhcpc", "-f", "-q", "-n", "-t", "6", "-T", "1", "-a", "-i", link.peerName(), "-s", script.toString());
                Map<String, String> env = DhcpHarness.awaitEnv(tmp.resolve("arp.bound.env"), WAIT);
                assertThat(env.get("ip")).startsWith(prefix).isNotEqualTo(prefix + "100");
                assertThat(server.dhcpEngine().leases()).filteredOn(l -> l.address().toString().equals(prefix + "100"))
                        .singleElement().extracting(Lease::state).isEqualTo(Lease.State.DECLINED);
                assertThat(server.registry().counter("netboot.dhcp.unanswered", "reason", "declined").count()).isEqualTo(1.0);
            }
        }
    }
}
