package dev.netboot.dhcp;

import dev.netboot.app.Appliance;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** ISC dhclient, in a namespace, against our DHCP server in full mode. */
class DhclientIT {

    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;
    NetLab lab;
    Namespace client;
    VethPair link;
    String prefix;
    Appliance server;

    @BeforeEach
    void lab() throws Exception {
        lab = NetLab.create();
        client = lab.namespace("dhclient");
        link = lab.veth(null, client);
        client.execOk(WAIT, "ip", "addr", "flush", "dev", link.peerName());
        prefix = link.subnet().dottedPrefix();
        server = start();
    }

    Appliance start() throws Exception {
        return DhcpHarness.start(tmp.resolve("data"), link.hostSideName(), """
                mode: full
                probeForeignServer: false
                pools:
                  - {subnet: %s0/24, range: %s100-%s109, router: %s1, dns: [%s53], domain: lab.test, leaseSeconds: 900}
                """.formatted(prefix, prefix, prefix, prefix, prefix));
    }

    @AfterEach
    void cleanup() {
        if (server != null) server.close();
        if (lab != null) lab.close();
    }

    Process dhclient(String name, String... extraConf) throws Exception {
        Path conf = tmp.resolve("dhclient.conf");
        Files.writeString(conf, """
                option pxe-arch code 93 = unsigned integer 16;
                send pxe-arch 7;
                send vendor-class-identifier "PXEClient:Arch:00007:UNDI:003016";
                request subnet-mask, routers, domain-name-servers, domain-name, tftp-server-name, bootfile-name;
                """ + String.join("\n", extraConf) + "\n");
        Path script = DhcpHarness.clientScript(tmp, name + ".sh");
        return client.start("dhclient", "-4", "-d", "-1", "-cf", conf.toString(), "-lf", tmp.resolve("dhclient.leases").toString(),
                "-pf", tmp.resolve("dhclient.pid").toString(), "-sf", script.toString(), link.peerName());
    }

    @Test
    void getsALeaseWithOptionsAndKeepsItAcrossAServerRestart() throws Exception {
        Process first = dhclient("first");
        Map<String, String> env = DhcpHarness.awaitEnv(tmp.resolve("first.BOUND.env"), WAIT);
        String ip = env.get("new_ip_address");
        assertThat(ip).startsWith(prefix);
        assertThat(env).containsEntry("new_subnet_mask", "255.255.255.0").containsEntry("new_routers", prefix + "1")
                .containsEntry("new_domain_name_servers", prefix + "53").containsEntry("new_domain_name", "lab.test")
                .containsEntry("new_dhcp_lease_time", "900").containsEntry("new_dhcp_server_identifier", link.hostSideAddress().getHostAddress())
                .containsEntry("new_filename", "ipxe.efi").containsEntry("new_bootfile_name", "ipxe.efi")
                .containsEntry("new_tftp_server_name", link.hostSideAddress().getHostAddress());
        // dhclient writes its lease file after the script ran: stopping it before then left the second
        // run nothing to INIT-REBOOT with (it sent a DISCOVER, and the test failed now and then).
        awaitLeaseFile(ip);
        first.destroy();
        first.waitFor();

        server.close();
        server = start();
        // dhclient starts again with its lease file: INIT-REBOOT, a REQUEST for the address it had.
        dhclient("second");
        Map<String, String> again = DhcpHarness.awaitEnv(tmp.resolve("second.REBOOT.env"), WAIT);
        assertThat(again.get("new_ip_address")).isEqualTo(ip);
    }

    private void awaitLeaseFile(String ip) throws Exception {
        Path leases = tmp.resolve("dhclient.leases");
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!Files.exists(leases) || !Files.readString(leases).contains("fixed-address " + ip + ";")) {
            if (System.nanoTime() > deadline) throw new AssertionError("dhclient never wrote its lease for " + ip);
            Thread.sleep(50);
        }
    }

    @Test
    void aRebootingClientWeHaveNoRecordOfHearsNothingAndGetsItsAddressByDiscover() throws Exception {
        // A lease this server never gave (or forgot): dhclient starts in INIT-REBOOT and asks to keep it.
        // RFC 2131 §4.3.2: a server without a record stays silent, or one forged packet per MAC takes an address.
        String claimed = prefix + "105";
        Files.writeString(tmp.resolve("dhclient.leases"), """
                lease {
                  interface "%s";
                  fixed-address %s;
                  option subnet-mask 255.255.255.0;
                  option dhcp-lease-time 900;
                  option dhcp-server-identifier %s;
                  renew 4 2037/12/31 00:00:00;
                  rebind 4 2037/12/31 00:00:00;
                  expire 4 2037/12/31 00:00:00;
                }
                """.formatted(link.peerName(), claimed, link.hostSideAddress().getHostAddress()));
        dhclient("stranger", "reboot 3;");
        // After its reboot timeout the client starts over with a DISCOVER naming the address, and gets it.
        Map<String, String> env = DhcpHarness.awaitEnv(tmp.resolve("stranger.BOUND.env"), WAIT);
        assertThat(tmp.resolve("stranger.REBOOT.env")).as("the INIT-REBOOT was answered").doesNotExist();
        assertThat(env.get("new_ip_address")).isEqualTo(claimed);
        assertThat(server.registry().counter("netboot.dhcp.unanswered", "reason", "init-reboot-unknown-client").count()).isPositive();
    }
}
