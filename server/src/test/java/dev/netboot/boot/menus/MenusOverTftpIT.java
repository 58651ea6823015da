package dev.netboot.boot.menus;

import dev.netboot.app.BootServerLab;
import dev.netboot.testlib.CommandResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Menus rendered per client, and the kernel and initrd they name, fetched by real clients (curl) over TFTP and HTTP from a namespace. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MenusOverTftpIT {

    private static final Duration T = Duration.ofSeconds(30);
    BootServerLab lab;
    Path menus;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        menus = Files.createDirectories(dir.resolve("pxe-menus"));
        Files.writeString(menus.resolve("grub.cfg.ftl"), "# site grub for [=mac]\n");
        Path image = dir.resolve("images/demo");
        Files.createDirectories(image.resolve("boot"));
        Files.writeString(image.resolve("boot/vmlinuz-6.1.0-test"), "fake kernel\n");
        Path modules = Files.createDirectories(image.resolve("lib/modules/6.1.0-test/kernel"));
        Files.writeString(modules.resolveSibling("modules.dep"), "kernel/aoe.ko:\nkernel/virtio_net.ko:\n");
        Files.writeString(modules.resolve("aoe.ko"), "fake aoe\n");
        Files.writeString(modules.resolve("virtio_net.ko"), "fake virtio_net\n");
        Path busybox = Files.writeString(dir.resolve("busybox"), "fake busybox\n");
        // The root's own grub.cfg loses to the generated one only because it is listed in files.generatedFirst.
        // The operator's own files under generated names: the boot root was filled before the server started.
        Files.createDirectories(dir.resolve("data/boot/pxelinux.cfg"));
        Files.writeString(dir.resolve("data/boot/pxelinux.cfg/default"), "DEFAULT site-menu\n");
        Files.writeString(dir.resolve("data/boot/grub.cfg"), "# the root's grub.cfg\n");
        lab = new BootServerLab(dir, List.of("menus.dir=" + menus, "menus.kernelArgs=console=ttyS0", "files.generatedFirst=[grub.cfg]",
                "initrd.busybox=" + busybox, "initrd.templates=" + dir.resolve("no-initrd-templates")));
        var inventory = lab.appliance.inventory();
        inventory.addClient("aa:bb:cc:dd:ee:ff", "node1", "");
        long imageId = inventory.addImage("demo", image.toString(), "", Instant.now());
        long disk = inventory.addDisk("node1-disk", imageId, dir.resolve("disks/node1").toString(), 1 << 20, Instant.now());
        inventory.assign("aa:bb:cc:dd:ee:ff", imageId, disk, 1, 2);
        Files.writeString(lab.root.resolve("hello.txt"), "plain file\n");
    }

    @AfterAll
    void stop() {
        if (lab != null) lab.close();
    }

    private CommandResult curl(String url) {
        return lab.run(T, "curl", "-sS", "--fail", url);
    }

    @Test
    void pxelinuxMenuOverTftpIsRenderedForThatMac() {
        CommandResult r = curl(lab.tftpUrl("pxelinux.cfg/01-aa-bb-cc-dd-ee-ff"));
        assertThat(r.stdout()).contains("KERNEL images/demo/vmlinuz", "INITRD images/demo/initrd.img",
                "APPEND netboot.mac=aa:bb:cc:dd:ee:ff netboot.aoe=1.2 rw console=ttyS0");
        assertThat(curl(lab.tftpUrl("hello.txt")).stdout()).isEqualTo("plain file\n");
    }

    @Test
    void theOperatorsFileOfAGeneratedNameWinsUnlessListedInGeneratedFirst() {
        assertThat(curl(lab.tftpUrl("pxelinux.cfg/default")).stdout()).isEqualTo("DEFAULT site-menu\n");
        assertThat(curl(lab.httpUrl("pxelinux.cfg/default")).stdout()).isEqualTo("DEFAULT site-menu\n");
        assertThat(curl(lab.tftpUrl("grub.cfg")).stdout()).isEqualTo("# site grub for \n");
    }

    @Test
    void unknownMacGetsTheWaitMenu() {
        assertThat(curl(lab.tftpUrl("pxelinux.cfg/01-52-54-00-00-00-09")).stdout())
                .contains("this PC (52:54:00:00:00:09) has no image assigned yet", "KERNEL pxelinux.0");
    }

    @Test
    void operatorsGrubTemplateIsUsed() {
        assertThat(curl(lab.tftpUrl("grub/grub.cfg-01-aa-bb-cc-dd-ee-ff")).stdout()).isEqualTo("# site grub for aa:bb:cc:dd:ee:ff\n");
    }

    @Test
    void ipxeScriptOverHttp() {
        assertThat(curl(lab.httpUrl("ipxe/aa-bb-cc-dd-ee-ff.ipxe")).stdout())
                .startsWith("#!ipxe").contains("kernel ../images/demo/vmlinuz initrd=initrd.img netboot.mac=aa:bb:cc:dd:ee:ff netboot.aoe=1.2");
        assertThat(curl(lab.tftpUrl("ipxe/aa-bb-cc-dd-ee-ff.ipxe")).stdout()).contains("kernel ../images/demo/vmlinuz");
        assertThat(curl(lab.httpUrl("boot.ipxe")).stdout()).contains("chain --replace ipxe/${netX/mac:hexhyp}.ipxe");
    }

    @Test
    void theKernelAndInitrdTheMenuNamesAreServed() throws Exception {
        assertThat(curl(lab.tftpUrl("images/demo/vmlinuz")).stdout()).isEqualTo("fake kernel\n");
        Path initrd = lab.work.resolve("initrd.img");
        lab.run(T, "curl", "-sS", "--fail", "-o", initrd.toString(), lab.httpUrl("images/demo/initrd.img")).stdout();
        Path unpacked = Files.createDirectories(lab.work.resolve("initrd"));
        CommandResult cpio = lab.run(T, "sh", "-c", "cd " + unpacked + " && gzip -dc " + initrd + " | cpio -idm");
        assertThat(cpio.ok()).as(cpio.stderr()).isTrue();
        assertThat(Files.readString(unpacked.resolve("init"))).contains("load aoe aoe /lib/modules/6.1.0-test/kernel/aoe.ko", "image demo");
        assertThat(Files.readString(unpacked.resolve("bin/busybox"))).isEqualTo("fake busybox\n");
        assertThat(curl(lab.httpUrl("images/nosuch/initrd.img")).exitCode()).isNotZero();
    }
}
