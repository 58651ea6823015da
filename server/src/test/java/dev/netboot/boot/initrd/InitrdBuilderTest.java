package dev.netboot.boot.initrd;

import com.github.luben.zstd.ZstdOutputStream;
import dev.netboot.templates.Templates;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Builds an initrd from a fake image tree and unpacks it with GNU cpio, as the kernel would see it. */
class InitrdBuilderTest {

    static final String KV = "6.1.0-99-amd64";

    @TempDir Path dir;
    Path image;
    Path busybox;
    Path templates;

    static byte[] ko(String name) { return ("\u007fELF fake module " + name + "\n").getBytes(StandardCharsets.UTF_8); }

    @BeforeEach
    void fakeImage() throws IOException {
        image = dir.resolve("image");
        Path mods = Files.createDirectories(image.resolve("lib/modules/" + KV));
        Files.writeString(mods.resolve("modules.dep"), """
                kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.zst kernel/net/core/failover.ko
                kernel/drivers/net/net_failover.ko.zst: kernel/net/core/failover.ko
                kernel/net/core/failover.ko:
                kernel/drivers/block/aoe/aoe.ko.gz:
                kernel/drivers/net/ethernet/intel/e1000/e1000.ko:
                """);
        write(mods.resolve("kernel/drivers/net/virtio_net.ko.xz"), ko("virtio_net"), out -> new XZOutputStream(out, new LZMA2Options()));
        write(mods.resolve("kernel/drivers/net/net_failover.ko.zst"), ko("net_failover"), ZstdOutputStream::new);
        write(mods.resolve("kernel/net/core/failover.ko"), ko("failover"), out -> out);
        write(mods.resolve("kernel/drivers/block/aoe/aoe.ko.gz"), ko("aoe"), GZIPOutputStream::new);
        write(mods.resolve("kernel/drivers/net/ethernet/intel/e1000/e1000.ko"), ko("e1000"), out -> out);
        busybox = Files.writeString(dir.resolve("busybox"), "fake busybox\n");
        templates = dir.resolve("initrd-templates");
    }

    interface Wrap { OutputStream wrap(OutputStream out) throws IOException; }

