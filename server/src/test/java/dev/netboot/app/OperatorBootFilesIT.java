package dev.netboot.app;

import dev.netboot.aoe.GuestImage;
import dev.netboot.demo.QemuClient;
import dev.netboot.images.ImageLibrary;
import dev.netboot.storage.Progress;
import dev.netboot.testlib.NetLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a new operator tries first, with our server as the only one on the network (full DHCP on a lab
 * bridge) and a qemu PC with Debian's iPXE ROM, everything over TFTP (HTTP is off):
 * <ul>
 * <li>a boot root holding the operator's own {@code boot.ipxe}, kernel and initrd, and a disk exported
 * with {@code netboot disk export} to the PC's MAC: the PC runs the operator's script (not our generated
 * one of the same name), and the operator's initrd writes a marker onto the AoE disk;</li>
 * <li>our generated menus fetched over TFTP only: the PC first waits with no image (its console says so
 * and how to assign one), is given one with {@code netboot clone}, and boots it at its next ask.</li>
 * </ul>
 */
class OperatorBootFilesIT {

    static final String MAC = "52:54:00:12:34:56";
    static final String MARKER = "OPERATOR-INITRD-WAS-HERE mac=";

    @TempDir Path tmp;

    /** The boot lab with TFTP on a free port and HTTP off: iPXE fetches its script, and so every relative path in it, over TFTP. */
    BootLab lab(List<String> extra) throws Exception {
        int tftpPort = NetLab.freeUdpPort();
        List<String> settings = new ArrayList<>(List.of("tftp.port=" + tftpPort, "http.enabled=false",
                "boot.ipxeScriptUrl=tftp://${server}:" + tftpPort + "/boot.ipxe"));
        settings.addAll(extra);
        return new BootLab(tmp, settings);
    }

