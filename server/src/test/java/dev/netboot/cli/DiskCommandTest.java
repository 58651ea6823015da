package dev.netboot.cli;

import dev.netboot.disks.DiskCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DiskCommandTest {

    @TempDir
    Path dir;

    @Test
    void sizes() {
        assertThat(DiskCommand.parseSize("8G")).isEqualTo(8L << 30);
        assertThat(DiskCommand.parseSize("64MiB")).isEqualTo(64L << 20);
        assertThat(DiskCommand.parseSize("1024")).isEqualTo(1024);
        assertThatThrownBy(() -> DiskCommand.parseSize("1000")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DiskCommand.parseSize("lots")).isInstanceOf(IllegalArgumentException.class);
        assertThat(DiskCommand.human(8L << 30)).isEqualTo("8 GiB");
    }

    @Test
    void createListRemove() throws Exception {
        String data = "--set=dataDir=" + dir;
        assertThat(Main.commandLine().execute("disk", "create", "1.2", "--size", "16M", "--allow", "52:54:00:12:34:56", data)).isZero();
        Path image = DiskCatalog.defaultImage(dir, dev.netboot.aoe.TargetAddress.parse("1.2"));
        assertThat(Files.size(image)).isEqualTo(16L << 20);
        assertThat(new DiskCatalog(dir).list()).singleElement().satisfies(e -> assertThat(e.allowedMacs()).containsExactly("52:54:00:12:34:56"));
        assertThat(Main.commandLine().execute("disk", "create", "1.2", "--size", "16M", data)).isEqualTo(2);
        assertThat(Main.commandLine().execute("disk", "export", "1.3", image.toString(), "--open", "--read-only", data)).isZero();
        assertThat(Main.commandLine().execute("disk", "list", data)).isZero();
        assertThat(Main.commandLine().execute("disk", "remove", "1.2", "--delete-image", data)).isZero();
        assertThat(image).doesNotExist();
        assertThat(new DiskCatalog(dir).list()).extracting(e -> e.address()).containsExactly("1.3");
    }

    @Test
    void exportBindsTheDiskToInterfacesAndListShowsThem() throws Exception {
        String data = "--set=dataDir=" + dir;
        Path image = dir.resolve("a.img");
        Files.write(image, new byte[1 << 20]);
        assertThat(Main.commandLine().execute("disk", "export", "1.6", image.toString(), "--open", "--interface", "eth0.20,eth1",
                "--interface", "eth0.20", data)).isZero();
        assertThat(Main.commandLine().execute("disk", "export", "1.7", image.toString(), "--open", "--read-only", data)).isZero();
        assertThat(new DiskCatalog(dir).list()).extracting(e -> e.interfaces()).containsExactly(java.util.List.of("eth0.20", "eth1"), java.util.List.of());
        CliRun list = CliRun.netboot(java.util.List.of("disk", "list", data));
        assertThat(list.exit()).isZero();
        assertThat(list.out()).containsPattern("e1\\.6 .* eth0\\.20,eth1 +everyone").containsPattern("e1\\.7 .* all +everyone");
        // rebinding is a replace; a name the kernel would refuse is an error, not a disk nobody can reach
        assertThat(Main.commandLine().execute("disk", "export", "1.6", image.toString(), "--open", "--replace", "--interface", "eth0.30", data)).isZero();
        assertThat(new DiskCatalog(dir).find(dev.netboot.aoe.TargetAddress.parse("1.6")).orElseThrow().interfaces()).containsExactly("eth0.30");
        assertThat(Main.commandLine().execute("disk", "export", "1.8", image.toString(), "--interface", "eth0/1", data)).isEqualTo(2);
    }

    @Test
    void flattenTurnsACloneIntoAPlainDisk() throws Exception {
        String data = "--set=dataDir=" + dir;
        Path base = dir.resolve("base.img");
        byte[] content = new byte[1 << 20];
        new java.util.Random(1).nextBytes(content);
        Files.write(base, content);
        Path clone = dir.resolve("clone.img");
        dev.netboot.storage.CowBlockStore.create(base, clone).close();
        assertThat(Main.commandLine().execute("disk", "export", "1.4", clone.toString(), data)).isZero();
        assertThat(Main.commandLine().execute("disk", "flatten", "1.4", data)).isZero();
        assertThat(dev.netboot.storage.CowBlockStore.isClone(clone)).isFalse();
        assertThat(Files.readAllBytes(clone)).isEqualTo(content);
        assertThat(Main.commandLine().execute("disk", "flatten", "1.4", data)).as("not a clone any more").isEqualTo(2);
        assertThat(Main.commandLine().execute("disk", "flatten", "1.9", data)).as("no such disk").isEqualTo(2);

        // removing a clone with its image takes the sidecar too: a stale one would turn the next
        // image created at that path into a "clone" of the old base
        Path second = dir.resolve("second.img");
        dev.netboot.storage.CowBlockStore.create(base, second).close();
        assertThat(Main.commandLine().execute("disk", "export", "1.5", second.toString(), data)).isZero();
        assertThat(Main.commandLine().execute("disk", "remove", "1.5", "--delete-image", data)).isZero();
        assertThat(second).doesNotExist();
        assertThat(dev.netboot.storage.CowBlockStore.sidecarOf(second)).doesNotExist();
    }
}
