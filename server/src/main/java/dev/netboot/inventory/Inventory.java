package dev.netboot.inventory;

import dev.netboot.net.MacAddress;
import dev.netboot.net.Ipv4;
import org.flywaydb.core.Flyway;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The only place with state about clients, images, disks, leases and boots: plain JDBC over one
 * connection (H2 embedded by default, or PostgreSQL), schema by Flyway migrations. The CLI and the
 * services call the same methods. Thread-safe: one statement at a time, which is plenty for an
 * appliance; DHCP's lease writes come through {@link LeaseWriter}, batched, off the event loop.
 */
public final class Inventory implements AutoCloseable {


    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Inventory.class);
    private static final long RECONNECT_NANOS = 1_000_000_000L;

    /** Null while the database is unreachable (H2 closes itself for good when its disk fills up). */
    private Connection connection;
    private final String url, user, password;
    private long nextReconnect;
    private volatile String problem;
    private long lastFailure;

    private Inventory(Connection connection, String url, String user, String password) {
        this.connection = connection;
        this.url = url;
        this.user = user;
        this.password = password;
    }

    /**
     * Why the database cannot be used right now (it is retried at most once a second, on use), or
     * empty when it works: for the log, the metric and the admin page's banner.
     */
    public Optional<String> problem() { return Optional.ofNullable(problem); }

    /** How long an open waits for the lock file of a process that just ended (H2 refuses it while it is fresh). */
    static final long FRESH_LOCK_WAIT_MILLIS = 20_000;

    /**
     * Opens the database, creating it and migrating the schema to the newest version first. H2 refuses a
     * database whose lock file was written in the last seconds ("Lock file recently modified"), which is
     * what a server killed a moment ago leaves (systemd restarting it, a crash loop): that is waited out,
     * up to {@link #FRESH_LOCK_WAIT_MILLIS}; a database another live process holds stays refused.
     */
    public static Inventory open(String url, String user, String password) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(FRESH_LOCK_WAIT_MILLIS);
        boolean said = false;
        while (true) {
            try {
                return openOnce(url, user, password);
            } catch (InventoryException e) {
                if (!rootMessage(e).contains("Lock file recently modified") || System.nanoTime() > deadline) throw e;
                if (!said) {
                    org.slf4j.LoggerFactory.getLogger(Inventory.class).info(
                            "inventory: its lock file was written moments ago (a server that just stopped?): waiting for it to go stale");
                    said = true;
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static Inventory openOnce(String url, String user, String password) {
        try {
            EmbeddedH2.init();
            String effective = EmbeddedH2.password(url, user, password);
            Flyway.configure().dataSource(url, user, effective).locations("classpath:db/migration").load().migrate();
            Connection c = DriverManager.getConnection(url, user, effective);
            c.setAutoCommit(true);
            try {
                EmbeddedH2.checkLoopback(url);
            } catch (RuntimeException e) {
                c.close();
                throw e;
            }
            writeThrough(c, url);
            // The password that opened it (generated for the embedded default): reconnects after a full disk use it too.
            return new Inventory(c, url, user, effective);
        } catch (SQLException | RuntimeException e) {
            throw new InventoryException("cannot open the inventory database " + redact(url) + ": " + rootMessage(e), e);
        }
    }

    /**
     * The embedded default: an H2 file under dataDir that the CLI can open while the server runs (H2's
     * auto-server, on loopback only, with the generated password in {@code <dataDir>/inventory-password}).
     */
    public static String defaultUrl(String dataDir) {
        return "jdbc:h2:file:" + java.nio.file.Path.of(dataDir).toAbsolutePath().resolve("inventory") + ";AUTO_SERVER=TRUE";
    }

    /** @see MacAddress#normalize */
    public static String normalizeMac(String mac) {
        return MacAddress.normalize(mac);
    }

    // ---- clients ----------------------------------------------------------------------------

    public synchronized List<Client> clients() {
        return query("SELECT mac, hostname, architecture, uuid, boot_file, state, first_seen, last_seen FROM clients ORDER BY mac",
                ps -> {}, Inventory::client);
    }

    /** One page of the clients, by MAC: the admin shows thousands without reading them all. */
    public synchronized List<Client> clients(int offset, int limit) {
        return query("SELECT mac, hostname, architecture, uuid, boot_file, state, first_seen, last_seen FROM clients ORDER BY mac "
                + "OFFSET ? ROWS FETCH NEXT ? ROWS ONLY", ps -> {
            ps.setInt(1, offset);
            ps.setInt(2, limit);
        }, Inventory::client);
    }

    public synchronized int clientCount() {
        return query("SELECT COUNT(*) FROM clients", ps -> {}, rs -> rs.getInt(1)).getFirst();
    }

    /**
     * Forgets clients that registered by themselves (discovered), have no disk and were last seen before
     * {@code cutoff}, with their boot events: made-up MACs of a flood, PCs that came once and left.
     * Clients an operator touched (active, disabled) or that have a disk are kept.
     */
    public synchronized int forgetDiscovered(Instant cutoff) {
        String stale = "SELECT c.mac FROM clients c WHERE c.state = ? AND c.last_seen < ? "
                + "AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.client_id = c.id)";
        Binder bind = ps -> {
            ps.setString(1, Client.DISCOVERED);
            ps.setTimestamp(2, Timestamp.from(cutoff));
        };
        update("DELETE FROM boot_events WHERE mac IN (" + stale + ")", bind);
        return update("DELETE FROM clients WHERE mac IN (" + stale + ")", bind);
    }

    /** Deletes boot events from before {@code cutoff}; returns how many. */
    public synchronized int pruneBootEvents(Instant cutoff) {
        return update("DELETE FROM boot_events WHERE at < ?", ps -> ps.setTimestamp(1, Timestamp.from(cutoff)));
    }

    public synchronized Optional<Client> client(String mac) {
        String m = normalizeMac(mac);
        return query("SELECT mac, hostname, architecture, uuid, boot_file, state, first_seen, last_seen FROM clients WHERE mac = ?",
                ps -> ps.setString(1, m), Inventory::client).stream().findFirst();
    }

    /** Adds a client an operator names (state active); false if it exists already. */
    public synchronized boolean addClient(String mac, String hostname, String bootFile) {
        String m = normalizeMac(mac);
        if (client(m).isPresent()) return false;
        update("INSERT INTO clients (mac, hostname, boot_file, state) VALUES (?, ?, ?, ?)", ps -> {
            ps.setString(1, m);
            ps.setString(2, emptyToNull(hostname));
            ps.setString(3, emptyToNull(bootFile));
            ps.setString(4, Client.ACTIVE);
        });
        return true;
    }

    public synchronized boolean removeClient(String mac) {
        String m = normalizeMac(mac);
        return update("DELETE FROM clients WHERE mac = ?", ps -> ps.setString(1, m)) > 0;
    }

    /** Sets one field (hostname, boot-file, state) of a client; false if there is no such client. */
    public synchronized boolean setClient(String mac, String field, String value) {
        String m = normalizeMac(mac);
        String column = switch (field) {
            case "hostname" -> "hostname";
            case "boot-file", "bootFile", "boot_file" -> "boot_file";
            case "state" -> {
                if (!List.of(Client.DISCOVERED, Client.ACTIVE, Client.DISABLED).contains(value)) {
                    throw new IllegalArgumentException("state must be discovered, active or disabled, not '" + value + "'");
                }
                yield "state";
            }
            default -> throw new IllegalArgumentException("unknown client field '" + field + "' (hostname, boot-file, state)");
        };
        return update("UPDATE clients SET " + column + " = ? WHERE mac = ?", ps -> {
            ps.setString(1, emptyToNull(value));
            ps.setString(2, m);
        }) > 0;
    }

    /**
     * A network-boot client asked: registers it on first sight (state discovered, no admin step),
     * else updates what it said about itself and when. Returns true when it was new.
     */
    public synchronized boolean clientSeen(String mac, String architecture, String uuid, String hostname, Instant at) {
        String m = normalizeMac(mac);
        int updated = update("UPDATE clients SET last_seen = ?, architecture = ?, uuid = COALESCE(?, uuid), "
                + "hostname = COALESCE(hostname, ?) WHERE mac = ?", ps -> {
            ps.setTimestamp(1, Timestamp.from(at));
            ps.setString(2, architecture);
            ps.setString(3, emptyToNull(uuid));
            ps.setString(4, emptyToNull(hostname));
            ps.setString(5, m);
        });
        if (updated > 0) return false;
        update("INSERT INTO clients (mac, hostname, architecture, uuid, state, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)", ps -> {
            ps.setString(1, m);
            ps.setString(2, emptyToNull(hostname));
            ps.setString(3, architecture);
            ps.setString(4, emptyToNull(uuid));
            ps.setString(5, Client.DISCOVERED);
            ps.setTimestamp(6, Timestamp.from(at));
            ps.setTimestamp(7, Timestamp.from(at));
        });
        return true;
    }

    /**
     * A client's installer mode: the installer it boots next instead of its system, and since when that
     * installer runs (it fetched its initrd); empty when the client boots its system.
     */
    public record InstallMode(String installer, Optional<Instant> started) {}

    public synchronized Optional<InstallMode> installMode(String mac) {
        String m = normalizeMac(mac);
        return query("SELECT installer, install_started FROM clients WHERE mac = ? AND installer IS NOT NULL", ps -> ps.setString(1, m),
                rs -> new InstallMode(rs.getString(1), Optional.ofNullable(rs.getTimestamp(2)).map(Timestamp::toInstant)))
                .stream().findFirst();
    }

    /** Arms (installer non-null, not started) or clears (null) a client's installer mode; false if there is no such client. */
    public synchronized boolean setInstaller(String mac, String installer) {
        String m = normalizeMac(mac);
        return update("UPDATE clients SET installer = ?, install_started = NULL WHERE mac = ?", ps -> {
            ps.setString(1, emptyToNull(installer));
            ps.setString(2, m);
        }) > 0;
    }

    /** The client's installer fetched its initrd: the install runs (recorded once, the first fetch counts). */
    public synchronized boolean installStarted(String mac, Instant at) {
        String m = normalizeMac(mac);
        return update("UPDATE clients SET install_started = ? WHERE mac = ? AND installer IS NOT NULL AND install_started IS NULL", ps -> {
            ps.setTimestamp(1, Timestamp.from(at));
            ps.setString(2, m);
        }) > 0;
    }

    /** Per-client boot file overrides, for the boot policy's cache. */
    public synchronized java.util.Map<String, String> bootFileOverrides() {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        query("SELECT mac, boot_file FROM clients WHERE boot_file IS NOT NULL", ps -> {}, rs -> out.put(rs.getString(1), rs.getString(2)));
        return out;
    }

    public synchronized List<String> disabledClients() {
        return query("SELECT mac FROM clients WHERE state = ?", ps -> ps.setString(1, Client.DISABLED), rs -> rs.getString(1));
    }

    // ---- leases -----------------------------------------------------------------------------

    public synchronized List<LeaseRecord> leases() {
        return query("SELECT address, client_key, mac, hostname, state, expires FROM leases ORDER BY address", ps -> {}, rs ->
                new LeaseRecord(Ipv4.parse(rs.getString(1)), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getTimestamp(6).toInstant()));
    }

    /** A lease the database refused as data (a value it cannot hold), and why. */
    public record RejectedLease(LeaseRecord lease, String reason) {}

    /**
     * Writes leases in one transaction (upsert by address). If the database refuses a value (SQL
     * state class 22, data exception), the batch is written again one lease at a time, so one bad
     * lease costs only itself: it is returned with the reason and the others are saved. Any other
     * failure (connection lost, disk full) throws and nothing is saved; the caller keeps the batch.
     */
    public synchronized List<RejectedLease> saveLeases(List<LeaseRecord> leases, Instant now) {
        if (leases.isEmpty()) return List.of();
        try {
            upsertLeases(leases, now);
            return List.of();
        } catch (SQLException e) {
            if (!isDataException(e)) throw new InventoryException("saving " + leases.size() + " leases failed: " + e.getMessage(), e);
        }
        List<RejectedLease> rejected = new ArrayList<>();
        for (LeaseRecord l : leases) {
            try {
                upsertLeases(List.of(l), now);
            } catch (SQLException e) {
                if (!isDataException(e)) throw new InventoryException("saving lease of " + l.address() + " failed: " + e.getMessage(), e);
                rejected.add(new RejectedLease(l, e.getMessage()));
            }
        }
        return rejected;
    }

    private static boolean isDataException(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("22");
    }

    private void upsertLeases(List<LeaseRecord> leases, Instant now) throws SQLException {
        Connection connection = connection();
        connection.setAutoCommit(false);
        try (PreparedStatement up = connection.prepareStatement(
                "UPDATE leases SET client_key = ?, mac = ?, hostname = ?, state = ?, expires = ?, updated = ? WHERE address = ?");
             PreparedStatement in = connection.prepareStatement(
                     "INSERT INTO leases (client_key, mac, hostname, state, expires, updated, address) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            // Two round trips per batch, not two per lease: update all, insert the ones that were new.
            for (LeaseRecord l : leases) {
                bindLease(up, l, now);
                up.addBatch();
            }
            int[] updated = up.executeBatch();
            boolean inserts = false;
            for (int i = 0; i < leases.size(); i++) {
                if (updated[i] == 0) {
                    bindLease(in, leases.get(i), now);
                    in.addBatch();
                    inserts = true;
                }
            }
            if (inserts) in.executeBatch();
            connection.commit();
            if (problem != null) recovered();
        } catch (SQLException e) {
            try {
                connection.rollback();
            } catch (SQLException ignored) {
                // the connection is gone: nothing was committed
            }
            failed(e);
            throw e;
        } finally {
            try {
                connection.setAutoCommit(true);
            } catch (SQLException ignored) {
                // as above
            }
        }
    }

    /** The hostname column's width: a longer option 12 is cut rather than cost the client its lease. */
    static final int HOSTNAME_CHARS = 253;

    private static void bindLease(PreparedStatement ps, LeaseRecord l, Instant now) throws SQLException {
        ps.setString(1, l.clientKey());
        ps.setString(2, l.mac());
        String host = l.hostname();
        ps.setString(3, emptyToNull(host.length() > HOSTNAME_CHARS ? host.substring(0, HOSTNAME_CHARS) : host));
        ps.setString(4, l.state());
        ps.setTimestamp(5, Timestamp.from(l.expires()));
        ps.setTimestamp(6, Timestamp.from(now));
        ps.setString(7, l.address().toString());
    }

    // ---- boot events ------------------------------------------------------------------------

    public synchronized void recordBootEvent(BootEvent e) {
        update("INSERT INTO boot_events (mac, at, kind, address, boot_file, detail) VALUES (?, ?, ?, ?, ?, ?)", ps -> {
            ps.setString(1, normalizeMac(e.mac()));
            ps.setTimestamp(2, Timestamp.from(e.at()));
            ps.setString(3, e.kind());
            ps.setString(4, emptyToNull(e.address()));
            ps.setString(5, emptyToNull(e.bootFile()));
            ps.setString(6, emptyToNull(e.detail()));
        });
    }

    public synchronized List<BootEvent> bootEvents(String mac) {
        String m = normalizeMac(mac);
        return query("SELECT mac, at, kind, address, boot_file, detail FROM boot_events WHERE mac = ? ORDER BY at, id", ps -> ps.setString(1, m),
                rs -> new BootEvent(rs.getString(1), rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6)));
    }

    // ---- images, disks, assignments (the minimum other services build on) ---------------------

    public synchronized long addImage(String name, String path, String description, Instant now) {
        update("INSERT INTO images (name, path, description, created) VALUES (?, ?, ?, ?)", ps -> {
            ps.setString(1, name);
            ps.setString(2, path);
            ps.setString(3, emptyToNull(description));
            ps.setTimestamp(4, Timestamp.from(now));
        });
        return query("SELECT id FROM images WHERE name = ?", ps -> ps.setString(1, name), rs -> rs.getLong(1)).getFirst();
    }

    /** A clone disk of the image (the kind client disks have unless flattened); returns its id. */
    public synchronized long addDisk(String name, long imageId, String path, long sizeBytes, Instant now) {
        return addDisk(name, imageId, path, sizeBytes, Disk.CLONE, now).id();
    }

    /** Assigns a client (which must exist) an image, a disk and its AoE address; replaces an earlier assignment. */
    public synchronized void assign(String mac, long imageId, long diskId, int shelf, int slot) {
        String m = normalizeMac(mac);
        long clientId = query("SELECT id FROM clients WHERE mac = ?", ps -> ps.setString(1, m), rs -> rs.getLong(1)).stream().findFirst()
                .orElseThrow(() -> new InventoryException("no client " + m));
        update("DELETE FROM assignments WHERE client_id = ?", ps -> ps.setLong(1, clientId));
        update("INSERT INTO assignments (client_id, image_id, disk_id, shelf, slot) VALUES (?, ?, ?, ?, ?)", ps -> {
            ps.setLong(1, clientId);
            ps.setLong(2, imageId);
            ps.setLong(3, diskId);
            ps.setInt(4, shelf);
            ps.setInt(5, slot);
        });
    }

    /** "shelf.slot" of the client's assigned disk, if it has one. */
    public synchronized Optional<String> aoeAddress(String mac) {
        String m = normalizeMac(mac);
        return query("SELECT a.shelf, a.slot FROM assignments a JOIN clients c ON c.id = a.client_id WHERE c.mac = ?",
                ps -> ps.setString(1, m), rs -> rs.getInt(1) + "." + rs.getInt(2)).stream().findFirst();
    }

    /** Records an imported image; its name must be new. */
    public synchronized Image addImage(Image image) {
        update("INSERT INTO images (name, path, disk_path, kernel_version, size_bytes, description, source, created) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ps -> {
            ps.setString(1, image.name());
            ps.setString(2, image.path());
            ps.setString(3, image.diskPath());
            ps.setString(4, image.kernelVersion());
            ps.setLong(5, image.sizeBytes());
            ps.setString(6, emptyToNull(image.description()));
            ps.setString(7, emptyToNull(image.source()));
            ps.setTimestamp(8, Timestamp.from(image.created()));
        });
        return image(image.name()).orElseThrow();
    }

    private static final String IMAGE_COLUMNS = "id, name, path, disk_path, kernel_version, size_bytes, description, source, created";

    public synchronized List<Image> images() {
        return query("SELECT " + IMAGE_COLUMNS + " FROM images ORDER BY name", ps -> {}, Inventory::image);
    }

    public synchronized Optional<Image> image(String name) {
        return query("SELECT " + IMAGE_COLUMNS + " FROM images WHERE name = ?", ps -> ps.setString(1, name), Inventory::image)
                .stream().findFirst();
    }

    /**
     * Forgets an image. Refused while a disk still reads from it (a clone or a snapshot) or a client
     * is assigned to it: removing it would break those clients' next boot.
     */
    public synchronized boolean removeImage(String name) {
        Optional<Image> image = image(name);
        if (image.isEmpty()) return false;
        long id = image.get().id();
        List<String> users = query("SELECT name FROM disks WHERE image_id = ? AND (kind IS NULL OR kind <> ?) ORDER BY name",
                ps -> { ps.setLong(1, id); ps.setString(2, Disk.STANDALONE); }, rs -> rs.getString(1));
        if (!users.isEmpty()) {
            throw new InventoryException("image " + name + " is still used by " + users.size() + " clone(s): " + String.join(", ", users)
                    + " (remove or flatten them first)");
        }
        List<String> clients = query("SELECT c.mac FROM assignments a JOIN clients c ON c.id = a.client_id WHERE a.image_id = ? ORDER BY c.mac",
                ps -> ps.setLong(1, id), rs -> rs.getString(1));
        if (!clients.isEmpty()) {
            throw new InventoryException("image " + name + " is assigned to " + String.join(", ", clients) + " (assign them another image first)");
        }
        update("UPDATE disks SET image_id = NULL WHERE image_id = ?", ps -> ps.setLong(1, id));
        return update("DELETE FROM images WHERE id = ?", ps -> ps.setLong(1, id)) > 0;
    }

    private static Image image(ResultSet rs) throws SQLException {
        return new Image(rs.getLong(1), rs.getString(2), rs.getString(3), nullToEmpty(rs.getString(4)), nullToEmpty(rs.getString(5)),
                rs.getLong(6), nullToEmpty(rs.getString(7)), nullToEmpty(rs.getString(8)), instant(rs.getTimestamp(9)));
    }

    /** Records a client's disk made from an image. */
    public synchronized Disk addDisk(String name, long imageId, String path, long sizeBytes, String kind, Instant now) {
        update("INSERT INTO disks (name, image_id, path, size_bytes, kind, created) VALUES (?, ?, ?, ?, ?, ?)", ps -> {
            ps.setString(1, name);
            ps.setLong(2, imageId);
            ps.setString(3, path);
            ps.setLong(4, sizeBytes);
            ps.setString(5, kind);
            ps.setTimestamp(6, Timestamp.from(now));
        });
        return disk(name).orElseThrow();
    }

    private static final String DISK_QUERY = "SELECT d.id, d.name, i.name, d.path, d.size_bytes, d.kind, d.created FROM disks d "
            + "LEFT JOIN images i ON i.id = d.image_id";

    public synchronized List<Disk> disks() {
        return query(DISK_QUERY + " ORDER BY d.name", ps -> {}, Inventory::disk);
    }

    public synchronized Optional<Disk> disk(String name) {
        return query(DISK_QUERY + " WHERE d.name = ?", ps -> ps.setString(1, name), Inventory::disk).stream().findFirst();
    }

    /** The disk the client is assigned, if any. */
    public synchronized Optional<Disk> diskOf(String mac) {
        String m = normalizeMac(mac);
        return query(DISK_QUERY + " JOIN assignments a ON a.disk_id = d.id JOIN clients c ON c.id = a.client_id WHERE c.mac = ?",
                ps -> ps.setString(1, m), Inventory::disk).stream().findFirst();
    }

    public synchronized void setDiskKind(String name, String kind) {
        update("UPDATE disks SET kind = ? WHERE name = ?", ps -> { ps.setString(1, kind); ps.setString(2, name); });
    }

    /** Forgets a disk; a client assigned to it loses its assignment (it waits for the admin again). */
    public synchronized boolean removeDisk(String name) {
        update("DELETE FROM assignments WHERE disk_id IN (SELECT id FROM disks WHERE name = ?)", ps -> ps.setString(1, name));
        return update("DELETE FROM disks WHERE name = ?", ps -> ps.setString(1, name)) > 0;
    }

    private static Disk disk(ResultSet rs) throws SQLException {
        return new Disk(rs.getLong(1), rs.getString(2), nullToEmpty(rs.getString(3)), rs.getString(4), rs.getLong(5),
                rs.getString(6) == null ? Disk.CLONE : rs.getString(6), instant(rs.getTimestamp(7)));
    }

    /** A client's assignment with the disk it points at (for the start-up check of files against rows). */
    public record AssignedDisk(String mac, String diskName, String diskPath, int shelf, int slot) {}

    public synchronized List<AssignedDisk> assignedDisks() {
        return query("SELECT c.mac, d.name, d.path, a.shelf, a.slot FROM assignments a JOIN clients c ON c.id = a.client_id "
                + "JOIN disks d ON d.id = a.disk_id WHERE a.shelf IS NOT NULL ORDER BY c.mac", ps -> {},
                rs -> new AssignedDisk(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5)));
    }

    /** Every AoE address an assignment holds, "shelf.slot". */
    public synchronized java.util.Set<String> assignedAoeAddresses() {
        return new java.util.HashSet<>(query("SELECT shelf, slot FROM assignments WHERE shelf IS NOT NULL", ps -> {},
                rs -> rs.getInt(1) + "." + rs.getInt(2)));
    }

    /** Where an image's files live, by its name. */
    public synchronized Optional<String> imagePath(String name) {
        return query("SELECT path FROM images WHERE name = ?", ps -> ps.setString(1, name), rs -> rs.getString(1)).stream().findFirst();
    }

    /** How many clients have a disk although nobody assigned them one (still "discovered": the default image's clones). */
    public synchronized int discoveredClientsWithDisks() {
        return query("SELECT COUNT(*) FROM assignments a JOIN clients c ON c.id = a.client_id WHERE c.state = ? AND a.disk_id IS NOT NULL",
                ps -> ps.setString(1, Client.DISCOVERED), rs -> rs.getInt(1)).getFirst();
    }

    /** What the client is assigned to boot (image and AoE address), if anything. */
    public synchronized Optional<Assignment> assignment(String mac) {
        String m = normalizeMac(mac);
        return query("SELECT i.name, i.path, a.shelf, a.slot FROM assignments a JOIN clients c ON c.id = a.client_id "
                        + "JOIN images i ON i.id = a.image_id WHERE c.mac = ?",
                ps -> ps.setString(1, m), rs -> new Assignment(m, rs.getString(1), rs.getString(2), rs.getInt(3), rs.getInt(4)))
                .stream().findFirst();
    }

    @Override
    public synchronized void close() {
        if (connection == null) return;
        try {
            connection.close();
        } catch (SQLException ignored) {
            // closing: nothing left to do with it
        }
    }

    // ---- plumbing ---------------------------------------------------------------------------

    private interface Binder { void bind(PreparedStatement ps) throws SQLException; }

    private interface Row<T> { T map(ResultSet rs) throws SQLException; }

    /**
     * The connection, reopened if a failure closed it. H2 closes the database for good when a write
     * fails (a full disk): without this, every later call would fail until a restart, even after
     * space came back.
     */
    private Connection connection() {
        if (connection != null) return connection;
        long now = System.nanoTime();
        if (now - nextReconnect < 0) throw new InventoryException("the inventory database is unavailable: " + problem);
        nextReconnect = now + RECONNECT_NANOS;
        try {
            Connection c = DriverManager.getConnection(url, user, password);
            c.setAutoCommit(true);
            writeThrough(c, url);
            connection = c;
            log.warn("the inventory database {} is open again (it was unavailable: {})", redact(url), problem);
            return c;
        } catch (SQLException e) {
            problem = describe(e);
            throw new InventoryException("the inventory database is unavailable: " + problem, e);
        }
    }

    /**
     * H2 writes a commit to its file only up to half a second later by default: on a full disk the
     * statement succeeds and the data is lost when the store fails afterwards (a lease that was ACKed).
     * With no delay the commit itself fails, and the caller keeps what it wanted to write.
     */
    private static void writeThrough(Connection c, String url) throws SQLException {
        if (!url.startsWith("jdbc:h2:")) return;
        try (var st = c.createStatement()) {
            st.execute("SET WRITE_DELAY 0");
        }
    }

    /**
     * After a failed statement: a write the database could not store (full disk) is reported at once;
     * if the connection died with it, it is dropped (reopened on next use).
     */
    private void failed(SQLException e) {
        Connection c = connection;
        if (c == null) return;
        String root = rootMessage(e);
        lastFailure = System.nanoTime();
        if (problem == null && root != null && (root.contains("No space left") || root.contains("Writing to") || root.contains("disk full"))) {
            problem = describe(e);
            log.error("the inventory database {} cannot store what it is given: {}", redact(url), problem);
        }
        // H2 cannot be trusted after a failed write (what it holds in memory may never reach the file):
        // reopen it from the file, as a restart would.
        boolean writeFailed = root != null && (root.contains("No space left") || root.contains("Writing to"));
        boolean dead = writeFailed;
        try {
            dead |= c.isClosed() || !c.isValid(2);
        } catch (SQLException probe) {
            dead = true;
        }
        if (!dead) return;
        try {
            c.close();
        } catch (SQLException ignored) {
            // it is gone already
        }
        connection = null;
        nextReconnect = System.nanoTime();
        if (problem == null) problem = describe(e);
        log.error("the inventory database {} stopped working: {}. Menus, the admin pages and lease records fail until it is back; "
                + "it is reopened on the next use, at most once a second", redact(url), problem);
    }

    /**
     * A write went through after a failure: the database takes writes again. Not believed within two
     * seconds of a failure: H2 accepts a few writes into memory on a full disk before it fails again.
     */
    private void recovered() {
        if (System.nanoTime() - lastFailure < 2 * RECONNECT_NANOS) return;
        log.warn("the inventory database {} takes writes again (it failed: {})", redact(url), problem);
        problem = null;
    }

    private static String describe(SQLException e) {
        String m = rootMessage(e);
        if (m != null && (m.contains("No space left") || m.toLowerCase(Locale.ROOT).contains("disk full")))
            return "the data disk is full (" + m + "); free space on it";
        return m;
    }

    private <T> List<T> query(String sql, Binder binder, Row<T> row) {
        try (PreparedStatement ps = connection().prepareStatement(sql)) {
            binder.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                List<T> out = new ArrayList<>();
                while (rs.next()) out.add(row.map(rs));
                return out;
            }
        } catch (SQLException e) {
            failed(e);
            throw new InventoryException("query failed: " + e.getMessage(), e);
        }
    }

    private int update(String sql, Binder binder) {
        try (PreparedStatement ps = connection().prepareStatement(sql)) {
            binder.bind(ps);
            int n = ps.executeUpdate();
            if (problem != null) recovered();
            return n;
        } catch (SQLException e) {
            failed(e);
            throw new InventoryException("update failed: " + e.getMessage(), e);
        }
    }

    private static Client client(ResultSet rs) throws SQLException {
        return new Client(rs.getString(1), nullToEmpty(rs.getString(2)), nullToEmpty(rs.getString(3)), nullToEmpty(rs.getString(4)),
                nullToEmpty(rs.getString(5)), rs.getString(6), instant(rs.getTimestamp(7)), instant(rs.getTimestamp(8)));
    }

    private static Instant instant(Timestamp t) { return t == null ? null : t.toInstant(); }

    private static String emptyToNull(String s) { return s == null || s.isEmpty() ? null : s; }

    private static String nullToEmpty(String s) { return s == null ? "" : s; }

    private static String redact(String url) { return url.replaceAll("(?i)(password=)[^;&]*", "$1***"); }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage();
    }
}
