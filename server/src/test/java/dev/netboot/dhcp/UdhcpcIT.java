package dev.netboot.dhcp;

import dev.netboot.app.Appliance;
import dev.netboot.inventory.Client;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.VethPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** busybox udhcpc, in a namespace, against our DHCP server in full mode on the other end of a veth pair. */
class UdhcpcIT {

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
        client = lab.namespace("udhcpc");
        link = lab.veth(null, client);
        client.execOk(WAIT, "ip", "addr", "flush", "dev", link.peerName());
        prefix = link.subnet().dottedPrefix();
        server = DhcpHarness.start(tmp.resolve("data"), link.hostSideName(), """
                mode: full
                probeForeignServer: false
                pools:
                  - subnet: %s0/24
                    range: %s100-%s109
                    router: %s1
                    dns: [%s53]
                    domain: lab.test
                    leaseSeconds: 600
                reservations:
                  - {mac: "02:00:00:00:00:77", address: "%s77", hostname: reserved-node}
                """.formatted(prefix, prefix, prefix, prefix, prefix, prefix));
    }

    @AfterEach
    void cleanup() {
        if (server != null) server.close();
        if (lab != null) lab.close();
    }

    Map<String, String> udhcpc(String name, String... extra) throws Exception {
        Path script = DhcpHarness.clientScript(tmp, name + ".sh");
        List<String> cmd = new ArrayList<>(List.of("udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "1", "-i", link.peerName(), "-s", script.toString()));
        cmd.addAll(List.of(extra));
        client.execOk(WAIT, cmd.toArray(String[]::new));
        return DhcpHarness.awaitEnv(tmp.resolve(name + ".bound.env"), WAIT);
    }

    @Test
    void getsALeaseWithTheSubnetOptions() throws Exception {
        Map<String, String> env = udhcpc("plain");
        assertThat(env.get("ip")).startsWith(prefix).matches(".*\\.10[0-9]");
        assertThat(env).containsEntry("subnet", "255.255.255.0").containsEntry("router", prefix + "1")
                .containsEntry("dns", prefix + "53").containsEntry("domain", "lab.test").containsEntry("lease", "600")
                .containsEntry("serverid", link.hostSideAddress().getHostAddress());
        assertThat(env).doesNotContainKey("boot_file");
        server.inventory(); // leases are written behind; the engine is the truth right away
        assertThat(server.dhcpEngine().leases()).anySatisfy(l -> {
            assertThat(l.address().toString()).isEqualTo(env.get("ip"));
            assertThat(l.state()).isEqualTo(Lease.State.BOUND);
        });
    }

    @Test
    void biosAndUefiClientsGetDifferentBootFilesAndIpxeGetsTheScriptUrl() throws Exception {
        String server = link.hostSideAddress().getHostAddress();
        Map<String, String> bios = udhcpc("bios", "-x", "0x5d:0000", "-V", "PXEClient:Arch:00000:UNDI:002001", "-O", "tftp", "-O", "bootfile");
        assertThat(bios).containsEntry("boot_file", "undionly.kpxe").containsEntry("siaddr", server)
                .containsEntry("tftp", server).containsEntry("bootfile", "undionly.kpxe");
        Map<String, String> uefi = udhcpc("uefi", "-x", "0x5d:0007", "-O", "bootfile");
        assertThat(uefi).containsEntry("boot_file", "ipxe.efi").containsEntry("bootfile", "ipxe.efi");
        // iPXE's raw user class, as iPXE itself sends it (not RFC 3004 length-prefixed).
        Map<String, String> ipxe = udhcpc("ipxe", "-x", "0x5d:0000", "-x", "0x4d:69505845", "-O", "bootfile");
        String mac = link.peerMac();
        assertThat(ipxe).containsEntry("bootfile", "http://" + server + ":8080/boot/" + mac + ".ipxe");
        Thread.sleep(500); // the inventory registers clients off the event loop
        assertThat(this.server.inventory().client(mac)).get().extracting(Client::state).isEqualTo(Client.DISCOVERED);
        assertThat(this.server.inventory().bootEvents(mac)).extracting(e -> e.bootFile()).contains("undionly.kpxe", "ipxe.efi");
    }

    @Test
    void reservationGivesTheFixedAddressAndHostname() throws Exception {
        client.execOk(WAIT, "ip", "link", "set", "dev", link.peerName(), "address", "02:00:00:00:00:77");
        Map<String, String> env = udhcpc("reserved", "-O", "hostname");
        assertThat(env).containsEntry("ip", prefix + "77").containsEntry("hostname", "reserved-node");
    }

    @Test
    void renewAfterARestartKeepsTheAddress() throws Exception {
        // A running udhcpc (no -q): bound, then renewing by unicast from its address when told (SIGUSR1).
        Path script = DhcpHarness.clientScript(tmp, "long.sh");
        Process udhcpc = client.start("udhcpc", "-f", "-t", "5", "-T", "1", "-i", link.peerName(), "-s", script.toString());
        String ip = DhcpHarness.awaitEnv(tmp.resolve("long.bound.env"), WAIT).get("ip");
        server.close();
        server = restart();
        // Another client comes first after the restart: the remembered lease must not be given to it.
        client.execOk(WAIT, "ip", "link", "set", "dev", link.peerName(), "address", "02:00:00:00:00:42");
        Map<String, String> other = udhcpc("other", "-C");
        assertThat(other.get("ip")).isNotEqualTo(ip);
        client.execOk(WAIT, "ip", "link", "set", "dev", link.peerName(), "address", link.peerMac());
        client.execOk(WAIT, "ip", "addr", "replace", ip + "/24", "dev", link.peerName());
        Runtime.getRuntime().exec(new String[] {"kill", "-USR1", Long.toString(udhcpc.pid())}).waitFor();
        Map<String, String> renewed = DhcpHarness.awaitEnv(tmp.resolve("long.renew.env"), WAIT);
        assertThat(renewed.get("ip")).isEqualTo(ip);
        assertThat(server.dhcpEngine().leases()).filteredOn(l -> l.address().toString().equals(ip))
                .singleElement().extracting(Lease::state).isEqualTo(Lease.State.BOUND);
    }

    @Test
    void broadcastFlagIsHonoured() throws Exception {
        assertThat(udhcpc("bcast", "-B").get("ip")).startsWith(prefix);
    }

    Appliance restart() throws Exception {
        return DhcpHarness.start(tmp.resolve("data"), link.hostSideName(), """
                mode: full
                probeForeignServer: false
                pools:
                  - {subnet: %s0/24, range: %s100-%s109, leaseSeconds: 600}
                """.formatted(prefix, prefix, prefix));
    }
}
