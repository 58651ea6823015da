package dev.netboot.boot;

import dev.netboot.dhcp.Machine;
import dev.netboot.dhcp.ClientArch;
import dev.netboot.dhcp.BootPlan;
import dev.netboot.net.Ipv4;
import dev.netboot.inventory.Client;
import dev.netboot.inventory.Inventory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** Floods of DHCP must not grow the inventory without bound (issue: 5,000 boot-event rows a second from one MAC). */
class BootRecorderTest {

    static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

    @TempDir Path dir;
    Inventory inventory;
    final List<String> answered = new CopyOnWriteArrayList<>();

    @BeforeEach
    void open() {
        inventory = Inventory.open(Inventory.defaultUrl(dir.resolve("db").toString()), "sa", "");
    }

    @AfterEach
    void close() {
        inventory.close();
    }

    static Machine pxe(String mac) {
        return new Machine(mac, ClientArch.BIOS, 0, List.of(), null, "PXEClient:Arch:00000", "");
    }

    BootRecorder recorder(int newClientsPerMinute) {
        return new BootRecorder(inventory, () -> {}, answered::add, newClientsPerMinute, Clock.fixed(T0, java.time.ZoneOffset.UTC));
    }

    @Test
    void aMacRepeatingItsBootThousandsOfTimesIsWrittenOnceAMinute() throws Exception {
        try (BootRecorder r = recorder(600)) {
            Machine m = pxe("52:54:00:00:00:01");
            for (int i = 0; i < 5000; i++) {
                Instant at = T0.plusMillis(i * 10L); // 5,000 packets in 50 s
                r.seen(m, at);
                r.booted(m, new BootPlan("undionly.kpxe", ""), Ipv4.ANY, at);
            }
            r.seen(m, T0.plus(Duration.ofSeconds(61)));
            // The next stage of the same boot (iPXE, answered with its script) is a new event at once.
            r.booted(m, new BootPlan("http://server/boot.ipxe", ""), Ipv4.ANY, T0.plus(Duration.ofSeconds(61)));
            r.sync();
        }
        assertThat(inventory.bootEvents("52:54:00:00:00:01")).extracting(e -> e.kind() + " " + e.bootFile())
                .containsExactly("dhcp-discover null", "dhcp-boot undionly.kpxe", "dhcp-discover null", "dhcp-boot http://server/boot.ipxe");
        assertThat(answered.size()).as("every answered boot still reaches the booter (it dedups itself)").isEqualTo(5001);
    }

    @Test
    void aFloodOfMadeUpMacsRegistersAtMostTheConfiguredNumberAMinute() throws Exception {
        try (BootRecorder r = recorder(50)) {
            for (int i = 0; i < 1000; i++) r.seen(pxe(String.format("02:00:00:00:%02x:%02x", i >> 8, i & 0xff)), T0);
            r.sync();
        }
        assertThat(inventory.clientCount()).isEqualTo(50);
    }

    @Test
    void aBootWithoutABootFileIsNotAnsweredToTheBooter() throws Exception {
        try (BootRecorder r = recorder(600)) {
            r.booted(pxe("52:54:00:00:00:02"), BootPlan.NONE, Ipv4.ANY, T0);
            r.booted(pxe("52:54:00:00:00:03"), new BootPlan("undionly.kpxe", ""), Ipv4.ANY, T0);
            r.sync();
        }
        assertThat(answered).containsExactly("52:54:00:00:00:03");
    }

    @Test
    void discoveredClientsThatNeverCameBackAreForgottenAndOldEventsPruned() throws Exception {
        try (BootRecorder r = recorder(600)) {
            r.seen(pxe("52:54:00:00:00:0a"), T0.minus(Duration.ofDays(100)));
            r.seen(pxe("52:54:00:00:00:0b"), T0);
            r.sync();
        }
        inventory.addClient("52:54:00:00:00:0c", "", ""); // an operator's: active, never seen
        assertThat(inventory.forgetDiscovered(T0.minus(Duration.ofDays(90)))).isEqualTo(1);
        assertThat(inventory.clients()).extracting(Client::mac).containsExactly("52:54:00:00:00:0b", "52:54:00:00:00:0c");
        assertThat(inventory.bootEvents("52:54:00:00:00:0a")).isEmpty();
        assertThat(inventory.pruneBootEvents(T0.plusSeconds(1))).isEqualTo(1);
        assertThat(inventory.bootEvents("52:54:00:00:00:0b")).isEmpty();
    }

    @Test
    void clientsComeInPages() throws Exception {
        try (BootRecorder r = recorder(600)) {
            for (int i = 0; i < 250; i++) r.seen(pxe(String.format("02:00:00:00:%02x:%02x", i >> 8, i & 0xff)), T0);
            r.sync();
        }
        assertThat(inventory.clientCount()).isEqualTo(250);
        assertThat(inventory.clients(0, 100)).hasSize(100).first().extracting(Client::mac).isEqualTo("02:00:00:00:00:00");
        assertThat(inventory.clients(200, 100)).hasSize(50).last().extracting(Client::mac).isEqualTo("02:00:00:00:00:f9");
    }
}
