package dev.netboot.boot.initrd;

import dev.netboot.templates.Templates;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A crafted image must not put host files into an initrd anyone can fetch: every path the builder
 * reads from an image (modules.dep lines, the symlinks on the way) stays under the image's root.
 */
class ImageConfinementTest {

    static final String KV = "6.1.0-99-amd64";
    static final String SECRET = "root-only host secret";

    @TempDir Path dir;
    Path image;
    Path modules;
    Path secret;
    Path busybox;

    @BeforeEach
    void craftedImage() throws IOException {
        secret = Files.writeString(dir.resolve("shadow"), SECRET + "\n");
        image = dir.resolve("image");
        modules = Files.createDirectories(image.resolve("lib/modules/" + KV));
        Files.createDirectories(modules.resolve("kernel/drivers/block/aoe"));
        Files.writeString(modules.resolve("kernel/drivers/block/aoe/aoe.ko"), "\u007fELF aoe\n");
        busybox = Files.writeString(dir.resolve("busybox"), "fake busybox\n");
    }

    InitrdBuilder builder() {
        return new InitrdBuilder(new Templates(dir.resolve("no-templates"), "/initrd-templates", Duration.ZERO), busybox);
    }

    void modulesDep(String aoePath) throws IOException {
        Files.writeString(modules.resolve("modules.dep"), aoePath + ":\n");
    }

    static String unpackedText(Initrd initrd) throws IOException {
        try (var in = new GZIPInputStream(new ByteArrayInputStream(initrd.bytes()))) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void absoluteModulePathIsRefusedWithTheReason() throws Exception {
        modulesDep(secret.toString());
        assertThatThrownBy(() -> builder().build("evil", image))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("modules.dep line 1")
                .hasMessageContaining("absolute path")
                .hasMessageNotContaining(SECRET);
    }

    @Test
    void dotDotModulePathIsRefused() throws Exception {
        modulesDep("../../../../shadow");
        assertThatThrownBy(() -> builder().build("evil", image))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("modules.dep line 1")
                .hasMessageContaining("'..'");
    }

    @Test
    void moduleSymlinkOutOfTheImageIsRefused() throws Exception {
        Path aoe = modules.resolve("kernel/drivers/block/aoe/aoe.ko");
        Files.delete(aoe);
        Files.createSymbolicLink(aoe, secret);
        modulesDep("kernel/drivers/block/aoe/aoe.ko");
        assertThatThrownBy(() -> builder().build("evil", image))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("kernel/drivers/block/aoe/aoe.ko")
                .hasMessageContaining("leads out of the image")
                .hasMessageNotContaining(secret.toString());
    }

    @Test
    void symlinkedDirectoryOnTheWayOutIsRefused() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("host-modules/kernel/drivers/block/aoe"));
        Files.writeString(outside.resolve("aoe.ko"), SECRET);
        Path kernelDir = modules.resolve("kernel");
        deleteTree(kernelDir);
        Files.createSymbolicLink(kernelDir, dir.resolve("host-modules/kernel"));
        modulesDep("kernel/drivers/block/aoe/aoe.ko");
        assertThatThrownBy(() -> builder().build("evil", image)).hasMessageContaining("leads out of the image");
    }

    @Test
    void modulesDepThatIsASymlinkOutIsRefusedWithoutQuotingTheFile() throws Exception {
        Files.createSymbolicLink(modules.resolve("modules.dep"), secret);
        assertThatThrownBy(() -> builder().build("evil", image))
                .hasMessageContaining("modules.dep")
                .hasMessageContaining("leads out of the image")
                .hasMessageNotContaining(SECRET);
    }

    @Test
    void imagesBusyboxThatIsASymlinkOutIsRefused() throws Exception {
        modulesDep("kernel/drivers/block/aoe/aoe.ko");
        Files.delete(busybox);
        Files.createDirectories(image.resolve("bin"));
        Files.createSymbolicLink(image.resolve("bin/busybox"), secret);
        assertThatThrownBy(() -> builder().build("evil", image)).hasMessageContaining("bin/busybox", "leads out of the image");
    }

    @Test
    void symlinksInsideTheImageStillWork() throws Exception {
        // Debian's merged /usr: lib -> usr/lib, relative, inside the image.
        Path merged = dir.resolve("merged");
        Files.createDirectories(merged.resolve("usr"));
        Files.move(image.resolve("lib"), merged.resolve("usr/lib"));
        Files.createSymbolicLink(merged.resolve("lib"), Path.of("usr/lib"));
        Path mods = merged.resolve("usr/lib/modules/" + KV);
        Files.move(mods.resolve("kernel/drivers/block/aoe/aoe.ko"), mods.resolve("kernel/aoe-real.ko"));
        Files.createSymbolicLink(mods.resolve("kernel/drivers/block/aoe/aoe.ko"), Path.of("../../../aoe-real.ko"));
        Files.writeString(mods.resolve("modules.dep"), "kernel/drivers/block/aoe/aoe.ko:\n");

        assertThat(unpackedText(builder().build("merged", merged))).contains("\u007fELF aoe");
    }

    @Test
    void kernelServedFromABootFolderThatLeadsOutIsRefused() throws Exception {
        modulesDep("kernel/drivers/block/aoe/aoe.ko");
        Path hostBoot = Files.createDirectories(dir.resolve("host-boot"));
        Files.writeString(hostBoot.resolve("vmlinuz-" + KV), SECRET);
        Files.createSymbolicLink(image.resolve("boot"), hostBoot);
        ImageFileProvider provider = new ImageFileProvider(name -> Optional.of(image.toString()), builder());

        Lookup lookup = provider.open(new FileRequest("images/evil/vmlinuz", null, "tftp"));

        assertThat(lookup).isInstanceOf(Lookup.NotFound.class);
        assertThat(((Lookup.NotFound) lookup).reason()).contains("leads out of the image").doesNotContain(hostBoot.toString());
    }

    static void deleteTree(Path p) throws IOException {
        try (var s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }
}
