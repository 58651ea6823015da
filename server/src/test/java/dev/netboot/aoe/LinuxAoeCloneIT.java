package dev.netboot.aoe;

import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.storage.Flattener;
import dev.netboot.testlib.NetLab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
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
 * The Linux aoe driver (qemu TCG guest) on a copy-on-write clone of an ext4 image: it mounts the
 * base's file system, writes files, reads them back after dropping its caches. The host then finds
 * the base unchanged, a second clone of it unaffected, the clone holding only what was written,
 * and after a flatten the client's files in a plain image (debugfs).
 */
class LinuxAoeCloneIT {

    static final String GUEST_MAC = "52:54:00:a0:e0:02";

    @TempDir
    Path dir;
    NetLab lab;
    Appliance appliance;
    final List<String> console = new ArrayList<>();

    @AfterEach
    void cleanUp() throws IOException {
        if (appliance != null) appliance.close();
        if (lab != null) lab.close();
    }

    @Test
    void aLinuxClientUsesItsOwnCloneOfASharedImage() throws Exception {
        lab = NetLab.create();
        Path kernel = GuestImage.debianKernel();
        Path initrd = dir.resolve("initrd.gz");
        LinuxAoeGuestIT.buildInitramfs(kernel, GuestImage.staticBusybox(), initrd, LinuxAoeCloneIT::initScript);
        String tap = lab.tap(null).name();

        // The shared image: an ext4 file system with one file, made on the host.
        Path content = Files.createDirectories(dir.resolve("content"));
        Files.writeString(content.resolve("base.txt"), "from the base image\n");
        Path base = dir.resolve("images/debian.img");
        Files.createDirectories(base.getParent());
        HostCommands.Result mkfs = HostCommands.run("mke2fs", "-q", "-t", "ext4", "-d", content.toString(), base.toString(), "64M");
        assertThat(mkfs.exitCode()).as(mkfs.output()).isZero();
        byte[] baseBytes = Files.readAllBytes(base);

        Path dataDir = dir.resolve("data");
        Path mine = DiskCatalog.defaultImage(dataDir, new TargetAddress(7, 1));
        Path other = DiskCatalog.defaultImage(dataDir, new TargetAddress(7, 2));
        CowBlockStore.create(base, mine).close();
        CowBlockStore.create(base, other).close();
        new DiskCatalog(dataDir).add(new DiskEntry("7.1", mine.toString(), List.of(GUEST_MAC), false, false));
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
            for (String line; (line = out.readLine()) != null && System.nanoTime() < deadline; ) console.add(line);
        } finally {
            if (!qemu.waitFor(10, TimeUnit.SECONDS)) qemu.destroyForcibly().waitFor();
        }
        appliance.close(); // withdraws e7.1: flush and close the clone
        appliance = null;
        String log = String.join("\n", console);
        assertThat(log).as(log).contains("NB-DISCOVERED", "NB-BASE-OK", "NB-WRITES-OK", "NB-READBACK-OK").doesNotContain("NB-FAIL");

        assertThat(Arrays.equals(Files.readAllBytes(base), baseBytes)).as("the base is untouched").isTrue();
        try (CowBlockStore o = CowBlockStore.open(other, true, false)) {
            ByteBuffer all = ByteBuffer.allocate(baseBytes.length);
            o.read(0, all);
            assertThat(Arrays.equals(all.array(), baseBytes)).as("the other clone still shows the base").isTrue();
        }
        long allocated;
        try (CowBlockStore m = CowBlockStore.open(mine, true, false)) {
            allocated = m.allocatedBytes();
        }
        // 1 MiB of file data plus metadata and journal blocks, far from a copy of the 64 MiB image
        assertThat(allocated).isBetween(1L << 20, 24L << 20);

        Flattener.flatten(mine, (phase, done, total) -> {});
        assertThat(CowBlockStore.isClone(mine)).isFalse();
        assertThat(HostCommands.run("debugfs", "-R", "cat /client.txt", mine.toString()).output()).contains("written by the client");
        assertThat(HostCommands.run("debugfs", "-R", "cat /base.txt", mine.toString()).output()).contains("from the base image");
        System.out.printf("clone after the guest: %d KiB in the overlay of a %d MiB image%n", allocated >> 10, baseBytes.length >> 20);
    }

    private static String initScript(String insmods) {
        return """
                %s
                sleep 1
                mount -t ext4 /dev/etherd/e7.1 /mnt || echo NB-FAIL mount
                grep -q "from the base image" /mnt/base.txt && echo NB-BASE-OK || echo NB-FAIL base.txt
                echo "written by the client" > /mnt/client.txt
                yes NETBOOT-AOE-CLONE | head -c 1048576 > /tmp/p
                cp /tmp/p /mnt/blob
                umount /mnt && echo NB-WRITES-OK || echo NB-FAIL umount
                sync
                echo 3 > /proc/sys/vm/drop_caches
                mount -t ext4 /dev/etherd/e7.1 /mnt || echo NB-FAIL remount
                cmp /tmp/p /mnt/blob && grep -q "written by the client" /mnt/client.txt && echo NB-READBACK-OK || echo NB-FAIL readback
                umount /mnt
                sync
                poweroff -f
                """.formatted(LinuxAoeGuestIT.guestFindsE71(insmods));
    }
}
