package dev.netboot.inventory;

import dev.netboot.net.Ipv4;
import dev.netboot.boot.LeaseWriter;
import dev.netboot.dhcp.Lease;

import static dev.netboot.boot.LeaseWriter.record;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What every database behind the inventory must do; run on H2 and on a real PostgreSQL. */
abstract class InventoryContract {

    static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

    /** A fresh, empty database each call. */
    abstract String freshUrl();

    String user() { return ""; }

    Inventory open(String url) { return Inventory.open(url, user(), ""); }

    @Test
    void clientsAreAddedSetListedAndRemoved() {
        try (Inventory inv = open(freshUrl())) {
            assertThat(inv.addClient("52-54-00-AA-BB-01", "node1", "")).isTrue();
            assertThat(inv.addClient("52:54:00:aa:bb:01", "again", "")).isFalse();
            assertThat(inv.setClient("52:54:00:aa:bb:01", "boot-file", "special.efi")).isTrue();
            assertThat(inv.setClient("52:54:00:aa:bb:99", "hostname", "x")).isFalse();
            assertThatThrownBy(() -> inv.setClient("52:54:00:aa:bb:01", "state", "bogus")).isInstanceOf(IllegalArgumentException.class);
            Client c = inv.client("52:54:00:aa:bb:01").orElseThrow();
            assertThat(c.hostname()).isEqualTo("node1");
            assertThat(c.bootFile()).isEqualTo("special.efi");
            assertThat(c.state()).isEqualTo(Client.ACTIVE);
            assertThat(inv.bootFileOverrides()).containsEntry("52:54:00:aa:bb:01", "special.efi");
            assertThat(inv.disabledClients()).isEmpty();
            inv.setClient("52:54:00:aa:bb:01", "state", Client.DISABLED);
            assertThat(inv.disabledClients()).containsExactly("52:54:00:aa:bb:01");
            assertThat(inv.removeClient("52:54:00:aa:bb:01")).isTrue();
            assertThat(inv.clients()).isEmpty();
        }
    }

    @Test
    void unknownClientsAreRegisteredOnFirstSight() {
        try (Inventory inv = open(freshUrl())) {
            assertThat(inv.clientSeen("52:54:00:12:34:56", "bios", "00000000-0000-0000-0000-000000000000", "", T0)).isTrue();
            assertThat(inv.clientSeen("52:54:00:12:34:56", "uefi_x64", "", "", T0.plusSeconds(60))).isFalse();
            Client c = inv.clients().getFirst();
            assertThat(c.state()).isEqualTo(Client.DISCOVERED);
            assertThat(c.architecture()).isEqualTo("uefi_x64");
            assertThat(c.uuid()).isEqualTo("00000000-0000-0000-0000-000000000000");
            assertThat(c.firstSeen()).isEqualTo(T0);
            assertThat(c.lastSeen()).isEqualTo(T0.plusSeconds(60));
        }
    }

    @Test
    void leasesPersistAcrossReopening() {
        String url = freshUrl();
        Lease a = new Lease(Ipv4.parse("10.0.0.100"), "hw:525400000001", "52:54:00:00:00:01", "n1", Lease.State.BOUND, T0.plusSeconds(3600));
        Lease b = new Lease(Ipv4.parse("10.0.0.101"), "id:01525400000002", "52:54:00:00:00:02", "", Lease.State.BOUND, T0.plusSeconds(3600));
        try (Inventory inv = open(url); LeaseWriter w = new LeaseWriter(inv, Clock.fixed(T0, ZoneOffset.UTC))) {
            w.save(a);
            w.save(b);
            w.flush();
            w.save(b.with(Lease.State.FREE, T0)); // an update of a stored lease, in a later batch
            w.flush();
        }
        try (Inventory inv = open(url)) {
            List<LeaseRecord> leases = inv.leases();
            assertThat(leases).containsExactly(record(a), record(b.with(Lease.State.FREE, T0)));
        }
    }

