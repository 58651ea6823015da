package dev.netboot.replication;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The service address that moves with the primary role: a macvlan on the client interface with a fixed
 * MAC (and the service IP on it). Thin adapter over iproute2's {@code ip} (netlink by way of the tool
 * every Linux admin has; nothing here parses its output). The interface exists on both nodes, made at
 * start and kept DOWN on the standby, so the AoE target can bind it once and the takeover is one
 * {@code ip link set up}: the kernel then sends the gratuitous ARP ({@code arp_notify}) and the
 * unsolicited neighbour advertisement ({@code ndisc_notify}) for the service IP by itself.
 */
public final class ServiceAddress {

    private static final Logger log = LoggerFactory.getLogger(ServiceAddress.class);

    private final String lower;
    private final String name;
    private final String mac;
    private final String ip;

    /** @param ip ADDRESS/PREFIX or empty */
    public ServiceAddress(String lowerInterface, String name, String mac, String ip) {
        this.lower = lowerInterface;
        this.name = name;
        this.mac = mac;
        this.ip = ip;
    }

    public String interfaceName() { return name; }

    /**
     * Makes the interface (or takes over one a killed process left behind) and sets it DOWN: a node
     * starts silent. A leftover that was up answered ARP for the service IP in the kernel although no
     * process served behind it.
     */
    public void prepare() throws IOException {
        if (Files.exists(Path.of("/sys/class/net", name))) {
            ip("link", "set", "dev", name, "down");
            ip("link", "set", "dev", name, "address", mac);
        } else {
            ip("link", "add", "link", lower, "name", name, "address", mac, "type", "macvlan", "mode", "bridge");
        }
        // No link-local address of its own: a standby must not send anything with the service MAC, and the
        // primary needs none to serve AoE.
        ip("link", "set", "dev", name, "addrgenmode", "none");
        sysctl("net/ipv4/conf/" + name + "/arp_notify", "1");
        sysctl("net/ipv6/conf/" + name + "/ndisc_notify", "1");
        // The IP is held only while up: Linux keeps a local route for an address on a DOWN interface, and
        // (arp_ignore 0, the default) answers ARP for it on every other interface, so a standby holding the
        // address would draw the clients' packets for the service IP to its own NIC.
        removeIp();
        log.info("failover: service interface {} (MAC {}{}) on {} is ready and down", name, mac, ip.isBlank() ? "" : ", " + ip, lower);
    }

    /** Takes the service address: from now on the clients' frames and packets for it reach this node. */
    public void up() throws IOException {
        if (!ip.isBlank()) {
            if (ip.contains(":")) ip("-6", "addr", "replace", ip, "dev", name, "nodad");
            else ip("addr", "replace", ip, "dev", name);
        }
        ip("link", "set", "dev", name, "up");
    }

    /** Gives the address up: from the next frame on this node answers nothing for it. */
    public void down() throws IOException {
        ip("link", "set", "dev", name, "down");
        removeIp();
    }

    private void removeIp() throws IOException {
        if (ip.isBlank()) return;
        ip(ip.contains(":") ? "-6" : "-4", "addr", "flush", "dev", name);
    }

    private static void sysctl(String key, String value) {
        try {
            Files.writeString(Path.of("/proc/sys", key), value, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            log.warn("failover: cannot set {} = {}: {}", key.replace('/', '.'), value, e.getMessage());
        }
    }

    private static void ip(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish in 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", cmd));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
}
