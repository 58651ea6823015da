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

/** Menus rendered per client, fetched by real clients (curl) over TFTP and HTTP from a namespace. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MenusOverTftpIT {

    private static final Duration T = Duration.ofSeconds(30);
    BootServerLab lab;
    Path menus;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        menus = Files.createDirectories(dir.resolve("pxe-menus"));
        Files.writeString(menus.resolve("grub.cfg.ftl"), "# site grub for [=mac]\n");
        lab = new BootServerLab(dir, List.of("menus.dir=" + menus, "menus.kernelArgs=console=ttyS0"));
        var inventory = lab.appliance.inventory();
        inventory.addClient("aa:bb:cc:dd:ee:ff", "node1", "");
        long image = inventory.addImage("demo", dir.resolve("images/demo").toString(), "", Instant.now());
        long disk = inventory.addDisk("node1-disk", image, dir.resolve("disks/node1").toString(), 1 << 20, Instant.now());
        inventory.assign("aa:bb:cc:dd:ee:ff", image, disk, 1, 2);
        // A file of the same name in the TFTP root loses to the generated menu; other files are still served.
        lab.bootFile("pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", 100);
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
    void unknownMacGetsTheWaitMenu() {
        assertThat(curl(lab.tftpUrl("pxelinux.cfg/01-52-54-00-00-00-09")).stdout())
                .contains("no image is assigned to 52:54:00:00:00:09", "KERNEL pxelinux.0");
    }

    @Test
    void operatorsGrubTemplateIsUsed() {
        assertThat(curl(lab.tftpUrl("grub/grub.cfg-01-aa-bb-cc-dd-ee-ff")).stdout()).isEqualTo("# site grub for aa:bb:cc:dd:ee:ff\n");
    }

    @Test
    void ipxeScriptOverHttp() {
        assertThat(curl(lab.httpUrl("ipxe/aa-bb-cc-dd-ee-ff.ipxe")).stdout())
                .startsWith("#!ipxe").contains("kernel /boot/images/demo/vmlinuz netboot.mac=aa:bb:cc:dd:ee:ff netboot.aoe=1.2");
        assertThat(curl(lab.httpUrl("boot.ipxe")).stdout()).contains("chain --replace /boot/ipxe/${netX/mac:hexhyp}.ipxe");
    }
}
