package dev.netboot.disks;

import dev.netboot.storage.Progress;
import dev.netboot.inventory.Assignment;
import dev.netboot.inventory.Client;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import dev.netboot.storage.BlockStores;
import dev.netboot.storage.BlockStore;
import dev.netboot.storage.CowBlockStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Assigning images to clients over real copy-on-write files, a real disk catalog and an H2 inventory. */
class ClientDisksTest {

    static final String A = "52:54:00:00:00:0a";
    static final String B = "52:54:00:00:00:0b";

    @TempDir Path dir;
    Inventory inventory;
    DiskCatalog catalog;
    ClientDisks disks;
    /** What reached the exporter directly, in order: "+address mac" for an export, "-address" for a withdrawal. */
    final List<String> exportCalls = new java.util.concurrent.CopyOnWriteArrayList<>();
    final DiskExports exports = new DiskExports() {
        @Override public void export(DiskEntry entry) { exportCalls.add("+" + entry.address() + " " + String.join(",", entry.allowedMacs())); }
        @Override public void withdraw(dev.netboot.aoe.TargetAddress address) { exportCalls.add("-" + address); }
    };

    @BeforeEach
    void setUp() throws Exception {
        inventory = Inventory.open(Inventory.defaultUrl(dir.resolve("db").toString()), "sa", "");
        catalog = new DiskCatalog(dir);
        disks = new ClientDisks(inventory, catalog, new FileCloner(dir.resolve("disks")), 1, Clock.systemUTC(), exports);
        image("alpha", (byte) 'a');
        image("beta", (byte) 'b');
    }

    @AfterEach
    void tearDown() { inventory.close(); }

