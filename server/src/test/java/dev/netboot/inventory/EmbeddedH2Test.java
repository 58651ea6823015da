package dev.netboot.inventory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The embedded inventory never opens with user sa and the empty password, old databases included. */
class EmbeddedH2Test {

    @TempDir Path dir;

    String url() { return Inventory.defaultUrl(dir.toString()); }

    void emptyPasswordIsRefused() {
        assertThatThrownBy(() -> DriverManager.getConnection(url(), "sa", "").close())
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getErrorCode()).isEqualTo(28000));
    }

    @Test
    void aNewDatabaseGetsAGeneratedPasswordKeptInA0600File() throws Exception {
        try (Inventory inventory = Inventory.open(url(), "sa", "")) {
            inventory.addClient("52:54:00:00:00:01", "one", "");
        }
        Path file = dir.resolve("inventory-password");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(Files.readString(file).strip()).hasSizeGreaterThanOrEqualTo(32);
        emptyPasswordIsRefused();
        try (Inventory again = Inventory.open(url(), "sa", "")) {
            assertThat(again.client("52:54:00:00:00:01")).isPresent();
        }
    }

    @Test
    void aDatabaseMadeWithTheEmptyPasswordIsSwitchedOverOnItsNextOpen() throws Exception {
        // What the server made before: the schema, a client, user sa with the empty password.
        org.flywaydb.core.Flyway.configure().dataSource(url(), "sa", "").locations("classpath:db/migration").load().migrate();
        try (Connection old = DriverManager.getConnection(url(), "sa", "")) {
            old.createStatement().execute("INSERT INTO clients (mac, hostname, state) VALUES ('52:54:00:00:00:09', 'old', 'active')");
        }
        try (Inventory inventory = Inventory.open(url(), "sa", "")) {
            assertThat(inventory.client("52:54:00:00:00:09")).isPresent();
        }
        emptyPasswordIsRefused();
        String password = Files.readString(dir.resolve("inventory-password")).strip();
        DriverManager.getConnection(url(), "sa", password).close();
    }

    @Test
    void aConfiguredPasswordIsUsedAsItIs() throws Exception {
        try (Inventory inventory = Inventory.open(url(), "sa", "operator-chose-this")) {
            assertThat(inventory.clients()).isEmpty();
        }
        assertThat(dir.resolve("inventory-password")).doesNotExist();
        emptyPasswordIsRefused();
    }
}
