package dev.netboot.cli;

import dev.netboot.images.TestRootfs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The operator's path through images and clones, with the real commands. */
class ImageCommandTest {

    @TempDir Path dir;

    CliRun netboot(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--set", "dataDir=" + dir.resolve("data")));
        return CliRun.netboot(all);
    }

    @Test
    void importCloneListFlattenAndRemove() throws Exception {
        Path rootfs = TestRootfs.create(dir.resolve("rootfs"));
        CliRun imported = netboot("image", "import", "lab", rootfs.toString(), "--size", "72M", "--description", "lab image");
        assertThat(imported.exit()).as(imported.err()).isZero();
        assertThat(imported.out()).contains("imported lab: kernel " + TestRootfs.KERNEL, "(72 MiB)");
        assertThat(imported.err()).contains("building a 72 MiB ext4 disk");

        assertThat(netboot("image", "list").out()).containsPattern("lab\\s+" + TestRootfs.KERNEL + "\\s+72 MiB.*lab image");
        assertThat(netboot("image", "show", "lab").out()).contains("kernel:      " + TestRootfs.KERNEL, "images/lab/disk.img");
        assertThat(netboot("image", "show", "nope").err()).contains("no image nope");

        CliRun clone = netboot("clone", "lab", "--to", "52-54-00-AA-BB-01");
        assertThat(clone.out()).as(clone.err()).contains("client 52:54:00:aa:bb:01: image lab, disk client-525400aabb01 (clone) at AoE e1.0");
        assertThat(netboot("client", "assign", "52:54:00:aa:bb:02", "lab").out()).contains("at AoE e1.1");
        assertThat(netboot("client", "list").out()).containsPattern("52:54:00:aa:bb:02\\s+active.*lab\\s+e1\\.1");
        assertThat(netboot("disk", "list").out()).contains("52:54:00:aa:bb:01", "52:54:00:aa:bb:02");

        CliRun refused = netboot("image", "remove", "lab");
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("image lab is still used by 2 clone(s)");

        CliRun flatten = netboot("client", "flatten", "52:54:00:aa:bb:01");
        assertThat(flatten.out()).as(flatten.err()).contains("disk is standalone");
        assertThat(flatten.err()).contains("flattening client-525400aabb01.img: 100%");

        assertThat(netboot("client", "remove", "52:54:00:aa:bb:01").out()).contains("and its disk");
        assertThat(netboot("client", "unassign", "52:54:00:aa:bb:02").out()).contains("disk removed");
        assertThat(netboot("disk", "list").out()).contains("no disks");
        assertThat(netboot("image", "remove", "lab").out()).contains("removed image lab");
        assertThat(dir.resolve("data/images/lab")).doesNotExist();
    }
}
