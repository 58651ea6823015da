package dev.netboot.disks;

import dev.netboot.aoe.AoeServer;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.storage.FileBlockStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CatalogExporterTest {

    @TempDir
    Path dir;

    @Test
    void clonesAreExportedAsClonesAndReleasedWhenWithdrawn() throws Exception {
        Path base = dir.resolve("base.img");
        byte[] content = new byte[64 << 10];
        new java.util.Random(3).nextBytes(content);
        Files.write(base, content);
        Path clone = dir.resolve("clone.img");
        CowBlockStore.create(base, clone).close();
        FileBlockStore.createSparse(dir.resolve("plain.img"), 64 << 10).close();
        DiskCatalog catalog = new DiskCatalog(dir);
        catalog.add(new DiskEntry("1.1", clone.toString(), List.of(), true, false));
        catalog.add(new DiskEntry("1.2", dir.resolve("plain.img").toString(), List.of(), true, false));

        try (AoeServer server = new AoeServer(List.of(), 16, 1, true, new SimpleMeterRegistry(), new StateFiles(dir));
             CatalogExporter exporter = new CatalogExporter(catalog, List.of(), server, false)) {
            exporter.reconcile();
            assertThat(server.store(TargetAddress.parse("1.1"))).isInstanceOf(CowBlockStore.class);
            assertThat(server.store(TargetAddress.parse("1.2"))).isInstanceOf(FileBlockStore.class);
            ByteBuffer b = ByteBuffer.allocate(content.length);
            server.store(TargetAddress.parse("1.1")).read(0, b);
            assertThat(b.array()).isEqualTo(content);

            StateFiles states = new StateFiles(dir);
            states.save(TargetAddress.parse("1.1"), new dev.netboot.aoe.TargetState(ByteBuffer.allocate(0),
                    List.of(dev.netboot.net.MacAddress.parse("52:54:00:00:00:01")), List.of()));
            catalog.remove(TargetAddress.parse("1.1"));
            exporter.reconcile();
            assertThat(server.store(TargetAddress.parse("1.1"))).isNull();
            CowBlockStore.open(clone, false).close(); // the server let go of it
            // withdrawn while its file is there (a flatten does that): the state stays
            assertThat(states.targets()).containsExactly(TargetAddress.parse("1.1"));

            // a clone whose base changed is refused, the others stay exported
            Files.setLastModifiedTime(base, FileTime.fromMillis(0));
            catalog.add(new DiskEntry("1.1", clone.toString(), List.of(), true, false));
            exporter.reconcile();
            assertThat(server.store(TargetAddress.parse("1.1"))).isNull();
            assertThat(server.store(TargetAddress.parse("1.2"))).isNotNull();

            // removed by another process (catalog entry and file gone): the server forgets its state too
            states.save(TargetAddress.parse("1.2"), new dev.netboot.aoe.TargetState(ByteBuffer.allocate(0),
                    List.of(dev.netboot.net.MacAddress.parse("52:54:00:00:00:01")), List.of()));
            catalog.remove(TargetAddress.parse("1.2"));
            Files.delete(dir.resolve("plain.img"));
            exporter.reconcile();
            assertThat(server.store(TargetAddress.parse("1.2"))).isNull();
            assertThat(states.targets()).doesNotContain(TargetAddress.parse("1.2"));
        }
    }

    /**
     * Another process re-images a disk ('clone --replace': the clone deleted and made anew under the same path, the
     * catalog entry removed and added back the same): the server exports the new file, not the old one it held open.
     */
    @Test
    void aFileReplacedUnderAnUnchangedEntryIsExportedAnew() throws Exception {
        Path base = dir.resolve("base.img");
        Files.write(base, new byte[64 << 10]);
        Path clone = dir.resolve("clone.img");
        CowBlockStore.create(base, clone).close();
        DiskCatalog catalog = new DiskCatalog(dir);
        DiskEntry entry = new DiskEntry("1.1", clone.toString(), List.of(), true, false);
        catalog.add(entry);
        try (AoeServer server = new AoeServer(List.of(), 16, 1, true, new SimpleMeterRegistry(), new StateFiles(dir));
             CatalogExporter exporter = new CatalogExporter(catalog, List.of(), server, false)) {
            exporter.reconcile();
            var old = server.store(TargetAddress.parse("1.1"));
            old.write(0, ByteBuffer.wrap(new byte[]{1, 2, 3, 4}));
            exporter.reconcile();
            assertThat(server.store(TargetAddress.parse("1.1"))).as("nothing changed: the same export").isSameAs(old);

            Path other = dir.resolve("new.img");
            CowBlockStore.create(base, other).close();
            Files.move(other, clone, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.move(CowBlockStore.sidecarOf(other), CowBlockStore.sidecarOf(clone), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            catalog.remove(TargetAddress.parse("1.1"));
            catalog.add(entry);
            exporter.export(entry);   // what the poll does once it sees the catalog changed, had it missed the removal
            var now = server.store(TargetAddress.parse("1.1"));
            assertThat(now).isNotSameAs(old);
            ByteBuffer b = ByteBuffer.allocate(4);
            now.read(0, b);
            assertThat(b.array()).as("the new clone, not the old one's writes").containsExactly(0, 0, 0, 0);
        }
    }

    /** State files of disks removed while no server ran (or by a crash in between) are swept at start. */
    @Test
    void stateOfDisksNotInTheCatalogIsRemoved() throws Exception {
        StateFiles states = new StateFiles(dir);
        states.save(TargetAddress.parse("1.1"), dev.netboot.aoe.TargetState.EMPTY);
        states.save(TargetAddress.parse("1.2"), dev.netboot.aoe.TargetState.EMPTY);
        assertThat(states.keepOnly(List.of(TargetAddress.parse("1.2")))).containsExactly(TargetAddress.parse("1.1"));
        assertThat(states.targets()).containsExactly(TargetAddress.parse("1.2"));
    }
}
