package dev.netboot.dhcp;

import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Starts the real appliance (DHCP only: TFTP and HTTP off) in this JVM, on the host side of a lab's
 * link, from a YAML snippet for the {@code dhcp} section, as an operator would configure it.
 */
final class DhcpHarness {

    private DhcpHarness() {}

    static Appliance start(Path dataDir, String networkInterface, String dhcpYaml) throws Exception {
        Path config = dataDir.resolve("netboot.yaml");
        Files.createDirectories(dataDir);
        Files.writeString(config, """
                dataDir: %s
                networkInterface: %s
                tftp: {enabled: false}
                http: {enabled: false}
                boot:
                  bios: undionly.kpxe
                  uefiX64: ipxe.efi
                  ipxeScriptUrl: "http://${server}:8080/boot/${mac}.ipxe"
                dhcp:
                %s
                """.formatted(dataDir, networkInterface, dhcpYaml.indent(2)));
        return new Appliance(ConfigLoader.load(Optional.of(config), List.of())).start();
    }

    /** A shell script for DHCP clients: records each event's environment and configures the address, as a real one would. */
    static Path clientScript(Path dir, String name) throws IOException {
        Path script = dir.resolve(name);
        Files.writeString(script, """
                #!/bin/sh
                # udhcpc: $1 = bound|renew|deconfig; dhclient: $reason = BOUND|RENEW|REBOOT|PREINIT...
                event="${1:-$reason}"
                out="$(dirname "$0")/$(basename "$0" .sh).$event.env"
                env | sort > "$out.tmp" && mv "$out.tmp" "$out"
                case "$event" in
                  bound|renew) ip addr replace "$ip/$mask" dev "$interface" ;;
                  BOUND|RENEW|REBOOT|REBIND) ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
                  PREINIT) ip link set dev "$interface" up ;;
                esac
                exit 0
                """);
        script.toFile().setExecutable(true);
        return script;
    }

    /** Reads KEY=VALUE lines a client script wrote, waiting for the file to appear. */
    static java.util.Map<String, String> awaitEnv(Path file, java.time.Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) throw new AssertionError("the DHCP client never reported " + file.getFileName());
            Thread.sleep(50);
        }
        java.util.Map<String, String> env = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(file)) {
            int eq = line.indexOf('=');
            if (eq > 0) env.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return env;
    }
}
