package dev.netboot.aoe;

import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.storage.FileBlockStore;
import dev.netboot.testlib.NetLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Linux aoe driver (Debian's 6.1 kernel in a qemu TCG guest) against the appliance: discovery,
 * dd write/sync/read-back, mkfs.ext4 + mount + files, a second disk the guest's MAC may not see,
 * and a server restart while the guest is idle. The host then checks the backing file.
 */
class LinuxAoeGuestIT {

    static final String GUEST_MAC = "52:54:00:a0:e0:01";
    static final String OTHER_MAC = "52:54:00:a0:e0:99";
    static final int PATTERN_OFFSET_MIB = 48;

    @TempDir
    Path dir;
    NetLab lab;
    String tap;
    Appliance appliance;
    final List<String> console = new ArrayList<>();

    @AfterEach
    void cleanUp() throws IOException {
        if (appliance != null) appliance.close();
        if (lab != null) lab.close();
    }

    @Test
    void linuxAoeDriverWritesReadsMakesExt4AndSurvivesAServerRestart() throws Exception {
        lab = NetLab.create();

        Path kernel = GuestImage.debianKernel();
        Path busybox = GuestImage.staticBusybox();
        Path initrd = dir.resolve("initrd.gz");
        buildInitramfs(kernel, busybox, initrd);

        tap = lab.tap(null).name();

        Path dataDir = dir.resolve("data");
        DiskCatalog catalog = new DiskCatalog(dataDir);
        Path image = DiskCatalog.defaultImage(dataDir, new TargetAddress(7, 1));
        FileBlockStore.createSparse(image, 64L << 20).close();
        catalog.add(new DiskEntry("7.1", image.toString(), List.of(GUEST_MAC), false, false));
        Path hidden = DiskCatalog.defaultImage(dataDir, new TargetAddress(7, 2));
        FileBlockStore.createSparse(hidden, 8L << 20).close();
        catalog.add(new DiskEntry("7.2", hidden.toString(), List.of(OTHER_MAC), false, false));
        NetbootConfig config = ConfigLoader.load(Optional.empty(), List.of("dataDir=" + dataDir, "tftp.enabled=false",
                "http.enabled=false", "dhcp.mode=off", "aoe.interfaces=[" + tap + "]"));
        appliance = new Appliance(config).start();

        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-accel", "tcg", "-m", "384", "-smp", "1",
                "-kernel", GuestImage.vmlinuz(kernel).toString(), "-initrd", initrd.toString(),
                "-append", "console=ttyS0 panic=-1 loglevel=4",
                "-netdev", "tap,id=n0,ifname=" + tap + ",script=no,downscript=no",
                "-device", "e1000,netdev=n0,mac=" + GUEST_MAC,
                "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot")
                .redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            String line;
            while ((line = out.readLine()) != null) {
                console.add(line);
                if (line.contains("NB-PHASE1-DONE")) {
                    // The guest is idle now; take the server away while its next I/O is issued.
                    appliance.close();
                    appliance = null;
                }
                if (line.contains("NB-IO-ISSUED")) {
                    Thread.sleep(2000);
                    appliance = new Appliance(config).start();
                }
                if (System.nanoTime() > deadline) break;
            }
        } finally {
            if (!qemu.waitFor(10, TimeUnit.SECONDS)) qemu.destroyForcibly().waitFor();
        }
        String log = String.join("\n", console);
        assertThat(log).as(log).contains("NB-DISCOVERED").doesNotContain("NB-FAIL");
        assertThat(log).contains("NB-PATTERN-OK", "NB-EXT4-OK", "NB-AFTER-RESTART-OK");
        assertThat(log).as("the guest must not see the disk its MAC is not allowed for").contains("NB-DEVICES etherd!e7.1 END");

        // The host reads the same bytes from the backing file.
        byte[] pattern = pattern();
        byte[] onDisk = new byte[pattern.length];
        try (var ch = java.nio.channels.FileChannel.open(image)) {
            ch.read(java.nio.ByteBuffer.wrap(onDisk), (long) PATTERN_OFFSET_MIB << 20);
        }
        assertThat(Arrays.equals(onDisk, pattern)).as("pattern in the backing file").isTrue();
        HostCommands.Result cat = HostCommands.run("debugfs", "-R", "cat /hello.txt", image.toString());
        assertThat(cat.output()).contains("hello from the guest");
        // The hidden disk was never touched.
        assertThat(Files.readAllBytes(hidden)).containsOnly(0);
    }

    static byte[] pattern() {
        byte[] unit = "NETBOOT-AOE-PATTERN\n".getBytes(StandardCharsets.US_ASCII);
        byte[] p = new byte[1 << 20];
        for (int i = 0; i < p.length; i++) p[i] = unit[i % unit.length];
        return p;
    }

    private void buildInitramfs(Path kernel, Path busybox, Path initrd) throws IOException {
        buildInitramfs(kernel, busybox, initrd, LinuxAoeGuestIT::initScript);
    }

    /** busybox, mke2fs and the modules for e1000, aoe and ext4; {@code init} turns the insmod lines into /init. */
    static void buildInitramfs(Path kernel, Path busybox, Path initrd, java.util.function.Function<String, String> init) throws IOException {
        List<Path> modules = new ArrayList<>();
        for (String m : List.of("e1000", "aoe", "crc32c_generic", "ext4"))
            for (Path p : GuestImage.moduleWithDependencies(kernel, m)) if (!modules.contains(p)) modules.add(p);
        Path mke2fs = GuestImage.which("mke2fs").orElseThrow();
        try (GuestImage.Cpio cpio = new GuestImage.Cpio(initrd)) {
            for (String d : List.of("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "mnt", "lib", "lib64", "mods",
                    "lib/x86_64-linux-gnu", "usr", "usr/lib", "usr/lib/x86_64-linux-gnu")) cpio.dir(d);
            cpio.file("bin/busybox", busybox, true);
            cpio.file("sbin/mke2fs", mke2fs, true);
            if (Files.exists(Path.of("/etc/mke2fs.conf"))) cpio.file("etc/mke2fs.conf", Path.of("/etc/mke2fs.conf"), false);
            for (Path lib : GuestImage.librariesOf(mke2fs)) {
                Path real = lib.toRealPath();
                cpio.file(lib.toString().substring(1), real, true);
            }
            StringBuilder insmods = new StringBuilder();
            for (Path ko : modules) {
                String name = ko.getFileName().toString();
                cpio.file("mods/" + name, ko, false);
                insmods.append("insmod /mods/").append(name).append(" || echo NB-FAIL insmod ").append(name).append('\n');
            }
            cpio.file("init", init.apply(insmods.toString()).getBytes(StandardCharsets.US_ASCII), true);
        }
    }

    private static String initScript(String insmods) {
        int seek = PATTERN_OFFSET_MIB * 16; // in 64 KiB blocks
        return """
                %s
                sleep 2
                echo NB-DEVICES $(ls /sys/block | grep etherd) END
                yes NETBOOT-AOE-PATTERN | head -c 1048576 > /tmp/p
                dd if=/tmp/p of=/dev/etherd/e7.1 bs=65536 seek=%d conv=fsync 2>/dev/null
                sync
                echo 3 > /proc/sys/vm/drop_caches
                dd if=/dev/etherd/e7.1 of=/tmp/back bs=65536 skip=%d count=16 2>/dev/null
                cmp /tmp/p /tmp/back && echo NB-PATTERN-OK || echo NB-FAIL pattern
                /sbin/mke2fs -q -t ext4 -F /dev/etherd/e7.1 32M || echo NB-FAIL mke2fs
                mount -t ext4 /dev/etherd/e7.1 /mnt || echo NB-FAIL mount
                echo "hello from the guest" > /mnt/hello.txt
                cp /tmp/p /mnt/blob
                umount /mnt && echo NB-EXT4-OK
                sync
                echo NB-PHASE1-DONE
                sleep 2
                echo 3 > /proc/sys/vm/drop_caches
                echo NB-IO-ISSUED
                dd if=/dev/etherd/e7.1 of=/tmp/fs bs=65536 count=16 2>/dev/null && echo NB-AFTER-RESTART-READ
                mount -t ext4 /dev/etherd/e7.1 /mnt && cmp /tmp/p /mnt/blob && echo more >> /mnt/hello.txt && umount /mnt && echo NB-AFTER-RESTART-OK
                sync
                poweroff -f
                """.formatted(guestFindsE71(insmods), seek, seek);
    }

    /**
     * The start of a test guest's init: busybox, the NIC up, the aoe driver loaded (the modules in
     * {@code insmods} are loaded before aoe, which gets no retry) and e7.1 discovered within 30 s.
     */
    static String guestFindsE71(String insmods) {
        return """
                #!/bin/busybox sh
                /bin/busybox --install -s /bin
                export PATH=/bin:/sbin
                mount -t proc proc /proc
                mount -t sysfs sys /sys
                mount -t devtmpfs dev /dev
                %s
                ip link set eth0 up
                sleep 1
                insmod /mods/aoe.ko 2>/dev/null
                i=0
                while [ ! -b /dev/etherd/e7.1 ] && [ $i -lt 150 ]; do
                  sleep 0.2; i=$((i+1))
                  [ $((i %% 10)) = 0 ] && echo discover > /dev/etherd/discover
                done
                [ -b /dev/etherd/e7.1 ] && echo NB-DISCOVERED || { echo NB-FAIL no device; poweroff -f; }
                """.formatted(insmods.replace("insmod /mods/aoe.ko || echo NB-FAIL insmod aoe.ko\n", "")).stripTrailing();
    }
}
