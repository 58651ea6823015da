package dev.netboot.web.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * The password of the user {@value #USER}: the configured one, or one generated at first start into
 * {@code <dataDir>/admin-password} (mode 0600, created with that mode, so it is never readable by
 * others even for a moment) and read from there at every later start.
 *
 * @param file where the password is kept, empty when it comes from the configuration
 */
public record AdminPassword(String password, Optional<Path> file) {

    public static final String USER = "admin";
    public static final String FILE_NAME = "admin-password";

    public AdminPassword {
        if (password == null || password.isBlank()) throw new IllegalArgumentException("the admin password is empty");
    }

    public static AdminPassword resolve(String configured, Path dataDir) throws IOException {
        if (configured != null && !configured.isBlank()) return new AdminPassword(configured, Optional.empty());
        Path file = dataDir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            byte[] random = new byte[18];
            new SecureRandom().nextBytes(random);
            String generated = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            Files.createDirectories(dataDir);
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(file, generated + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
            } catch (FileAlreadyExistsException raced) {
                // another process (a second server start) made it first: use theirs
            }
        }
        String stored = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (stored.isEmpty()) throw new IOException(file + " is empty: delete it to get a new admin password, or set web.adminPassword");
        return new AdminPassword(stored, Optional.of(file));
    }

    /** For the start-up log: where an operator finds the password, never the password itself. */
    public String whereToFind() {
        return file.map(f -> "password in " + f).orElse("password: web.adminPassword in the config");
    }

    @Override
    public String toString() { return "AdminPassword[" + whereToFind() + "]"; }
}