    // no_timer_check: on a heavily loaded host a TCG guest's kernel can misjudge its IO-APIC timer and panic
    // ("IO-APIC + timer doesn't work"); the check is for real hardware, so the PCs here skip it.
    @Test
    void theOperatorsOwnBootIpxeKernelAndInitrdBootOverTftpAndWriteOnTheExportedDisk() throws Exception {
        Path kernelRoot = GuestImage.debianKernel();
        Path root = Files.createDirectories(tmp.resolve("data/boot/kernels"));
        Files.copy(GuestImage.vmlinuz(kernelRoot), root.resolve("vmlinuz"));
        markerInitrd(kernelRoot, GuestImage.staticBusybox(), root.resolve("initrd.img"));
        // The operator's own script, under the name our generated one has: theirs must be what the PC runs.
        Files.writeString(tmp.resolve("data/boot/boot.ipxe"), """
                #!ipxe
                echo operator's own boot.ipxe
                kernel kernels/vmlinuz console=ttyS0 panic=-1 no_timer_check marker.mac=${net0/mac}
                initrd kernels/initrd.img
                boot
                """);
        Path disk = tmp.resolve("pc-disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(16 << 20);
        }

        try (BootLab lab = lab(List.of())) {
            String[] export = lab.cli("disk", "export", "1.0", disk.toString(), "--allow", MAC);
            assertThat(export[0]).as(export[1]).contains("exported e1.0");
            try (Appliance appliance = lab.start(); QemuClient pc = lab.pc(MAC)) {
                boolean off = pc.awaitPowerOff(Duration.ofMinutes(4));
                String console = pc.console();
                assertThat(off).as("the PC powered off by itself\n" + console).isTrue();
                assertThat(console).as(console).contains("operator's own boot.ipxe", "MARKER-WRITTEN").doesNotContain("ipxe/52-54-00-12-34-56.ipxe");
            }
        }
        byte[] head = new byte[MARKER.length() + MAC.length()];
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "r")) {
            f.readFully(head);
        }
        assertThat(new String(head, StandardCharsets.US_ASCII)).as("what the operator's initrd wrote on the AoE disk").isEqualTo(MARKER + MAC);
    }

    @Test
    void generatedMenusOverTftpOnlyTellTheWaitingPcWhatToDoThenBootItsImage() throws Exception {
        Path rootfs = tmp.resolve("rootfs");
        EndToEndBootIT.run(Duration.ofMinutes(5), "../images/demo/build.sh", rootfs.toString());
        try (BootLab lab = lab(List.of("initrd.busybox=/bin/busybox", "menus.retrySeconds=3",
                "menus.kernelArgs=console=ttyS0 panic=-1 no_timer_check netboot.demo=poweroff"))) {
            try (Appliance appliance = lab.start()) {
                new ImageLibrary(appliance.inventory(), tmp.resolve("data"), Clock.systemUTC())
                        .importImage("demo", rootfs, OptionalLong.empty(), "the demo image", Progress.NONE);
                try (QemuClient pc = lab.pc(MAC)) {
                    // No image yet: the console says what the PC waits for and how to give it one (HTTP is off: the CLI).
                    // Wait for the whole message: the console is read while iPXE is still printing it.
                    boolean told = pc.await(Duration.ofMinutes(2), c -> c.contains("netboot clone IMAGE --to " + MAC)
                            && c.contains("asking again every 3 s"));
                    assertThat(told).as(pc.console()).isTrue();
                    assertThat(pc.console()).contains("this PC (" + MAC + ") has no image assigned yet", "asking again every 3 s");

                    String[] clone = lab.cli("clone", "demo", "--to", MAC);
                    assertThat(clone[0]).as(clone[1]).contains("client " + MAC + ": image demo");
                    boolean off = pc.awaitPowerOff(Duration.ofMinutes(4));
                    String console = pc.console();
                    assertThat(off).as("the PC powered off by itself\n" + console).isTrue();
                    assertThat(console).as(console).contains("netboot: " + MAC + " boots image demo", "NETBOOT-DEMO-BOOTED mac=" + MAC,
                            "NETBOOT-DEMO-POWEROFF");
                }
                // HTTP is off: the kernel and initrd came over TFTP, and no TFTP request was refused on the way.
                assertThat(appliance.registry().get("netboot.tftp.sent").counter().count()).isGreaterThan(4 << 20);
                assertThat(appliance.registry().get("netboot.tftp.transfers").tag("result", "refused").counter().count()).isZero();
                assertThat(appliance.registry().get("netboot.tftp.transfers").tag("result", "not-found").counter().count()).isZero();
            }
        }
    }

    /**
     * The operator's initrd: busybox, the virtio NIC and aoe modules, and an init that writes a marker at the
     * start of its AoE disk (e1.0), says so, and powers off.
     */
    static void markerInitrd(Path kernel, Path busybox, Path initrd) throws Exception {
        List<Path> modules = new ArrayList<>();
        for (String m : List.of("virtio_pci", "virtio_net", "aoe"))
            for (Path p : GuestImage.moduleWithDependencies(kernel, m)) if (!modules.contains(p)) modules.add(p);
        try (GuestImage.Cpio cpio = new GuestImage.Cpio(initrd)) {
            for (String d : List.of("bin", "sbin", "proc", "sys", "dev", "tmp", "mods")) cpio.dir(d);
            cpio.file("bin/busybox", busybox, true);
            StringBuilder insmods = new StringBuilder();
            for (Path ko : modules) {
                String name = ko.getFileName().toString();
                cpio.file("mods/" + name, ko, false);
                if (!name.equals("aoe.ko")) insmods.append("insmod /mods/").append(name).append(" || echo MARKER-FAIL insmod ").append(name).append('\n');
            }
            cpio.file("init", """
                    #!/bin/busybox sh
                    /bin/busybox --install -s /bin
                    export PATH=/bin:/sbin
                    mount -t proc proc /proc
                    mount -t sysfs sys /sys
                    mount -t devtmpfs dev /dev
                    %s
                    mac=unknown
                    for arg in $(cat /proc/cmdline); do case "$arg" in marker.mac=*) mac=${arg#marker.mac=} ;; esac; done
                    ip link set eth0 up
                    sleep 1
                    insmod /mods/aoe.ko
                    i=0
                    while [ ! -b /dev/etherd/e1.0 ] && [ $i -lt 150 ]; do
                      sleep 0.2; i=$((i+1))
                      [ $((i %% 10)) = 0 ] && echo discover > /dev/etherd/discover
                    done
                    printf '%s%%s' "$mac" | dd of=/dev/etherd/e1.0 conv=fsync 2>/dev/null && echo MARKER-WRITTEN || echo MARKER-FAIL write
                    sync
                    poweroff -f
                    """.formatted(insmods, MARKER).getBytes(StandardCharsets.US_ASCII), true);
        }
    }
}
