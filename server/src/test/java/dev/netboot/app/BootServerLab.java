package dev.netboot.app;

import dev.netboot.config.ConfigLoader;
import dev.netboot.testlib.CommandResult;
import dev.netboot.testlib.Namespace;
import dev.netboot.testlib.NetLab;
import dev.netboot.testlib.VethPair;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * A test network with the appliance on one side: the server runs in this JVM on the host end of a
 * veth pair, a client namespace sits on the other end, and real third-party clients run in it.
 * The server is configured through the same {@code --set} overrides a person would use.
 */
public final class BootServerLab implements AutoCloseable {

    public final NetLab lab;
    public final Namespace client;
    public final VethPair link;
    public final Path root;
    public final Path work;
    public final Appliance appliance;

    public BootServerLab(Path dir, List<String> extraSettings) throws Exception {
        lab = NetLab.create();
        try {
            client = lab.namespace("client");
            link = lab.veth(null, client);
            root = Files.createDirectories(dir.resolve("data/boot"));
            work = Files.createDirectories(dir.resolve("work"));
            String address = link.hostSideAddress().getHostAddress();
            var settings = new java.util.ArrayList<>(List.of(
                    "dataDir=" + dir.resolve("data"),
                    "tftp.address=" + address, "tftp.port=" + NetLab.freeUdpPort(),
                    "http.address=" + address, "http.port=" + NetLab.freeTcpPort(),
                    // File-serving tests: no proxyDHCP on udp 67 of every interface of the host (the
                    // DHCP tests start their own server on their own link).
                    "dhcp.mode=off"));
            settings.addAll(extraSettings);
            appliance = new Appliance(ConfigLoader.load(Optional.empty(), settings)).start();
        } catch (Exception e) {
            lab.close();
            throw e;
        }
    }

    public InetAddress serverAddress() { return link.hostSideAddress(); }
    public String server() { return serverAddress().getHostAddress(); }
    public int tftpPort() { return appliance.tftpAddress().getPort(); }
    public int httpPort() { return appliance.httpPort(); }
    public String tftpUrl(String path) { return "tftp://" + server() + ":" + tftpPort() + "/" + path; }
    public String httpUrl(String path) { return "http://" + server() + ":" + httpPort() + "/boot/" + path; }

    /** Writes a file of pseudo-random bytes under the served root. */
    public Path bootFile(String name, int size) throws IOException {
        byte[] bytes = new byte[size];
        new Random(name.hashCode()).nextBytes(bytes);
        Path file = root.resolve(name);
        Files.createDirectories(file.getParent());
        return Files.write(file, bytes);
    }

    public CommandResult run(Duration timeout, String... command) {
        return client.exec(timeout, command);
    }

    /** The value of a counter (summed over tags matching {@code tagFilter}) from the live registry. */
    public double counter(String name, String... tags) {
        var search = appliance.registry().find(name);
        if (tags.length > 0) search = search.tags(tags);
        return search.counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    @Override
    public void close() {
        try {
            appliance.close();
        } finally {
            lab.close();
        }
    }
}
