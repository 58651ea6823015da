package dev.netboot.boot;

import dev.netboot.aoe.TargetAddress;
import dev.netboot.dhcp.BootPlan;
import dev.netboot.files.BytesFile;
import dev.netboot.files.FileProvider;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.inventory.BootEvent;
import dev.netboot.inventory.Inventory;
import dev.netboot.net.Ipv4;
import dev.netboot.net.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The boot files and AoE discovery of a boot land in its client's timeline, found by address. */
class BootStepsTest {

    static final String MAC = "52:54:00:00:00:01";
    static final String OTHER = "52:54:00:00:00:02";

    @TempDir Path dir;
    Inventory inventory;
    final FileProvider files = request -> request.path().equals("missing") ? new Lookup.NotFound("no such file")
            : new Lookup.Found(new BytesFile(new byte[1234]), request.path());

    @BeforeEach
    void open() {
        inventory = Inventory.open(Inventory.defaultUrl(dir.resolve("db").toString()), "sa", "");
        inventory.clientSeen(MAC, "bios", null, null, Instant.now());
        inventory.clientSeen(OTHER, "bios", null, null, Instant.now());
    }

    @AfterEach
    void close() {
        inventory.close();
    }

    static FileRequest from(String ip, String path, String protocol) throws Exception {
        return new FileRequest(path, new InetSocketAddress(InetAddress.getByName(ip), 2000), protocol);
    }

    @Test
    void filesAreTheStepsOfTheClientDhcpGaveTheAddressOrTheNeighbourTableNames() throws Exception {
        // 10.0.0.8 is known only to the neighbour table (proxy mode: another server gave it)
        try (BootSteps steps = new BootSteps(inventory, a -> a.getHostAddress().equals("10.0.0.8") ? Optional.of(OTHER) : Optional.empty(),
                Clock.systemUTC())) {
            steps.booted(BootRecorderTest.pxe(MAC), new BootPlan("undionly.kpxe", ""), Ipv4.parse("10.0.0.7"), Instant.now());
            FileProvider observed = steps.observing(files);
            assertThat(observed.open(from("10.0.0.7", "undionly.kpxe", "tftp"))).isInstanceOf(Lookup.Found.class);
            observed.open(from("10.0.0.7", "undionly.kpxe", "tftp")); // the real read after the size query: the same step
            observed.open(from("10.0.0.7", "images/demo/vmlinuz", "http"));
            observed.open(from("10.0.0.7", "missing", "http"));        // not found: not a step
            observed.open(from("10.0.0.8", "boot.ipxe", "http"));
            observed.open(from("10.0.0.9", "boot.ipxe", "http"));      // nobody we know
            steps.discoveries().discovered(MacAddress.parse(MAC), new TargetAddress(1, 0));
            steps.sync();
        }
        assertThat(inventory.bootEvents(MAC)).extracting(e -> e.kind() + " " + e.bootFile() + " " + e.detail())
                .containsExactly("tftp undionly.kpxe 1234 bytes", "http images/demo/vmlinuz 1234 bytes", "aoe-discover e1.0 null");
        assertThat(inventory.bootEvents(OTHER)).extracting(BootEvent::bootFile).containsExactly("boot.ipxe");
    }
}