    /**
     * A 301-byte option 61 (RFC 3396 lets it span several options) in a batch with other clients'
     * leases: all of them are stored and survive a restart, so no ACKed address is offered again.
     * A value the database still cannot hold costs only its own lease, and an overlong hostname is cut.
     */
    @Test
    void oneUnusualLeaseNeverCostsTheOthersOfItsBatch() {
        String url = freshUrl();
        StringBuilder id = new StringBuilder("id:");
        for (int i = 0; i < 301; i++) id.append(String.format("%02x", i & 0xff));
        Lease longId = new Lease(Ipv4.parse("10.0.0.50"), id.toString(), "52:54:00:00:00:50", "", Lease.State.BOUND, T0.plusSeconds(3600));
        Lease longName = new Lease(Ipv4.parse("10.0.0.51"), "hw:525400000051", "52:54:00:00:00:51", "h".repeat(300), Lease.State.BOUND, T0.plusSeconds(3600));
        Lease bad = new Lease(Ipv4.parse("10.0.0.52"), "hw:525400000052", "5".repeat(60), "", Lease.State.BOUND, T0.plusSeconds(3600));
        List<Lease> others = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++)
            others.add(new Lease(Ipv4.parse("10.0.0." + (100 + i)), "hw:5254000001" + String.format("%02x", i), String.format("52:54:00:00:01:%02x", i),
                    "n" + i, Lease.State.BOUND, T0.plusSeconds(3600)));
        try (Inventory inv = open(url); LeaseWriter w = new LeaseWriter(inv, Clock.fixed(T0, ZoneOffset.UTC))) {
            others.subList(0, 10).forEach(w::save);
            w.save(longId);
            w.save(longName);
            w.save(bad);
            others.subList(10, 20).forEach(w::save);
            assertThat(w.flush()).isTrue();
        }
        try (Inventory inv = open(url)) {
            List<Lease> expected = new java.util.ArrayList<>(others);
            expected.add(longId);
            expected.add(new Lease(longName.address(), longName.clientKey(), longName.mac(), "h".repeat(253), longName.state(), longName.expires()));
            assertThat(inv.leases()).containsExactlyInAnyOrderElementsOf(expected.stream().map(LeaseWriter::record).toList());
        }
    }

    @Test
    void leasesOfNonEthernetClientsFit() {
        try (Inventory inv = open(freshUrl())) {
            String longHw = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"; // 16-byte chaddr
            Lease l = new Lease(Ipv4.parse("10.0.0.9"), "hw:00112233445566778899aabbccddeeff", longHw, "", Lease.State.BOUND, T0);
            inv.saveLeases(List.of(record(l)), T0);
            assertThat(inv.leases()).containsExactly(record(l));
        }
    }

    @Test
    void bootEventsImagesDisksAndAssignments() {
        try (Inventory inv = open(freshUrl())) {
            inv.clientSeen("52:54:00:12:34:56", "bios", "", "", T0);
            inv.recordBootEvent(new BootEvent("52:54:00:12:34:56", T0, "dhcp-boot", "10.0.0.5", "undionly.kpxe", ""));
            assertThat(inv.bootEvents("52:54:00:12:34:56")).extracting(BootEvent::bootFile).containsExactly("undionly.kpxe");
            long image = inv.addImage("debian12", "/srv/images/debian12.img", "", T0);
            long disk = inv.addDisk("node1-overlay", image, "/srv/disks/node1.qcow", 1L << 30, T0);
            inv.assign("52:54:00:12:34:56", image, disk, 1, 1);
            assertThat(inv.aoeAddress("52:54:00:12:34:56")).contains("1.1");
            inv.addClient("52:54:00:12:34:57", "", "");
            assertThatThrownBy(() -> inv.assign("52:54:00:12:34:57", image, disk, 1, 1))
                    .as("one AoE address per client").isInstanceOf(InventoryException.class);
            assertThat(T0.truncatedTo(ChronoUnit.SECONDS)).isEqualTo(T0);
        }
    }

    @Test
    void importedImagesTheirClonesAndWhatPinsThem() {
        try (Inventory inv = open(freshUrl())) {
            Image image = inv.addImage(new Image(0, "demo", "/srv/images/demo", "/srv/images/demo/disk.img", "6.1.0-x", 200L << 20,
                    "the demo", "/tmp/rootfs", T0));
            assertThat(inv.images()).containsExactly(image);
            assertThat(image.diskPath()).isEqualTo("/srv/images/demo/disk.img");
            assertThat(inv.imagePath("demo")).contains("/srv/images/demo");

            inv.addClient("52:54:00:00:00:01", "", "");
            Disk disk = inv.addDisk("client-525400000001", image.id(), "/srv/disks/a.img", 200L << 20, Disk.CLONE, T0);
            inv.assign("52:54:00:00:00:01", image.id(), disk.id(), 1, 0);
            assertThat(inv.diskOf("52:54:00:00:00:01")).contains(disk);
            assertThat(disk.imageName()).isEqualTo("demo");
            assertThat(inv.assignedAoeAddresses()).containsExactly("1.0");
            assertThatThrownBy(() -> inv.removeImage("demo")).isInstanceOf(InventoryException.class).hasMessageContaining("client-525400000001");

            inv.setDiskKind(disk.name(), Disk.STANDALONE);
            assertThatThrownBy(() -> inv.removeImage("demo")).hasMessageContaining("assigned to 52:54:00:00:00:01");
            assertThat(inv.removeDisk(disk.name())).isTrue();
            assertThat(inv.assignment("52:54:00:00:00:01")).as("the disk's assignment goes with it").isEmpty();
            assertThat(inv.removeImage("demo")).isTrue();
            assertThat(inv.images()).isEmpty();
            assertThat(inv.removeImage("demo")).isFalse();
        }
    }
}
