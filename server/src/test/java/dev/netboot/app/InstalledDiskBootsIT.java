package dev.netboot.app;

import dev.netboot.aoe.GuestImage;
import dev.netboot.cli.CliRun;
import dev.netboot.demo.QemuClient;
import dev.netboot.images.InstalledDisk;
import dev.netboot.inventory.Image;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.testlib.NetLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The "after" half of an install, for real: a PC in installer mode boots an "installer" (Debian's kernel,
 * a busybox initrd, and the appliance's appended AoE cpio, whose start-up hook finds the disk as it does
 * for Debian's installer) that writes a disk laid out as an installer leaves one (GPT, an ESP, the root on
 * partition 2 with its own kernel in /boot and nothing about AoE in it) onto its AoE disk and powers off.
 * Powered on again, the PC boots that system over AoE to its marker: kernel and modules read out of its
 * own disk, the initrd built from them, the root found on p2. {@code image capture} is refused while its
 * disk was just written, then turns the disk into an image that a second PC is cloned from and boots.
 */
class InstalledDiskBootsIT {

    static final String PC = "52:54:00:e2:15:11";
    static final String SECOND = "52:54:00:e2:15:12";

    @TempDir Path tmp;

    @Test
    void anInstalledDiskBootsOverAoeAndIsCapturedIntoAnImageAnotherPcBoots() throws Exception {
        Path rootfs = tmp.resolve("rootfs");
        EndToEndBootIT.run(Duration.ofMinutes(5), "../images/demo/build.sh", rootfs.toString());
        Path kernelRoot = GuestImage.debianKernel();
        Path writerInitrd = tmp.resolve("writer.cpio");
        int httpPort = NetLab.freeTcpPort();
        Path defs = Files.createDirectories(tmp.resolve("installers"));

        try (BootLab lab = new BootLab(tmp, List.of("tftp.enabled=false", "http.port=" + httpPort,
                "boot.ipxeScriptUrl=http://${server}:" + httpPort + "/boot/boot.ipxe", "installers.dir=" + defs,
                "initrd.busybox=" + GuestImage.staticBusybox(),
                "menus.kernelArgs=console=ttyS0 panic=-1 no_timer_check netboot.demo=poweroff"))) {
            Path boot = Files.createDirectories(lab.data.resolve("boot"));
            InstalledDisk.gptEspAndRoot(rootfs, boot.resolve("installed.raw"));
            String prefix = lab.bridge.subnet().dottedPrefix();
            writer(kernelRoot, writerInitrd, "http://" + lab.server + ":" + httpPort + "/boot/installed.raw", prefix + "200/24");
            Files.writeString(defs.resolve("writer.properties"), """
                    title=writes an installed system's disk onto the client's AoE disk
                    kernel=%s
                    initrd=%s
                    modules=%s
                    cmdline=console=ttyS0 panic=-1 no_timer_check
                    """.formatted(GuestImage.vmlinuz(kernelRoot), writerInitrd, kernelRoot));
            try (Appliance appliance = lab.start()) {
                lab.cli("client", "install", PC, "--installer", "writer", "--size", "256M");
                try (QemuClient pc = lab.pc(PC)) {
                    boolean off = pc.awaitPowerOff(Duration.ofMinutes(3));
                    String console = pc.console();
                    assertThat(off).as(console).isTrue();
                    assertThat(console).as(console).contains("netboot: AoE disk /dev/etherd/e1.0 is here (256 MiB)", "NB-WRITER-DONE")
                            .doesNotContain("NB-FAIL");
                }
                // Powered on again: the installer's reboot. It boots what is on its disk now.
                try (QemuClient pc = lab.pc(PC)) {
                    boolean off = pc.awaitPowerOff(Duration.ofMinutes(3));
                    String console = pc.console();
                    assertThat(off).as(console).isTrue();
                    assertThat(console).as(console).contains("boots image installed-525400e21511",
                            "netboot: mounting /dev/etherd/e1.0p2", "NETBOOT-DEMO-BOOTED mac=" + PC).doesNotContain("installer writer");
                    System.out.printf("installed system booted to its marker %.1f s after power-on%n", pc.secondsUntil("NETBOOT-DEMO-BOOTED").orElse(Double.NaN));
                }
                assertThat(appliance.inventory().installMode(PC)).as("installer mode is over").isEmpty();

                // It just used its disk: a capture now is refused, and nothing is made. Which sign says so first
                // depends on timing: the AoE server's record of its frames (published every 5 s) or its disk files' write time.
                CliRun refused = cli(lab, "image", "capture", PC, "installed");
                assertThat(refused.exit()).as(refused.out() + refused.err()).isEqualTo(1);
                assertThat(refused.err()).containsAnyOf("client " + PC + " wrote to its disk", "client " + PC + " used its disk over AoE")
                        .contains("it is running");
                assertThat(appliance.inventory().image("installed")).isEmpty();

                // A minute later (the PC is off): the disk's files say when they were last written.
                Path disk = Path.of(appliance.inventory().diskOf(PC).orElseThrow().path());
                FileTime before = FileTime.from(Instant.now().minusSeconds(120));
                Files.setLastModifiedTime(disk, before);
                Files.setLastModifiedTime(CowBlockStore.sidecarOf(disk), before);
                // ... and the AoE server last heard the PC two minutes ago (it sends nothing more: it is off). The
                // server publishes its record every 5 s when it changed: wait until its last one is out (the file
                // stays the same for a whole period), or it would overwrite the aged record written here.
                var activity = new dev.netboot.disks.AoeActivity(lab.data);
                for (String seen = "", now = read(activity.file()); !now.equals(seen); seen = now, now = read(activity.file())) Thread.sleep(6_000);
                activity.write(java.util.Map.of(
                        dev.netboot.aoe.TargetAddress.parse(appliance.inventory().aoeAddress(PC).orElseThrow()), before.toInstant()));
                String[] captured = lab.cli("image", "capture", PC, "installed");
                assertThat(captured[0]).contains("image installed captured from client " + PC);
                Image image = appliance.inventory().image("installed").orElseThrow();
                assertThat(image.source()).isEqualTo("client " + PC + " disk client-525400e21511");

                lab.cli("clone", "installed", "--to", SECOND);
                try (QemuClient second = lab.pc(SECOND)) {
                    boolean off = second.awaitPowerOff(Duration.ofMinutes(3));
                    String console = second.console();
                    assertThat(off).as(console).isTrue();
                    assertThat(console).as(console).contains("boots image installed from AoE",
                            "netboot: mounting /dev/etherd/e1.1p2", "NETBOOT-DEMO-BOOTED mac=" + SECOND);
                }
            }
        }
    }