    static void write(Path file, byte[] content, Wrap wrap) throws IOException {
        Files.createDirectories(file.getParent());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = wrap.wrap(bytes)) {
            out.write(content);
        }
        Files.write(file, bytes.toByteArray());
    }

    InitrdBuilder builder() {
        return new InitrdBuilder(new Templates(templates, "/initrd-templates", Duration.ZERO), busybox);
    }

    /** gzip -dc | cpio -idmv into a fresh directory. */
    Path unpack(Initrd initrd) throws Exception {
        Path archive = Files.write(dir.resolve("initrd.img"), initrd.bytes());
        Path out = Files.createDirectories(dir.resolve("unpacked-" + System.nanoTime()));
        Process p = new ProcessBuilder("sh", "-c", "gzip -dc '" + archive + "' | cpio -idmv --no-absolute-filenames")
                .directory(out.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
        return out;
    }

    @Test
    void packsInitModulesWithTheirDependenciesDecompressedAndDeviceNodes() throws Exception {
        Path root = unpack(builder().build("demo", image));
        String modules = "lib/modules/" + KV + "/kernel/";

        assertThat(Files.readString(root.resolve("bin/busybox"))).isEqualTo("fake busybox\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("bin/busybox")))).isEqualTo("rwxr-xr-x");
        assertThat(Files.readSymbolicLink(root.resolve("bin/sh"))).isEqualTo(Path.of("busybox"));
        assertThat(Files.readAllBytes(root.resolve(modules + "drivers/net/virtio_net.ko"))).isEqualTo(ko("virtio_net"));
        assertThat(Files.readAllBytes(root.resolve(modules + "drivers/net/net_failover.ko"))).isEqualTo(ko("net_failover"));
        assertThat(Files.readAllBytes(root.resolve(modules + "net/core/failover.ko"))).isEqualTo(ko("failover"));
        assertThat(Files.readAllBytes(root.resolve(modules + "drivers/block/aoe/aoe.ko"))).isEqualTo(ko("aoe"));
        assertThat(root.resolve(modules + "drivers/net/virtio_net.ko.xz")).doesNotExist();
        assertThat((Integer) Files.getAttribute(root.resolve("tmp"), "unix:mode") & 07777).isEqualTo(01777);

        Path console = root.resolve("dev/console");
        assertThat((Integer) Files.getAttribute(console, "unix:mode") & 0170000).isEqualTo(0020000); // character device
        long rdev = (Long) Files.getAttribute(console, "unix:rdev");
        assertThat(rdev >> 8 & 0xfff).isEqualTo(5);
        assertThat(rdev & 0xff).isEqualTo(1);

        Path init = root.resolve("init");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(init))).isEqualTo("rwxr-xr-x");
        String script = Files.readString(init);
        // Dependencies first, each once; optional NIC drivers the image lacks are left out, ones it has are in.
        String failover = "load nic failover /" + modules + "net/core/failover.ko";
        String netFailover = "load nic net_failover /" + modules + "drivers/net/net_failover.ko";
        String virtio = "load nic virtio_net /" + modules + "drivers/net/virtio_net.ko";
        assertThat(script).contains(failover, netFailover, virtio, "load nic e1000 /", "load aoe aoe /" + modules + "drivers/block/aoe/aoe.ko aoe_iflist=\"$NIC\"");
        assertThat(script.indexOf(failover)).isLessThan(script.indexOf(netFailover));
        assertThat(script.indexOf(netFailover)).isLessThan(script.indexOf(virtio));
        assertThat(script.indexOf(virtio)).isLessThan(script.indexOf("link up on")).isLessThan(script.indexOf("load aoe aoe"));
        assertThat(script).doesNotContain("[=", "<#", "igb", "r8169").contains("image demo, kernel " + KV, "exec switch_root /newroot");
        // Failover (docs/replication.md): the driver never gives up on a silent server unless told otherwise, and says so.
        assertThat(script).contains("AOE_DEADSECS=0", "netboot.aoedeadsecs=*)", "aoe_iflist=\"$NIC\" aoe_deadsecs=\"$AOE_DEADSECS\"",
                "> /sys/module/aoe/parameters/aoe_deadsecs", "say \"aoe_deadsecs=0: the AoE disk is never given up on");
    }

    @Test
    void renderedInitIsValidBusyboxShell() throws Exception {
        Path root = unpack(builder().build("demo", image));
        Process p = new ProcessBuilder("busybox", "sh", "-n", root.resolve("init").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    @Test
    void cachedPerImageUntilATemplateOrSourceChanges() throws Exception {
        InitrdBuilder builder = builder();
        Initrd first = builder.build("demo", image);
        assertThat(builder.build("demo", image)).isSameAs(first);

        Files.createDirectories(templates);
        Files.writeString(templates.resolve("init.ftl"), "#!/bin/sh\necho site init for [=image]\n");
        Initrd edited = builder.build("demo", image);
        assertThat(edited.hash()).isNotEqualTo(first.hash());
        assertThat(Files.readString(unpack(edited).resolve("init"))).isEqualTo("#!/bin/sh\necho site init for demo\n");

        Files.writeString(busybox, "a newer fake busybox\n");
        assertThat(builder.build("demo", image).hash()).isNotEqualTo(edited.hash());
    }

    @Test
    void busyboxComesFromTheImageWhenNoneIsConfigured() throws Exception {
        Files.delete(busybox);
        assertThatThrownBy(() -> builder().build("demo", image)).hasMessageContaining("no busybox", "initrd.busybox");
        Files.createDirectories(image.resolve("usr/bin"));
        Files.writeString(image.resolve("usr/bin/busybox"), "the image's busybox\n");
        assertThat(Files.readString(unpack(builder().build("demo", image)).resolve("bin/busybox"))).isEqualTo("the image's busybox\n");
    }

    @Test
    void clientsAskingTogetherShareOneBuild() throws Exception {
        InitrdBuilder builder = builder();
        List<java.util.concurrent.Future<Initrd>> builds = new java.util.ArrayList<>();
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 8; i++) builds.add(pool.submit(() -> builder.build("demo", image)));
        }
        Initrd first = builds.getFirst().get();
        for (var b : builds) assertThat(b.get()).isSameAs(first);
    }

    @Test
    void sameRecipeGivesTheSameBytes() throws Exception {
        assertThat(builder().build("demo", image).bytes()).isEqualTo(builder().build("demo", image).bytes());
    }

    @Test
    void missingRequiredModuleIsAClearError() throws Exception {
        Files.createDirectories(templates);
        Files.writeString(templates.resolve("files.ftl"), "module aoe aoe\nmodule nic ixgbe\n");
        assertThatThrownBy(() -> builder().build("demo", image)).hasMessageContaining("module ixgbe (requested) is not in modules.dep");
    }

    @Test
    void badFileListLineNamesItsLine() throws Exception {
        Files.createDirectories(templates);
        Files.writeString(templates.resolve("files.ftl"), "dir /proc 0755\nfile /bin/busybox\n");
        assertThatThrownBy(() -> builder().build("demo", image)).hasMessageContaining("files.ftl line 2", "file NAME SOURCE MODE");
    }

    @Test
    void modulesDepResolvesChainsAndRefusesCycles() throws Exception {
        ModulesDep dep = ModulesDep.parse(List.of("a.ko: b.ko.xz c.ko", "b.ko.xz: c.ko", "c.ko:", "x-y.ko.zst: z.ko", "z.ko: x_y.ko.zst"), "test");
        assertThat(dep.resolve(List.of("a", "c")).stream().map(ModulesDep.Module::name)).containsExactly("c", "b", "a");
        assertThatThrownBy(() -> dep.resolve(List.of("x-y"))).hasMessageContaining("cycle");
    }
}
