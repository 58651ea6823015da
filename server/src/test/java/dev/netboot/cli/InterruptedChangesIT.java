package dev.netboot.cli;

import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.images.TestRootfs;
import dev.netboot.inventory.Inventory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real CLI process halted (as by SIGKILL: no hooks, nothing closed) at each named step of a
 * multi-step change; then the server starts on the same data directory, and inventory, catalog and
 * files must agree again: the change is rolled back or finished, and doing it again works.
 */
class InterruptedChangesIT {

    static final String MAC = "52:54:00:aa:bb:01";

    @TempDir Path dir;

    Path data() { return dir.resolve("data"); }

    CliRun netboot(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--set", "dataDir=" + data()));
        return CliRun.netboot(all);
    }

    /** The same command in a JVM of its own that halts at {@code point}. */
    void crashAt(String point, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dnetboot.crashAt=" + point, "-cp", System.getProperty("java.class.path"),
                "dev.netboot.cli.Main"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--set", "dataDir=" + data()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(137);
        assertThat(out).contains("halting at crash point " + point);
    }

    /** What a restart does first: the server starts (and stops) on the data directory. */
    void restartServer() throws Exception {
        var config = ConfigLoader.load(Optional.empty(), List.of("dataDir=" + data(), "files.root=" + dir.resolve("boot"),
                "tftp.enabled=false", "http.enabled=false", "dhcp.mode=off"));
        new Appliance(config).start().close();
    }

    List<String> clientFiles() throws IOException {
        Path disks = data().resolve("disks");
        if (!Files.isDirectory(disks)) return List.of();
        try (Stream<Path> s = Files.list(disks)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    Inventory inventory() {
        return Inventory.open(Inventory.defaultUrl(data().toString()), "sa", "");
    }

    @ParameterizedTest
    @ValueSource(strings = {"image-import:folder-in-place", "image-remove:row-deleted", "assign:cloned", "assign:disk-recorded",
            "assign:assigned", "remove-disk:unexported", "remove-disk:row-deleted"})
    void aChangeInterruptedAtAnyStepIsRepairedAtTheNextStart(String point) throws Exception {
        Path rootfs = TestRootfs.create(dir.resolve("rootfs"));
        String[] importLab = {"image", "import", "lab", rootfs.toString(), "--size", "72M"};
        if (point.startsWith("image-import")) {
            crashAt(point, importLab);
            assertThat(data().resolve("images/lab")).as("what the crash left").exists();
        } else {
            CliRun imported = netboot(importLab);
            assertThat(imported.exit()).as(imported.err()).isZero();
        }
        if (point.startsWith("image-remove")) crashAt(point, "image", "remove", "lab");
        if (point.startsWith("assign")) crashAt(point, "client", "assign", MAC, "lab");
        if (point.startsWith("remove-disk")) {
            assertThat(netboot("client", "assign", MAC, "lab").exit()).isZero();
            crashAt(point, "client", "unassign", MAC);
        }

        restartServer();

        DiskCatalog catalog = new DiskCatalog(data());
        try (Inventory inv = inventory()) {
            switch (point) {
                case "image-import:folder-in-place", "image-remove:row-deleted" -> {
                    assertThat(inv.images()).isEmpty();
                    assertThat(data().resolve("images/lab")).as("the folder without its row").doesNotExist();
                }
                case "assign:cloned", "assign:disk-recorded", "remove-disk:row-deleted" -> {
                    assertThat(inv.disks()).isEmpty();
                    assertThat(inv.assignment(MAC)).isEmpty();
                    assertThat(clientFiles()).as("files of a disk nobody has").isEmpty();
                    assertThat(catalog.list()).isEmpty();
                }
                case "assign:assigned", "remove-disk:unexported" -> {
                    var disk = inv.diskOf(MAC).orElseThrow();
                    String address = inv.aoeAddress(MAC).orElseThrow();
                    assertThat(catalog.list()).as("the assigned disk is exported")
                            .containsExactly(new DiskEntry(address, disk.path(), List.of(MAC), false, false));
                    assertThat(Path.of(disk.path())).exists();
                }
                default -> throw new AssertionError(point);
            }
        }
        // And the change can be made (again) from there.
        if (point.startsWith("image-")) {
            CliRun again = netboot(importLab);
            assertThat(again.exit()).as(again.err()).isZero();
        } else {
            CliRun assign = netboot("client", "assign", MAC, "lab");
            assertThat(assign.exit()).as(assign.err()).isZero();
            CliRun unassign = netboot("client", "unassign", MAC);
            assertThat(unassign.exit()).as(unassign.err()).isZero();
            assertThat(clientFiles()).isEmpty();
            assertThat(catalog.list()).isEmpty();
        }
    }
}
