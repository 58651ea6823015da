package dev.netboot.boot.installer;

import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The installer's local component mirror: which udebs go in (what was asked for and what it depends on
 * that the installer's initrd lacks, kernel modules for exactly its kernel), what the initrd says about
 * itself, and that the server hands the mirror's files out under installers/NAME/mirror/ and nothing
 * outside it. (Downloading the udebs is apt's; the qemu test of the installer uses a mirror when the
 * machine's Debian archive serves udebs.)
 */
class UdebMirrorTest {

    static final String KERNEL = "6.1.0-50-amd64";

    @TempDir Path dir;

    static String stanza(String name, String... fields) {
        StringBuilder s = new StringBuilder("Package: " + name + "\n");
        for (String f : fields) s.append(f).append('\n');
        return s.append("Filename: pool/main/x/").append(name).append('/').append(name).append("_1_all.udeb\n").toString();
    }

    static final String INDEX = String.join("\n",
            stanza("partman-auto", "Depends: cdebconf-udeb, partman-base (>= 200), partman-ext3 | partman-btrfs", "Priority: standard"),
            stanza("partman-base", "Depends: libparted2-udeb (>= 3.5), di-utils", "Description: partition the storage devices",
                    " continuation of the description"),
            stanza("partman-ext3", "Depends: ext4-modules, e2fsprogs-udeb"),
            stanza("partman-btrfs", "Depends: btrfs-modules"),
            stanza("libparted2-udeb"),
            stanza("e2fsprogs-udeb", "Depends: libc6-udeb (>= 2.36)"),
            stanza("ext4-modules-6.1.0-47-amd64-di", "Provides: ext4-modules", "Kernel-Version: 6.1.0-47-amd64"),
            stanza("ext4-modules-6.1.0-50-amd64-di", "Provides: ext4-modules, jbd2-modules", "Kernel-Version: 6.1.0-50-amd64"),
            stanza("cdebconf-udeb"));

    @Test
    void takesWhatWasAskedForAndWhatItNeedsThatTheInitrdLacksWithModulesOfItsKernel() {
        List<UdebMirror.Stanza> index = UdebMirror.parse(INDEX);
        assertThat(index).hasSize(9);
        assertThat(index.get(1).field("Description")).contains("continuation of the description");
        List<String> chosen = UdebMirror.closure(index, Set.of("cdebconf-udeb", "di-utils", "libc6-udeb"), List.of("partman-auto"), KERNEL)
                .stream().map(UdebMirror.Stanza::name).toList();
        assertThat(chosen).containsExactly("partman-auto", "partman-base", "libparted2-udeb", "partman-ext3", "ext4-modules-6.1.0-50-amd64-di", "e2fsprogs-udeb");
    }

    @Test
    void aDependencyNoOneHasIsRefusedNamingIt() {
        List<UdebMirror.Stanza> index = UdebMirror.parse(INDEX);
        // For another kernel there is no ext4-modules: say so rather than serve modules the installer cannot load.
        assertThatThrownBy(() -> UdebMirror.closure(index, Set.of("cdebconf-udeb", "di-utils", "libc6-udeb"), List.of("partman-ext3"), "6.1.0-99-amd64"))
                .isInstanceOf(InstallerException.class).hasMessageContaining("partman-ext3 depends on ext4-modules").hasMessageContaining("6.1.0-99-amd64");
        assertThatThrownBy(() -> UdebMirror.closure(index, Set.of(), List.of("partman-lvm"), KERNEL))
                .isInstanceOf(InstallerException.class).hasMessageContaining("no udeb 'partman-lvm'");
    }

    @Test
    void theInitrdSaysItsSuiteAndWhatItHasWithWhatThatProvides() throws Exception {
        Path initrd = dir.resolve("initrd.gz");
        try (OutputStream out = Files.newOutputStream(initrd);
             CpioArchiveOutputStream cpio = new CpioArchiveOutputStream(new GzipCompressorOutputStream(out), CpioConstants.FORMAT_NEW)) {
            put(cpio, "etc/udebs-source", "bookworm\n");
            put(cpio, "var/lib/dpkg/status", "Package: anna\nStatus: install ok unpacked\n\nPackage: disk-detect\nProvides: harddrive-detection\n");
        }
        UdebMirror.InitrdFacts facts = UdebMirror.facts(initrd);
        assertThat(facts.suite()).isEqualTo("bookworm");
        assertThat(facts.installed()).containsExactlyInAnyOrder("anna", "disk-detect", "harddrive-detection");
    }

    private static void put(CpioArchiveOutputStream cpio, String name, String text) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        CpioArchiveEntry e = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, name, b.length);
        e.setMode(CpioConstants.C_ISREG | 0644);
        cpio.putArchiveEntry(e);
        cpio.write(b);
        cpio.closeArchiveEntry();
    }

    @Test
    void theServerHandsOutTheMirrorAndNothingOutsideIt() throws Exception {
        InstallerCatalog catalog = new InstallerCatalog(Files.createDirectories(dir.resolve("defs")), dir.resolve("files"));
        Files.writeString(dir.resolve("defs/plain.properties"), "title=no mirror\n");
        Path release = Files.createDirectories(dir.resolve("files/debian/mirror/dists/bookworm")).resolve("Release");
        Files.writeString(release, "Suite: bookworm\n");
        Files.writeString(dir.resolve("files/debian/secret"), "not in the mirror");
        // The mirror is Debian's own components, not a client's: no boot decision is asked for it.
        InstallerFileProvider files = new InstallerFileProvider(catalog, mac -> { throw new AssertionError("asked what " + mac + " boots"); }, mac -> { });
        InetSocketAddress pc = new InetSocketAddress("192.0.2.10", 2000);

        Lookup found = files.open(new FileRequest("installers/debian/mirror/dists/bookworm/Release", pc, "http"));
        assertThat(found).isInstanceOf(Lookup.Found.class);
        try (var f = ((Lookup.Found) found).file()) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) f.size());
            f.read(0, b);
            assertThat(new String(b.array(), StandardCharsets.UTF_8)).isEqualTo("Suite: bookworm\n");
        }
        assertThat(files.open(new FileRequest("installers/debian/mirror/../secret", pc, "http"))).isNotInstanceOf(Lookup.Found.class);
        assertThat(files.open(new FileRequest("installers/debian/mirror/dists/bookworm/../../../secret", pc, "http"))).isNotInstanceOf(Lookup.Found.class);
        assertThat(files.open(new FileRequest("installers/plain/mirror/dists/bookworm/Release", pc, "http")))
                .isInstanceOfSatisfying(Lookup.NotFound.class, n -> assertThat(n.reason()).contains("no local mirror"));
    }
}
