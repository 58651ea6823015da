package dev.netboot.boot.initrd;

import dev.netboot.templates.Templates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged initrd on a real kernel: Debian's cloud kernel and its modules (the .deb unpacked as an
 * image tree, modules.dep by depmod) booted in qemu (TCG: KVM in the nested VMs we run on fails on the kernel's cmpxchg16b) with a virtio NIC. No AoE server answers here, so
 * the init must get as far as raising the NIC the MAC names, loading aoe and looking for the disk, and
 * then say why it gave up.
 */
class InitrdBootIT {

    private static final String MAC = "52:54:00:12:34:56";

    @TempDir Path dir;

    @Test
    void initRaisesTheBootNicLoadsAoeAndSaysWhyTheDiskDidNotAppear() throws Exception {
        Path image = DebianKernel.unpack(dir);
        String version = DebianKernel.version(image);
        Initrd initrd = new InitrdBuilder(new Templates(dir.resolve("none"), "/initrd-templates"), Path.of("/bin/busybox")).build("debian-cloud", image);
        Path initrdFile = Files.write(dir.resolve("initrd.img"), initrd.bytes());

        List<String> console = boot(image.resolve("boot/vmlinuz-" + version), initrdFile,
                "console=ttyS0 panic=-1 no_timer_check netboot.mac=" + MAC + " netboot.aoe=9.9 netboot.aoewait=2 netboot.aoetries=2",
                "FAILED:", Duration.ofMinutes(2));
        String text = String.join("\n", console);
        assertThat(text).containsPattern("netboot: booting from \\S+ \\(" + MAC + "\\)")
                .contains("netboot: link up on", "netboot: aoe_deadsecs=0: the AoE disk is never given up on", "netboot: looking for AoE disk e9.9", "(try 2 of 2, 2s each)",
                        "netboot: FAILED: AoE disk e9.9 did not appear after 2 tries")
                .doesNotContain("loading nic module", "loading aoe module");
    }

    private List<String> boot(Path kernel, Path initrd, String cmdline, String until, Duration timeout) throws Exception {
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-machine", "accel=tcg", "-cpu", "max", "-m", "256", "-nographic", "-no-reboot",
                "-kernel", kernel.toString(), "-initrd", initrd.toString(), "-append", cmdline,
                "-nic", "user,model=virtio-net-pci,mac=" + MAC).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                    if (line.contains(until)) break;
                }
            } catch (IOException ignored) {
                // qemu was stopped
            }
        });
        try {
            reader.join(timeout);
        } finally {
            qemu.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        synchronized (lines) {
            assertThat(lines).as("console until '%s':\n%s", until, String.join("\n", lines)).anyMatch(l -> l.contains(until));
            return List.copyOf(lines);
        }
    }

    static String run(Duration timeout, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)).as(String.join(" ", command)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ":\n" + out).isZero();
        return out;
    }
}
