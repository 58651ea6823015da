package dev.netboot.images;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** A tiny merged-/usr root tree (lib -> usr/lib) with a kernel, a module and files to find in the built disk. */
public final class TestRootfs {

    public static final String KERNEL = "6.1.0-99-test";

    private TestRootfs() {}

    public static Path create(Path root) throws IOException {
        Path modules = Files.createDirectories(root.resolve("usr/lib/modules/" + KERNEL + "/kernel/drivers/block/aoe"));
        Files.writeString(modules.resolve("aoe.ko"), "not really a module");
        Files.writeString(root.resolve("usr/lib/modules/" + KERNEL + "/modules.dep"), "kernel/drivers/block/aoe/aoe.ko:\n");
        Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
        Files.createDirectories(root.resolve("boot"));
        Files.writeString(root.resolve("boot/vmlinuz-" + KERNEL), "kernel bytes");
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/hostname"), "imported-" + root.getFileName() + "\n");
        Path secret = Files.createDirectories(root.resolve("root")).resolve("secret");
        Files.writeString(secret, "only root reads this");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        return root;
    }
}
