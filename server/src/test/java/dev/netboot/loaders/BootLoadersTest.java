package dev.netboot.loaders;

import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class BootLoadersTest {

    @TempDir Path root;

    /** The files of Debian's ipxe package as dpkg -x leaves them: ipxe.efi in /boot, an absolute link to it in /usr/lib/ipxe. */
    void ipxePackage() throws Exception {
        Files.createDirectories(root.resolve("usr/lib/ipxe"));
        Files.createDirectories(root.resolve("boot"));
        Files.writeString(root.resolve("usr/lib/ipxe/undionly.kpxe"), "undionly");
        Files.writeString(root.resolve("boot/ipxe.efi"), "ipxe-efi");
        Files.createSymbolicLink(root.resolve("usr/lib/ipxe/ipxe.efi"), Path.of("/boot/ipxe.efi"));
    }

    @Test
    void findsLoadersInsideTheRootAndFollowsAbsoluteLinksThere() throws Exception {
        ipxePackage();
        BootLoaders l = BootLoaders.discover(root);
        assertThat(l.file(Loader.UNDIONLY)).contains(root.resolve("usr/lib/ipxe/undionly.kpxe"));
        assertThat(l.file(Loader.IPXE_EFI)).contains(root.resolve("boot/ipxe.efi"));
        assertThat(l.canBoot(ClientKind.BIOS_IPXE)).isTrue();
        assertThat(l.canBoot(ClientKind.UEFI_SECURE_BOOT)).isFalse();
    }

    @Test
    void anAbsoluteLinkIsReadAsInsideTheRoot() throws Exception {
        // As a shim-signed that keeps its binary under another name (shimx64.efi.signed -> /usr/lib/shim/shimx64.efi.signed.latest).
        Path shim = Files.createDirectories(root.resolve("usr/lib/shim"));
        Files.writeString(shim.resolve("shimx64.efi.signed.latest"), "shim");
        Files.createSymbolicLink(shim.resolve("shimx64.efi.signed"), Path.of("/usr/lib/shim/shimx64.efi.signed.latest"));
        assertThat(BootLoaders.discover(root).file(Loader.SHIM)).contains(shim.resolve("shimx64.efi.signed.latest"));
    }

    @Test
    void anAbsoluteLinkNeverLeadsOutOfTheRoot() throws Exception {
        Files.createDirectories(root.resolve("usr/lib/shim"));
        // On the host /etc/hostname exists; inside the root it does not: not found, not the host's file.
        Files.createSymbolicLink(root.resolve("usr/lib/shim/shimx64.efi.signed"), Path.of("/etc/hostname"));
        Files.createSymbolicLink(root.resolve("usr/lib/shim/mmx64.efi.signed"), Path.of("../../../../../../../etc/hostname"));
        BootLoaders l = BootLoaders.discover(root);
        assertThat(l.has(Loader.SHIM)).isFalse();
        assertThat(l.has(Loader.MOK_MANAGER)).isFalse();
    }

    @Test
    void saysWhichPackagesAreMissingPerKind() throws Exception {
        ipxePackage();
        BootLoaders l = BootLoaders.discover(root);
        assertThat(l.missingPackages(List.of(ClientKind.UEFI_SECURE_BOOT))).containsExactly("shim-signed", "grub-efi-amd64-signed");
        assertThat(l.missingPackages()).containsExactly("pxelinux", "syslinux-common", "grub-pc-bin", "grub-common", "shim-signed", "grub-efi-amd64-signed");
        assertThat(l.describeKinds()).contains("BIOS iPXE: ready (undionly.kpxe)",
                "UEFI Secure Boot: missing shimx64.efi, grubx64.efi (apt-get install shim-signed grub-efi-amd64-signed)");
    }

    @Test
    void servesLoadersUnderStableNamesAndPxelinuxModulesAtTheTop() throws Exception {
        ipxePackage();
        Files.createDirectories(root.resolve("usr/lib/shim"));
        Files.writeString(root.resolve("usr/lib/shim/shimx64.efi.signed"), "shim");
        Files.createDirectories(root.resolve("usr/lib/syslinux/modules/bios"));
        Files.writeString(root.resolve("usr/lib/syslinux/modules/bios/menu.c32"), "menu");
        LoaderFileProvider p = new LoaderFileProvider(BootLoaders.discover(root), Optional.empty());
        assertThat(read(p, "shimx64.efi")).isEqualTo("shim");
        assertThat(read(p, "/ipxe.efi")).isEqualTo("ipxe-efi");
        assertThat(read(p, "menu.c32")).isEqualTo("menu");
        assertThat(p.open(new FileRequest("shimx64.efi.signed", null, "tftp"))).isInstanceOf(Lookup.NotFound.class);
        assertThat(p.open(new FileRequest("usr/lib/shim/shimx64.efi.signed", null, "tftp"))).isInstanceOf(Lookup.NotFound.class);
        assertThat(p.open(new FileRequest("../etc/passwd.c32", null, "tftp"))).isInstanceOf(Lookup.NotFound.class);
    }

    static String read(LoaderFileProvider p, String name) throws Exception {
        Lookup l = p.open(new FileRequest(name, null, "tftp"));
        assertThat(l).as(name).isInstanceOf(Lookup.Found.class);
        try (var f = ((Lookup.Found) l).file()) {
            ByteBuffer b = ByteBuffer.allocate((int) f.size());
            f.read(0, b);
            return new String(b.array());
        }
    }
}
