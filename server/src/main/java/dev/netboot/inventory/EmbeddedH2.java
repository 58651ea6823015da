package dev.netboot.inventory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Base64;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * Keeps the embedded H2 inventory to root. H2's auto-server (which lets the CLI work beside a running
 * server) opens a TCP port whose key sits in the lock file, and user {@code sa} had the empty password:
 * any local user could log in and {@code CALL FILE_WRITE} as root. So:
 * <ul>
 *   <li>the auto-server port listens on loopback only ({@code h2.bindAddress}, read once when H2 loads);</li>
 *   <li>an H2 file database whose configured password is empty gets a generated one, kept in
 *       {@code <database>-password} (mode 0600) where the server and the CLI (both root) read it;
 *       a database made before that, still on the empty password, is switched over on its next open.</li>
 * </ul>
 */
final class EmbeddedH2 {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedH2.class);
    private static final String FILE_URL = "jdbc:h2:file:";
    private static final Pattern PLAIN_USER = Pattern.compile("[A-Za-z][A-Za-z0-9_]*");
    private static final int WRONG_USER_OR_PASSWORD = 28000; // org.h2.api.ErrorCode

    static {
        // Must be set before H2's SysProperties class loads; the check after opening catches a late set.
        System.setProperty("h2.bindAddress", "127.0.0.1");
    }

    private EmbeddedH2() {}

    /** Loads this class (and so the loopback binding) before anything touches H2. */
    static void init() {}

    /** The password to open {@code url} with: the configured one, or for an H2 file database with none, the generated one. */
    static String password(String url, String user, String configured) throws SQLException {
        Path database = database(url);
        if (database == null || !configured.isEmpty()) return configured;
        Path file = passwordFile(database);
        String password = readOrCreate(file);
        switchFromEmptyPassword(url, user, password, file);
        return password;
    }

    /** After opening: the auto-server, if one runs, must be on loopback, else the database is reachable from the network. */
    static void checkLoopback(String url) {
        Path database = database(url);
        if (database == null || !url.toUpperCase(java.util.Locale.ROOT).contains("AUTO_SERVER=TRUE")) return;
        Path lock = Path.of(database + ".lock.db");
        Properties p = new Properties();
        try (var in = Files.newInputStream(lock)) {
            p.load(in);
        } catch (IOException e) {
            return; // no lock file: no auto-server runs for this database
        }
        String server = p.getProperty("server", "");
        // H2 writes "localhost" when bound to the loopback address.
        if (!server.isEmpty() && !server.startsWith("127.0.0.1:") && !server.startsWith("localhost:")) {
            throw new InventoryException("the inventory's H2 auto-server listens on " + server + ", not on loopback only "
                    + "(h2.bindAddress was set before the inventory opened): refusing to run with the database reachable from the network");
        }
    }

    static Path passwordFile(Path database) {
        return database.resolveSibling(database.getFileName() + "-password");
    }

    /** The database file's path (without .mv.db) for an H2 file URL, else null (memory, TCP, PostgreSQL...). */
    private static Path database(String url) {
        if (!url.startsWith(FILE_URL)) return null;
        String rest = url.substring(FILE_URL.length());
        int semicolon = rest.indexOf(';');
        return Path.of(semicolon >= 0 ? rest.substring(0, semicolon) : rest).toAbsolutePath();
    }

    private static String readOrCreate(Path file) {
        try {
            if (Files.exists(file)) return Files.readString(file, StandardCharsets.US_ASCII).strip();
            Files.createDirectories(file.getParent());
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            // Written whole under a temporary name, then linked into place: a CLI and a server starting
            // together agree on one password, and nobody ever reads half a file.
            Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try {
                Files.writeString(tmp, password + "\n", StandardCharsets.US_ASCII);
                Files.createLink(file, tmp);
                log.info("inventory: generated the embedded database's password into {} (mode 0600)", file);
                return password;
            } catch (FileAlreadyExistsException raced) {
                return Files.readString(file, StandardCharsets.US_ASCII).strip();
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the inventory password file " + file + ": " + e.getMessage(), e);
        }
    }

    /** A database created while the default was sa with no password keeps that until someone changes it: we do, once. */
    private static void switchFromEmptyPassword(String url, String user, String password, Path file) throws SQLException {
        if (!Files.exists(Path.of(database(url) + ".mv.db"))) return; // a new database is created with the generated password
        try (Connection ignored = DriverManager.getConnection(url, user, password)) {
            return;
        } catch (SQLException e) {
            if (e.getErrorCode() != WRONG_USER_OR_PASSWORD) throw e;
        }
        if (!PLAIN_USER.matcher(user).matches()) {
            throw new SQLException("the inventory database does not accept the password in " + file + " and user '" + user
                    + "' cannot be switched over automatically: set inventory.password");
        }
        try (Connection c = DriverManager.getConnection(url, user, "");
             Statement s = c.createStatement()) {
            // The password is base64url (letters, digits, - and _): nothing to escape in the literal.
            s.execute("ALTER USER \"" + user.toUpperCase(java.util.Locale.ROOT) + "\" SET PASSWORD '" + password + "'");
        } catch (SQLException e) {
            if (e.getErrorCode() != WRONG_USER_OR_PASSWORD) throw e;
            throw new SQLException("the inventory database accepts neither the password in " + file
                    + " nor the empty one: put its password in that file (mode 0600), or set inventory.password", e);
        }
        log.warn("inventory: the embedded database still had the empty default password for user {}; it now has the generated one in {}",
                user, file);
    }
}
