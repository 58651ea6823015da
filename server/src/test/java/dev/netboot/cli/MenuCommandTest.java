package dev.netboot.cli;

import dev.netboot.inventory.Inventory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code netboot menu} and {@code netboot initrd}: what a client gets, shown to the operator editing templates. */
class MenuCommandTest {

    @TempDir Path dir;

    CliRun netboot(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--set", "dataDir=" + dir.resolve("data"), "--set", "menus.dir=" + dir.resolve("pxe-menus"),
                "--set", "initrd.templates=" + dir.resolve("initrd-templates"), "--set", "initrd.busybox=" + dir.resolve("busybox")));
        return CliRun.netboot(all);
    }

    @Test
    void menuShowsTheRenderedMenuOrTheTemplateFault() throws Exception {
        Path image = Files.createDirectories(dir.resolve("images/demo/lib/modules/6.1.0-x/kernel"));
        Files.writeString(image.resolveSibling("modules.dep"), "kernel/aoe.ko:\n");
        Files.writeString(image.resolve("aoe.ko"), "fake aoe\n");
        Files.writeString(dir.resolve("busybox"), "fake busybox\n");
        try (Inventory inventory = Inventory.open(Inventory.defaultUrl(dir.resolve("data").toString()), "sa", "")) {
            inventory.addClient("aa:bb:cc:dd:ee:ff", "", "");
            long imageId = inventory.addImage("demo", dir.resolve("images/demo").toString(), "", Instant.now());
            inventory.assign("aa:bb:cc:dd:ee:ff", imageId, inventory.addDisk("d1", imageId, "/x", 1, Instant.now()), 4, 5);
        }
        CliRun pxe = netboot("menu", "AA-BB-CC-DD-EE-FF");
        assertThat(pxe.exit()).as(pxe.err()).isZero();
        assertThat(pxe.out()).contains("APPEND netboot.mac=aa:bb:cc:dd:ee:ff netboot.aoe=4.5");
        assertThat(netboot("menu", "aa:bb:cc:dd:ee:ff", "--loader", "ipxe").out()).startsWith("#!ipxe");
        assertThat(netboot("menu", "default").out()).contains("has no image assigned yet", "assign one in the web admin: http://SERVER-ADDRESS:8080/admin/");
        assertThat(netboot("menu", "52:54:00:00:00:01", "--loader", "ipxe", "--set", "http.enabled=false").out())
                .contains("this PC (52:54:00:00:00:01) has no image", "netboot clone IMAGE --to 52:54:00:00:00:01");

        Files.createDirectories(dir.resolve("pxe-menus"));
        Files.writeString(dir.resolve("pxe-menus/grub.cfg.ftl"), "[=nope]\n");
        CliRun broken = netboot("menu", "aa:bb:cc:dd:ee:ff", "--loader", "grub");
        assertThat(broken.exit()).isEqualTo(1);
        assertThat(broken.err()).contains("grub.cfg.ftl", "nope");

        Path out = dir.resolve("initrd.img");
        CliRun initrd = netboot("initrd", "demo", "-o", out.toString());
        assertThat(initrd.exit()).as(initrd.err()).isZero();
        assertThat(initrd.out()).contains("bytes, hash ");
        assertThat(Files.size(out)).isPositive();
        assertThat(netboot("initrd", "nosuch", "-o", out.toString()).err()).contains("no image 'nosuch'");
    }
}
