package dev.netboot.web.admin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

class AdminPasswordTest {

    @TempDir Path dir;

    @Test
    void generatedOnceIntoAFileOnlyItsOwnerReads() throws Exception {
        AdminPassword first = AdminPassword.resolve("", dir.resolve("data"));
        Path file = dir.resolve("data/admin-password");

        assertThat(first.file()).contains(file);
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(first.password()).hasSizeGreaterThanOrEqualTo(20).isEqualTo(Files.readString(file).strip());
        assertThat(AdminPassword.resolve("", dir.resolve("data")).password()).as("kept across restarts").isEqualTo(first.password());
        assertThat(AdminPassword.resolve("", dir.resolve("other")).password()).isNotEqualTo(first.password());
        assertThat(first.toString()).doesNotContain(first.password()).contains(file.toString());
    }

    @Test
    void theConfiguredPasswordWinsAndNoFileIsWritten() throws Exception {
        AdminPassword p = AdminPassword.resolve("s3cret", dir);
        assertThat(p.password()).isEqualTo("s3cret");
        assertThat(p.file()).isEmpty();
        assertThat(dir.resolve("admin-password")).doesNotExist();
        assertThat(p.whereToFind()).contains("web.adminPassword").doesNotContain("s3cret");
    }

    @Test
    void guardAllowsOnlyTheAdminAndItsOwnTokens() {
        AdminPassword p = new AdminPassword("pw", java.util.Optional.empty());
        AdminGuard guard = new AdminGuard(p, new byte[32]);
        assertThat(guard.allows("admin", "pw")).isTrue();
        assertThat(guard.allows("admin", "pw ")).isFalse();
        assertThat(guard.allows("Admin", "pw")).isFalse();
        assertThat(guard.allows(null, null)).isFalse();
        assertThat(guard.validToken(guard.csrfToken())).isTrue();
        assertThat(guard.validToken(null)).isFalse();
        assertThat(guard.validToken("")).isFalse();
        assertThat(new AdminGuard(p).csrfToken()).as("another server secret, another token").isNotEqualTo(guard.csrfToken());
        assertThat(new AdminGuard(new AdminPassword("other", java.util.Optional.empty()), new byte[32]).csrfToken())
                .as("a new password invalidates old forms").isNotEqualTo(guard.csrfToken());
    }
}
