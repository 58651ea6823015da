package dev.netboot.boot.initrd;

import dev.netboot.files.BytesFile;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.templates.Templates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** An image's initrd built ahead of its first PC is the one that PC gets, not a second build. */
class ImageInitrdPrepareTest {

    @TempDir Path dir;

    @Test
    void aPreparedInitrdIsServedFromTheCacheAndAnUnknownImageIsNoError() throws Exception {
        Path image = dir.resolve("demo");
        Path modules = Files.createDirectories(image.resolve("lib/modules/6.1.0-99-amd64/kernel/drivers/block/aoe"));
        Files.writeString(modules.resolve("aoe.ko"), "\u007fELF aoe\n");
        Files.writeString(image.resolve("lib/modules/6.1.0-99-amd64/modules.dep"), "kernel/drivers/block/aoe/aoe.ko:\n");
        Path busybox = Files.writeString(dir.resolve("busybox"), "fake busybox\n");
        InitrdBuilder builder = new InitrdBuilder(new Templates(dir.resolve("no-templates"), "/initrd-templates", Duration.ZERO), busybox);
        ImageFileProvider images = new ImageFileProvider(name -> name.equals("demo") ? Optional.of(image.toString()) : Optional.empty(), builder);

        assertThat(builder.built("demo")).isEmpty();
        images.prepare("demo");
        images.prepare("not-in-the-inventory");
        Initrd prepared = builder.built("demo").orElseThrow();

        Lookup served = images.open(new FileRequest("images/demo/initrd.img", new InetSocketAddress("10.0.0.9", 2000), "tftp"));
        assertThat(served).isInstanceOf(Lookup.Found.class);
        BytesFile file = (BytesFile) ((Lookup.Found) served).file();
        assertThat(file.size()).isEqualTo(prepared.bytes().length);
        assertThat(builder.built("demo")).as("the request found the prepared initrd current and built none").containsSame(prepared);
        assertThat(builder.built("not-in-the-inventory")).isEmpty();
    }
}
