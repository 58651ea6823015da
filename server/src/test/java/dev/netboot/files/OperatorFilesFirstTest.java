package dev.netboot.files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A real boot root on disk in front of a generator of menus; the operator's file of the same name wins unless listed. */
class OperatorFilesFirstTest {

    @TempDir Path root;

    /** Generates "generated NAME" for boot.ipxe, pxelinux.cfg/... and ipxe/...; nothing else. */
    static final FileProvider GENERATED = request -> {
        String name = ConfinedPath.relative(request.path(), true).orElse("");
        return isGenerated(name) ? new Lookup.Found(new BytesFile(("generated " + name).getBytes(StandardCharsets.UTF_8)), name)
                : new Lookup.NotFound("not generated");
    };

    static boolean isGenerated(String name) {
        return name.equals("boot.ipxe") || name.startsWith("pxelinux.cfg/") || name.startsWith("ipxe/");
    }

    OperatorFilesFirst files(List<String> generatedFirst) throws Exception {
        return new OperatorFilesFirst(new DirectoryFileProvider(root, false), GENERATED, OperatorFilesFirstTest::isGenerated, generatedFirst);
    }

    static Lookup get(FileProvider p, String path) {
        return p.open(new FileRequest(path, new InetSocketAddress("10.0.0.5", 1000), "tftp"));
    }

    static String text(Lookup lookup) throws Exception {
        assertThat(lookup).isInstanceOf(Lookup.Found.class);
        var file = ((Lookup.Found) lookup).file();
        ByteBuffer b = ByteBuffer.allocate((int) file.size());
        file.read(0, b);
        return new String(b.array(), StandardCharsets.UTF_8);
    }

    @Test
    void theOperatorsFileWinsOverTheGeneratedOneOfTheSameName() throws Exception {
        Files.writeString(root.resolve("boot.ipxe"), "#!ipxe\nkernel vmlinuz\n");
        Files.createDirectories(root.resolve("pxelinux.cfg"));
        Files.writeString(root.resolve("pxelinux.cfg/default"), "DEFAULT site\n");
        OperatorFilesFirst p = files(List.of());
        assertThat(text(get(p, "boot.ipxe"))).isEqualTo("#!ipxe\nkernel vmlinuz\n");
        assertThat(text(get(p, "pxelinux.cfg/default"))).isEqualTo("DEFAULT site\n");
        assertThat(text(get(p, "ipxe/52-54-00-12-34-56.ipxe"))).as("no such file in the root: generated").isEqualTo("generated ipxe/52-54-00-12-34-56.ipxe");
        assertThat(p.shadowedBy(root, 4)).containsExactly("boot.ipxe", "pxelinux.cfg/default");
    }

    @Test
    void namesListedInGeneratedFirstGetTheGeneratedFile() throws Exception {
        Files.writeString(root.resolve("boot.ipxe"), "#!ipxe\nkernel vmlinuz\n");
        Files.createDirectories(root.resolve("pxelinux.cfg"));
        Files.writeString(root.resolve("pxelinux.cfg/default"), "DEFAULT site\n");
        OperatorFilesFirst p = files(List.of("pxelinux.cfg/*"));
        assertThat(text(get(p, "pxelinux.cfg/default"))).isEqualTo("generated pxelinux.cfg/default");
        assertThat(text(get(p, "boot.ipxe"))).isEqualTo("#!ipxe\nkernel vmlinuz\n");
        assertThat(p.shadowedBy(root, 4)).containsExactly("boot.ipxe");
    }

    @Test
    void plainFilesAndRefusalsStayTheBootRootsAnswer() throws Exception {
        Files.writeString(root.resolve("undionly.kpxe"), "rom");
        OperatorFilesFirst p = files(List.of());
        assertThat(text(get(p, "undionly.kpxe"))).isEqualTo("rom");
        assertThat(get(p, "nothing.bin")).isInstanceOf(Lookup.NotFound.class);
        assertThat(get(p, "../etc/passwd")).isInstanceOf(Lookup.Refused.class);
        // GRUB's absolute path: the root refuses it (leadingSlashIsRoot off), the generated menu still answers.
        assertThat(text(get(p, "/pxelinux.cfg/01-52-54-00-12-34-56"))).isEqualTo("generated pxelinux.cfg/01-52-54-00-12-34-56");
        assertThat(get(p, "/undionly.kpxe")).isInstanceOf(Lookup.Refused.class);
    }

