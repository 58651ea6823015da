package dev.netboot.inventory;

import dev.netboot.net.Ipv4;
import dev.netboot.boot.LeaseWriter;
import dev.netboot.dhcp.Lease;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The data directory on a 24 MiB tmpfs (as root) that a client's disk fills up: H2 closes its
 * database when a write fails. The inventory must say so, keep a lease handed out meanwhile, and work
 * again by itself once space is freed, without a restart.
 */
class InventoryDiskFullTest {

    @TempDir
    Path dir;
    Path mount;

    @AfterEach
    void unmount() throws Exception {
        if (mount != null) new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start().waitFor();
    }

    @Test
    void aFullDiskIsReportedAndTheInventoryRecoversWhenSpaceReturns() throws Exception {
        mount = Files.createDirectories(dir.resolve("data"));
        Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount.toString()).inheritIO().start();
        assertThat(m.waitFor()).as("mount a 24 MiB tmpfs (needs root)").isZero();

        Inventory inv = Inventory.open(Inventory.defaultUrl(mount.toString()), "sa", "");
        LeaseWriter leases = new LeaseWriter(inv, Clock.systemUTC());
        try {
            inv.addClient("52:54:00:00:00:01", "before", "");
            Path filler = mount.resolve("client-disk.img");
            fill(filler);

            // Writes until the database gives up (H2 may buffer a little first).
            boolean failed = false;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int i = 0; !failed && System.nanoTime() < deadline; i++) {
                try {
                    inv.addClient(String.format("52:54:00:01:%02x:%02x", (i >> 8) & 0xff, i & 0xff), "x".repeat(250), "y".repeat(1000));
                } catch (InventoryException e) {
                    failed = true;
                }
            }
            assertThat(failed).as("the inventory fails on a full disk").isTrue();
            for (int i = 0; i < 20; i++) { // more writes: H2 gives up on its database for good
                try {
                    inv.addClient(String.format("52:54:00:02:00:%02x", i), "x".repeat(250), "y".repeat(1000));
                } catch (InventoryException expected) {
                    // still full
                }
            }
            assertThat(inv.problem()).as("and says why").isPresent();
            Lease lease = new Lease(Ipv4.parse("10.0.0.7"), "hw:525400000007", "52:54:00:00:00:07", "", Lease.State.BOUND, Instant.now().plusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
            leases.save(lease); // handed out while the disk is full

            Files.delete(filler);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < deadline) {
                try {
                    if (inv.leases().contains(LeaseWriter.record(lease))) break;
                } catch (InventoryException e) {
                    // not yet
                }
                Thread.sleep(200);
            }
            assertThat(inv.client("52:54:00:00:00:01")).as("reads work again").isPresent();
            assertThat(inv.leases()).as("the lease handed out meanwhile was kept and written").contains(LeaseWriter.record(lease));
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (int i = 0; inv.problem().isPresent() && System.nanoTime() < deadline; i++) {
                assertThat(inv.addClient(String.format("52:54:00:03:00:%02x", i), "after", "")).as("writes work again").isTrue();
                Thread.sleep(500);
            }
            assertThat(inv.problem()).as("the problem is over").isEmpty();
        } finally {
            leases.close();
            inv.close();
        }
    }

    /**
     * What H2 does on some write failures (a full disk in the middle of storing a chunk): the database
     * is closed under the connection, which then fails for good. Played here by SHUTDOWN from a second
     * connection. The inventory must reopen it by itself and keep a lease saved meanwhile.
     */
    @Test
    void aDatabaseClosedUnderTheInventoryIsReopenedAndNoLeaseIsLost() throws Exception {
        String url = Inventory.defaultUrl(dir.resolve("db").toString());
        Inventory inv = Inventory.open(url, "sa", "");
        LeaseWriter leases = new LeaseWriter(inv, Clock.systemUTC());
        try {
            inv.addClient("52:54:00:00:00:01", "before", "");
            try (var c = java.sql.DriverManager.getConnection(url, "sa", EmbeddedH2.password(url, "sa", "")); var st = c.createStatement()) {
                st.execute("SHUTDOWN");
            }
            Lease lease = new Lease(Ipv4.parse("10.0.0.8"), "hw:525400000008", "52:54:00:00:00:08", "", Lease.State.BOUND,
                    Instant.now().plusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
            leases.save(lease);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            boolean works = false;
            while (!works && System.nanoTime() < deadline) {
                try {
                    works = inv.client("52:54:00:00:00:01").isPresent() && inv.leases().contains(LeaseWriter.record(lease));
                } catch (InventoryException e) {
                    // not yet
                }
                if (!works) Thread.sleep(200);
            }
            assertThat(works).as("the inventory works again by itself, with the lease saved meanwhile").isTrue();
            assertThat(inv.addClient("52:54:00:00:00:02", "after", "")).isTrue();
        } finally {
            leases.close();
            inv.close();
        }
    }

    private static void fill(Path file) throws IOException {
        byte[] mib = new byte[1 << 16];
        java.util.Arrays.fill(mib, (byte) 1);
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) out.write(mib);
        } catch (IOException full) {
            // no space left
        }
    }
}