    private static CliRun cli(BootLab lab, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", lab.config.toString()));
        for (String s : lab.settings()) all.addAll(List.of("--set", s));
        return CliRun.netboot(all);
    }

    /**
     * The "installer": busybox, the NIC's modules, and an init that runs the start-up hooks an installer's
     * initrd has (ours is appended by the appliance), waits for the AoE disk, then copies the installed
     * system's disk from the server onto it and powers off.
     */
    static void writer(Path kernelRoot, Path initrd, String url, String address) throws Exception {
        List<Path> modules = new ArrayList<>();
        for (String m : List.of("virtio_pci", "virtio_net"))
            for (Path p : GuestImage.moduleWithDependencies(kernelRoot, m)) if (!modules.contains(p)) modules.add(p);
        try (GuestImage.Cpio cpio = new GuestImage.Cpio(initrd)) {
            for (String d : List.of("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "mods")) cpio.dir(d);
            cpio.file("bin/busybox", GuestImage.staticBusybox(), true);
            StringBuilder insmods = new StringBuilder();
            for (Path ko : modules) {
                cpio.file("mods/" + ko.getFileName(), ko, false);
                insmods.append("insmod /mods/").append(ko.getFileName()).append(" || echo NB-FAIL insmod ").append(ko.getFileName()).append('\n');
            }
            cpio.file("init", """
                    #!/bin/busybox sh
                    /bin/busybox --install -s /bin
                    export PATH=/bin
                    mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
                    %s
                    for s in /lib/debian-installer-startup.d/S*; do [ -x "$s" ] && "$s"; done
                    i=0; while [ ! -b /dev/etherd/e1.0 ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
                    [ -b /dev/etherd/e1.0 ] || { echo NB-FAIL no AoE disk; poweroff -f; }
                    mac=$(sed -n 's/.*netboot.mac=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
                    for d in /sys/class/net/*; do [ "$(cat $d/address)" = "$mac" ] && nic=${d##*/}; done
                    ip addr add %s dev $nic
                    wget -q -O - %s | dd of=/dev/etherd/e1.0 bs=1M conv=fsync 2>/dev/null || echo NB-FAIL copy
                    sync
                    echo NB-WRITER-DONE
                    poweroff -f
                    """.formatted(insmods, address, url).getBytes(StandardCharsets.US_ASCII), true);
        }
    }

    private static String read(Path file) throws java.io.IOException {
        return Files.exists(file) ? Files.readString(file) : "";
    }
}