    /** An image whose 16 MiB disk starts with a recognisable byte. */
    private void image(String name, byte first) throws Exception {
        Path disk = Files.createDirectories(dir.resolve("images/" + name)).resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(16 << 20);
            f.write(first);
        }
        inventory.addImage(new Image(0, name, disk.getParent().toString(), disk.toString(), "6.1.0-test", 16 << 20, "", "", Instant.now()));
    }

    private byte firstByte(String mac) throws Exception {
        try (BlockStore s = BlockStores.open(Path.of(inventory.diskOf(mac).orElseThrow().path()), true, false)) {
            ByteBuffer b = ByteBuffer.allocate(512);
            s.read(0, b);
            return b.get(0);
        }
    }

    private void writeFirstByte(String mac, byte value) throws Exception {
        try (BlockStore s = BlockStores.open(Path.of(inventory.diskOf(mac).orElseThrow().path()), false, false)) {
            ByteBuffer b = ByteBuffer.allocate(512);
            b.put(0, value);
            s.write(0, b);
            s.flush();
        }
    }

    @Test
    void eachClientGetsItsOwnCloneAtTheNextFreeAddressExportedToItsMacOnly() throws Exception {
        Assignment a = disks.assign(A, "alpha", false);
        Assignment b = disks.assign(B, "alpha", false);

        assertThat(a.aoeAddress()).isEqualTo("1.0");
        assertThat(b.aoeAddress()).isEqualTo("1.1");
        assertThat(inventory.client(B)).as("a new MAC is registered").isPresent();
        assertThat(catalog.list()).extracting(DiskEntry::address, DiskEntry::allowedMacs)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("1.0", List.of(A)), org.assertj.core.groups.Tuple.tuple("1.1", List.of(B)));
        assertThat(CowBlockStore.isClone(Path.of(inventory.diskOf(A).orElseThrow().path()))).isTrue();
        assertThat(inventory.diskOf(A).orElseThrow().kind()).isEqualTo(Disk.CLONE);
        assertThat(exportCalls).as("each new disk reaches the exporter directly, not through the file")
                .containsExactly("+1.0 " + A, "+1.1 " + B);

        writeFirstByte(A, (byte) 'X');
        assertThat(firstByte(A)).isEqualTo((byte) 'X');
        assertThat(firstByte(B)).as("B's clone does not see A's write").isEqualTo((byte) 'a');
        assertThat(Files.readAllBytes(dir.resolve("images/alpha/disk.img"))[0]).as("the image is untouched").isEqualTo((byte) 'a');
    }

    @Test
    void newClientDisksAreBoundToDisksInterfacesAndKeepTheBindingAnOperatorGaveThem() throws Exception {
        FileCloner cloner = new FileCloner(dir.resolve("disks"));
        ClientDisks bound = new ClientDisks(inventory, catalog, cloner, 1, Clock.systemUTC(), exports, List.of("eth0.20"));
        dev.netboot.aoe.TargetAddress a = dev.netboot.aoe.TargetAddress.parse(bound.assign(A, "alpha", false).aoeAddress());
        dev.netboot.aoe.TargetAddress b = dev.netboot.aoe.TargetAddress.parse(bound.assignDefault(B, "beta").orElseThrow().aoeAddress());
        assertThat(catalog.find(a).orElseThrow().interfaces()).containsExactly("eth0.20");
        assertThat(catalog.find(b).orElseThrow().interfaces()).containsExactly("eth0.20");
        assertThat(new Reconciler(inventory, catalog, cloner, dir, List.of("eth0.20")).run()).as("nothing to repair").isEmpty();

        // B's PC sits in another room: the operator rebinds its disk ('netboot disk export --replace --interface eth0.30')
        catalog.replace(catalog.find(b).orElseThrow().onInterfaces(List.of("eth0.30")));
        bound.assign(B, "beta", false);
        assertThat(new Reconciler(inventory, catalog, cloner, dir, List.of("eth0.20")).run()).isEmpty();
        assertThat(catalog.find(b).orElseThrow().interfaces()).as("neither the next assign nor a restart undoes it").containsExactly("eth0.30");

        // an entry lost in a crash comes back on disks.interfaces
        catalog.remove(a);
        assertThat(new Reconciler(inventory, catalog, cloner, dir, List.of("eth0.20")).run()).singleElement().asString()
                .contains("exported disk " + ClientDisks.diskName(A));
        assertThat(catalog.find(a).orElseThrow().interfaces()).containsExactly("eth0.20");
    }

    @Test
    void assigningTheSameImageAgainKeepsTheDiskAndAnotherOneNeedsReplace() throws Exception {
        disks.assign(A, "alpha", false);
        writeFirstByte(A, (byte) 'X');
        assertThat(disks.assign(A, "alpha", false).aoeAddress()).isEqualTo("1.0");
        assertThat(firstByte(A)).as("what the client wrote is still there").isEqualTo((byte) 'X');

        assertThatThrownBy(() -> disks.assign(A, "beta", false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--replace");
        Assignment replaced = disks.assign(A, "beta", true);
        assertThat(replaced.imageName()).isEqualTo("beta");
        assertThat(replaced.aoeAddress()).as("the address is stable").isEqualTo("1.0");
        assertThat(firstByte(A)).isEqualTo((byte) 'b');
        assertThat(catalog.list()).hasSize(1);
    }

    /** The old client's mask list left at the address would hide the disk from the next client there. */
    @Test
    void aFreedAddressComesWithoutTheRemovedDisksAoeState() throws Exception {
        dev.netboot.aoe.TargetAddress address = dev.netboot.aoe.TargetAddress.parse(disks.assign(A, "alpha", false).aoeAddress());
        StateFiles states = new StateFiles(dir);
        states.save(address, new dev.netboot.aoe.TargetState(ByteBuffer.wrap("old".getBytes(StandardCharsets.US_ASCII)),
                List.of(dev.netboot.net.MacAddress.parse(A)), List.of(dev.netboot.net.MacAddress.parse(A))));
        assertThat(states.targets()).containsExactly(address);

        assertThat(disks.unassign(A)).isTrue();
        assertThat(disks.assign(B, "alpha", false).aoeAddress()).isEqualTo(address.toString());
        assertThat(states.targets()).isEmpty();
        assertThat(states.load(address).masks()).isEmpty();
    }

    @Test
    void addressesSkipDisksMadeByHandAndFreedOnesAreReused() throws Exception {
        catalog.add(new DiskEntry("1.0", dir.resolve("manual.img").toString(), List.of(), false, false));
        assertThat(disks.assign(A, "alpha", false).aoeAddress()).isEqualTo("1.1");
        assertThat(disks.assign(B, "alpha", false).aoeAddress()).isEqualTo("1.2");

        Path overlay = Path.of(inventory.diskOf(A).orElseThrow().path());
        assertThat(disks.unassign(A)).isTrue();
        assertThat(overlay).doesNotExist();
        assertThat(CowBlockStore.sidecarOf(overlay)).doesNotExist();
        assertThat(inventory.assignment(A)).isEmpty();
        assertThat(catalog.list()).extracting(DiskEntry::address).containsExactly("1.0", "1.2");
        assertThat(disks.unassign(A)).isFalse();

        assertThat(disks.assign("52:54:00:00:00:0c", "alpha", false).aoeAddress()).isEqualTo("1.1");
    }

    @Test
    void theDefaultImageGoesToUnknownClientsButNotToDisabledOnes() throws Exception {
        assertThat(disks.assignDefault(A, "")).isEmpty();
        inventory.clientSeen(B, "bios", "", "", Instant.now());
        inventory.setClient(B, "state", "disabled");
        assertThat(disks.assignDefault(B, "alpha")).isEmpty();
        assertThat(disks.assignDefault(A, "no-such-image")).as("logged, not thrown at the menu").isEmpty();

        assertThat(disks.assignDefault(A, "alpha")).get().extracting(Assignment::imageName).isEqualTo("alpha");
    }

    @Test
    void aDiscoveredClientStaysDiscoveredWithTheDefaultImageAndBecomesActiveWhenAnOperatorAssignsOne() throws Exception {
        String c = "52:54:00:00:00:0c";
        inventory.clientSeen(c, "bios", "", "", Instant.now());
        disks.assignDefault(c, "alpha");
        assertThat(inventory.client(c)).get().extracting(Client::state).isEqualTo(Client.DISCOVERED);

        disks.assign(c, "alpha", false);
        assertThat(inventory.client(c)).get().extracting(Client::state).isEqualTo(Client.ACTIVE);
    }

    @Test
    void aFlattenedDiskNoLongerReadsFromItsImage() throws Exception {
        disks.assign(A, "alpha", false);
        writeFirstByte(A, (byte) 'X');
        assertThatThrownBy(() -> inventory.removeImage("alpha")).isInstanceOf(InventoryException.class);

        StringBuilder phases = new StringBuilder();
        disks.flatten(A, (phase, done, total) -> phases.append(phase).append(' ').append(done).append('/').append(total).append('\n'));
        assertThat(phases.toString()).contains("flattening client-52540000000a", (16 << 20) + "/" + (16 << 20));
        assertThat(inventory.diskOf(A).orElseThrow().kind()).isEqualTo(Disk.STANDALONE);
        assertThat(CowBlockStore.isClone(Path.of(inventory.diskOf(A).orElseThrow().path()))).isFalse();

        // The client still boots the image's kernel and initrd, so the image stays; its disk.img may go.
        assertThatThrownBy(() -> inventory.removeImage("alpha")).hasMessageContaining("assigned to " + A);
        Files.delete(dir.resolve("images/alpha/disk.img"));
        assertThat(firstByte(A)).as("the standalone disk has everything").isEqualTo((byte) 'X');
        assertThat(new String(Files.readAllBytes(Path.of(inventory.diskOf(A).orElseThrow().path())), 0, 1, StandardCharsets.US_ASCII)).isEqualTo("X");
        disks.flatten(A, Progress.NONE); // already standalone: nothing to do
    }

    @Test
    void flatteningADiskTheServerExportsTakesItOfflineAndBringsItBack() throws Exception {
        disks.assign(A, "alpha", false);
        writeFirstByte(A, (byte) 'X');
        // The server, as if in another process: it only notices the catalog at its polls.
        try (dev.netboot.aoe.AoeServer server = new dev.netboot.aoe.AoeServer(List.of(), 16, 1, true,
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), new StateFiles(dir));
             CatalogExporter exporter = new CatalogExporter(catalog, List.of(), server, false).start(100)) {
            dev.netboot.aoe.TargetAddress address = dev.netboot.aoe.TargetAddress.parse("1.0");
            assertThat(server.store(address)).isInstanceOf(CowBlockStore.class);

            disks.flatten(A, Progress.NONE);

            assertThat(inventory.diskOf(A).orElseThrow().kind()).isEqualTo(Disk.STANDALONE);
            assertThat(catalog.find(address)).get().extracting(DiskEntry::allowedMacs).isEqualTo(List.of(A));
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (server.store(address) == null && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(server.store(address)).as("exported again, now as a plain disk").isInstanceOf(dev.netboot.storage.FileBlockStore.class);
            ByteBuffer b = ByteBuffer.allocate(512);
            server.store(address).read(0, b);
            assertThat(b.get(0)).isEqualTo((byte) 'X');
        }
    }
}
