package dev.netboot.loaders;

import dev.netboot.aoe.GuestImage;
import dev.netboot.testlib.CommandResult;
import dev.netboot.testlib.Commands;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Debian's boot loader and firmware packages, {@code apt-get download} + {@code dpkg -x} into one tree
 * in the test cache (~/.cache/netboot-test/debian-loaders), as they would lie on a server that installed
 * them: tests point {@code boot.loadersRoot} ({@link BootLoaders#discover}) at it.
 */
public final class DebianLoaders {

    /** What `netboot loaders install` would install, plus grub-mknetdir's libraries and OVMF for the UEFI PCs. */
    public static final List<String> PACKAGES = List.of("ipxe", "shim-signed", "shim-helpers-amd64-signed", "grub-efi-amd64-signed",
            "pxelinux", "syslinux-common", "grub-pc-bin", "grub-common", "libefivar1", "libefiboot1", "ovmf");

    private DebianLoaders() {}

    /** The tree, with every package of {@link #PACKAGES} unpacked (each downloaded once). */
    public static Path tree() throws IOException {
        Path root = GuestImage.cacheDir().resolve("debian-loaders");
        Path debs = GuestImage.cacheDir().resolve("debian-loaders-debs");
        Files.createDirectories(root);
        Files.createDirectories(debs);
        for (String pkg : PACKAGES) {
            Path done = root.resolve(".unpacked-" + pkg);
            if (Files.exists(done)) continue;
            // A .deb already in the folder (an earlier run that stopped before unpacking) is used as it is.
            String download = "cd '" + debs + "' && { ls " + pkg + "_*.deb >/dev/null 2>&1 || apt-get download " + pkg + "; }";
            CommandResult dl = Commands.run(Duration.ofMinutes(5), List.of("sh", "-c", download));
            if (dl.exitCode() != 0) {
                // A fresh machine may have no package lists yet.
                Commands.run(Duration.ofMinutes(5), List.of("apt-get", "update", "-qq"));
                dl = Commands.run(Duration.ofMinutes(5), List.of("sh", "-c", download));
            }
            if (dl.exitCode() != 0) throw new IOException("apt-get download " + pkg + " failed: " + dl.stdout() + dl.stderr());
            Commands.runOk(Duration.ofMinutes(1), List.of("sh", "-c", "dpkg -x '" + debs + "'/" + pkg + "_*.deb '" + root + "' && rm -f '" + debs + "'/" + pkg + "_*.deb"));
            Files.writeString(done, pkg + "\n");
        }
        return root;
    }

    /** Debian's OVMF builds (usr/share/OVMF) in the tree. */
    public static Path ovmf() throws IOException {
        return tree().resolve("usr/share/OVMF");
    }
}