    /** Debian's signed GRUB probes /grub/x86_64-efi/command.lst and friends on every boot: files nobody has. */
    @Test
    void anAbsolutePathOutsideTheRootIsRefusedWhetherOrNotSuchAFileExists() throws Exception {
        // Answering "not found" for a missing one and "refused" for an existing one would tell a client which host files exist.
        OperatorFilesFirst p = files(List.of());
        assertThat(get(p, "/grub/x86_64-efi/command.lst")).isInstanceOf(Lookup.Refused.class);
        assertThat(get(p, "/etc/passwd")).isInstanceOf(Lookup.Refused.class);
        assertThat(get(p, "/../etc/passwd")).isInstanceOf(Lookup.Refused.class);
    }

    /** As the menus and images providers: says at once only which names are not its own; its own need open(). */
    static final FileProvider GENERATED_KNOWING_ITS_NAMES = new FileProvider() {
        @Override public Lookup open(FileRequest request) { return GENERATED.open(request); }

        @Override
        public java.util.Optional<Lookup> openAtOnce(FileRequest request) {
            String name = ConfinedPath.relative(request.path(), true).orElse("");
            return isGenerated(name) ? java.util.Optional.empty() : java.util.Optional.of(new Lookup.NotFound("not generated"));
        }
    };

    static java.util.Optional<Lookup> atOnce(FileProvider p, String path) {
        return p.openAtOnce(new FileRequest(path, new InetSocketAddress("10.0.0.5", 1000), "tftp"));
    }

    @Test
    void plainFilesAndMissingOnesAreAnsweredAtOnceGeneratedOnesOnlyByOpen() throws Exception {
        Files.writeString(root.resolve("undionly.kpxe"), "rom");
        Files.createDirectories(root.resolve("pxelinux.cfg"));
        Files.writeString(root.resolve("pxelinux.cfg/default"), "DEFAULT site\n");
        FileProvider p = new OperatorFilesFirst(new DirectoryFileProvider(root, false), GENERATED_KNOWING_ITS_NAMES,
                OperatorFilesFirstTest::isGenerated, List.of("pxelinux.cfg/*"));
        assertThat(text(atOnce(p, "undionly.kpxe").orElseThrow())).isEqualTo("rom");
        assertThat(atOnce(p, "grub/i386-pc/command.lst")).as("a loader's probe for a file nobody has")
                .get().isInstanceOf(Lookup.NotFound.class);
        assertThat(atOnce(p, "../etc/passwd")).get().isInstanceOf(Lookup.Refused.class);
        assertThat(atOnce(p, "boot.ipxe")).as("generated: rendered off the event loop").isEmpty();
        assertThat(atOnce(p, "pxelinux.cfg/default")).as("generated first: the root's file must wait for the generated answer").isEmpty();
        // Whatever is answered at once is what open() answers.
        for (String path : List.of("undionly.kpxe", "nothing.bin", "../etc/passwd", "/undionly.kpxe", "boot.ipxe", "pxelinux.cfg/default", "ipxe/x.ipxe")) {
            java.util.Optional<Lookup> quick = atOnce(p, path);
            Lookup full = get(p, path);
            if (quick.isPresent()) assertThat(quick.get().getClass()).as(path).isEqualTo(full.getClass());
        }
        assertThat(text(get(p, "pxelinux.cfg/default"))).isEqualTo("generated pxelinux.cfg/default");
        // A provider that does not say what it can answer at once is asked only by open(), even for files nobody has.
        assertThat(atOnce(files(List.of()), "nothing.bin")).isEmpty();
        assertThat(atOnce(new DirectoryFileProvider(root, false).orElse(GENERATED_KNOWING_ITS_NAMES), "nothing.bin"))
                .get().isInstanceOf(Lookup.NotFound.class);
        assertThat(atOnce(new DirectoryFileProvider(root, false).orElse(GENERATED_KNOWING_ITS_NAMES), "boot.ipxe")).isEmpty();
    }
}
