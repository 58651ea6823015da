package dev.netboot.cli;

import dev.netboot.net.Ipv4;
import dev.netboot.inventory.LeaseRecord;
import dev.netboot.inventory.Inventory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code netboot client ...} and {@code netboot lease list} on an embedded inventory under a temp dataDir. */
class ClientCommandTest {

    @TempDir
    Path dataDir;

    CliRun netboot(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--set", "dataDir=" + dataDir));
        return CliRun.netboot(all);
    }

    @Test
    void addSetListRemove() {
        assertThat(netboot("client", "add", "52-54-00-AA-00-01", "--hostname", "node1").exit()).isZero();
        CliRun again = netboot("client", "add", "52:54:00:aa:00:01");
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("exists already");
        assertThat(netboot("client", "set", "52:54:00:aa:00:01", "boot-file=special.efi", "state=disabled").exit()).isZero();
        CliRun list = netboot("client", "list");
        assertThat(list.exit()).isZero();
        assertThat(list.out()).contains("52:54:00:aa:00:01").contains("disabled").contains("node1").contains("special.efi");
        CliRun bad = netboot("client", "set", "52:54:00:aa:00:01", "colour=blue");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("unknown client field");
        assertThat(netboot("client", "add", "not-a-mac").err()).contains("not a MAC address");
        assertThat(netboot("client", "remove", "52:54:00:aa:00:01").exit()).isZero();
        assertThat(netboot("client", "remove", "52:54:00:aa:00:01").exit()).isEqualTo(1);
    }

    @Test
    void leaseListShowsWhatDhcpStored() {
        try (Inventory inv = Inventory.open(Inventory.defaultUrl(dataDir.toString()), "sa", "")) {
            inv.saveLeases(List.of(new LeaseRecord(Ipv4.parse("10.1.2.3"), "hw:525400000001", "52:54:00:00:00:01", "n1", "BOUND",
                    Instant.parse("2030-01-01T00:00:00Z"))), Instant.now());
        }
        CliRun list = netboot("lease", "list");
        assertThat(list.exit()).isZero();
        assertThat(list.out()).contains("10.1.2.3").contains("52:54:00:00:00:01").contains("bound").contains("2030-01-01T00:00:00Z");
    }
}
