package dev.netboot.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The command lines {@link LvmStore} builds and how it reads lvs, against lvs output recorded from
 * lvm2 2.03.16 in {@link LvmStoreGuestIT}'s guest. LvmStoreGuestIT runs the same against real LVM.
 */
class LvmStoreTest {

    /** Recorded: the pool, the image and one clone of it (cl-a removed). */
    static final String REPORT = """
              {
                  "report": [
                      {
                          "lv": [
                              {"lv_name":"cl-b", "lv_size":"67108864", "origin":"img-demo", "pool_lv":"pool"},
                              {"lv_name":"img-demo", "lv_size":"67108864", "origin":"", "pool_lv":"pool"},
                              {"lv_name":"pool", "lv_size":"167772160", "origin":"", "pool_lv":""}
                          ]
                      }
                  ]
              }
            """;
    static final String LVS = "lvs --reportformat json --units b --nosuffix -o lv_name,lv_size,origin,pool_lv nbvg";

    /** Answers commands from a script, in order, and remembers what it was asked. */
    static final class ScriptedRunner implements CommandRunner {
        final List<String> asked = new ArrayList<>();
        final Deque<Result> answers = new ArrayDeque<>();

        ScriptedRunner then(int exit, String stdout, String stderr) {
            answers.add(new Result(exit, stdout, stderr));
            return this;
        }

        ScriptedRunner thenReport(String json) { return then(0, json, ""); }

        @Override
        public Result execute(List<String> argv, Duration timeout) {
            asked.add(String.join(" ", argv));
            if (answers.isEmpty()) throw new AssertionError("unexpected command " + argv);
            return answers.poll();
        }
    }

    final ScriptedRunner runner = new ScriptedRunner();
    final LvmStore store = new LvmStore(new LvmSettings("nbvg", "pool"), runner);

    static String report(String... rows) {
        return "{\"report\":[{\"lv\":[" + String.join(",", rows) + "]}]}";
    }

    static String row(String name, long size, String origin, String pool) {
        return "{\"lv_name\":\"%s\",\"lv_size\":\"%d\",\"origin\":\"%s\",\"pool_lv\":\"%s\"}".formatted(name, size, origin, pool);
    }

    @Test
    void listReadsTheThinVolumesOfThePoolOnly() throws IOException {
        runner.thenReport(REPORT);
        assertThat(store.list()).containsExactly(
                new LvmVolume("cl-b", 64L << 20, Optional.of("img-demo")),
                new LvmVolume("img-demo", 64L << 20, Optional.empty()));
        assertThat(runner.asked).containsExactly(LVS);
    }

    @Test
    void volumesOfAnotherPoolOrOutsideAnyPoolAreNotTheStores() throws IOException {
        runner.thenReport(report(row("root", 10L << 30, "", ""), row("other", 4096, "", "pool2"), row("mine", 4096, "", "pool")));
        assertThat(store.list()).extracting(LvmVolume::name).containsExactly("mine");
    }

    @Test
    void createVolumeMakesAThinVolumeInThePoolAndReportsWhatLvmMade() throws IOException {
        runner.thenReport(REPORT).then(0, "", "  Logical volume \"img-2\" created.\n")
                .thenReport(report(row("img-2", 8L << 20, "", "pool")));
        assertThat(store.createVolume("img-2", 5_000_000)).isEqualTo(new LvmVolume("img-2", 8L << 20, Optional.empty()));
        assertThat(runner.asked).containsExactly(LVS,
                "lvcreate --yes --type thin --virtualsize 5000000b --thinpool pool --name img-2 nbvg", LVS);
    }

    @Test
    void createVolumeRefusesANameAnyVolumeOfTheGroupHas() {
        runner.thenReport(REPORT);
        assertThatThrownBy(() -> store.createVolume("pool", 4096)).hasMessage("volume nbvg/pool already exists");
        assertThat(runner.asked).containsExactly(LVS);
    }

    @Test
    void cloneIsAnActivatedThinSnapshotOfTheOrigin() throws IOException {
        runner.thenReport(REPORT).then(0, "", "").thenReport(report(row("cl-c", 64L << 20, "img-demo", "pool")));
        assertThat(store.clone("img-demo", "cl-c")).isEqualTo(new LvmVolume("cl-c", 64L << 20, Optional.of("img-demo")));
        assertThat(runner.asked).containsExactly(LVS,
                "lvcreate --yes --type thin --setactivationskip n --name cl-c nbvg/img-demo", LVS);
    }

    @Test
    void cloneNeedsAThinOriginInThePoolAndAFreeName() {
        runner.thenReport(REPORT).thenReport(REPORT).thenReport(report(row("root", 1 << 30, "", "")));
        assertThatThrownBy(() -> store.clone("img-demo", "cl-b")).hasMessage("volume nbvg/cl-b already exists");
        assertThatThrownBy(() -> store.clone("nothing", "cl-c")).hasMessage("no thin volume nbvg/nothing in pool pool to clone");
        assertThatThrownBy(() -> store.clone("root", "cl-c")).as("a volume outside the pool").hasMessageContaining("no thin volume nbvg/root");
        assertThat(runner.asked).containsExactly(LVS, LVS, LVS);
    }

    @Test
    void removeIsRefusedWhileClonesOfTheVolumeExist() {
        runner.thenReport(REPORT);
        assertThatThrownBy(() -> store.remove("img-demo"))
                .hasMessage("refusing to remove nbvg/img-demo: 1 clone(s) are thin snapshots of it (cl-b); remove them first");
        assertThat(runner.asked).containsExactly(LVS);
    }

    @Test
    void removeTakesOnlyThinVolumesOfThePool() throws IOException {
        runner.thenReport(REPORT).thenReport(REPORT).then(0, "", "");
        assertThatThrownBy(() -> store.remove("pool")).hasMessage("no thin volume nbvg/pool in pool pool to remove");
        store.remove("cl-b");
        assertThat(runner.asked).containsExactly(LVS, LVS, "lvremove --yes nbvg/cl-b");
    }

    @Test
    void aFailingLvmCommandCarriesItsStderr() {
        runner.then(5, "", "  Volume group \"nbvg\" not found\n  Cannot process volume group nbvg\n");
        assertThatThrownBy(store::list).isInstanceOf(CommandRunner.CommandFailedException.class)
                .hasMessageStartingWith(LVS + " failed (exit 5): Volume group \"nbvg\" not found");
    }

    @Test
    void sizesThatAreNotBytesAreAnError() {
        runner.thenReport(report("{\"lv_name\":\"x\",\"lv_size\":\"64.00m\",\"origin\":\"\",\"pool_lv\":\"pool\"}"));
        assertThatThrownBy(store::list).hasMessageContaining("'64.00m'");
        runner.then(0, "  WARNING: something\n", "");
        assertThatThrownBy(store::list).hasMessageContaining("lvs printed no JSON report");
    }

    @Test
    void devicePathIsTheVolumeGroupsDirectory() {
        assertThat(store.devicePath("cl-b")).isEqualTo(Path.of("/dev/nbvg/cl-b"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-rf", "a b", "x;reboot", "$(id)", "../etc", ".", "..", "vg/lv", "snapshot1", "pvmove0",
            "img_tmeta", "x_rimage_0", "ü", "nul\0l"})
    void invalidNamesNeverReachACommand(String name) {
        assertThatThrownBy(() -> store.createVolume(name, 4096)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.clone("img-demo", name)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.clone(name, "ok")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.remove(name)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.devicePath(name)).isInstanceOf(IllegalArgumentException.class);
        assertThat(runner.asked).isEmpty();
    }

    @Test
    void validNamesUseAllOfLvmsCharacters() {
        assertThat(LvmNames.checkVolume("Img_2.0+x-y")).isEqualTo("Img_2.0+x-y");
        assertThat(LvmNames.checkVolume("a".repeat(127))).hasSize(127);
        assertThatThrownBy(() -> LvmNames.checkVolume("a".repeat(128))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LvmSettings("-vg", "pool")).hasMessageContaining("volume group name '-vg' is not valid");
        assertThatThrownBy(() -> new LvmSettings("vg", "pool_tdata")).hasMessageContaining("_tdata");
    }

    @Test
    void sizesMustBePositive() {
        assertThatThrownBy(() -> store.createVolume("x", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(runner.asked).isEmpty();
    }

    @Test
    void importCopiesTheImageButLeavesItsZeroBlocksUnwritten(@TempDir Path dir) throws IOException {
        // The copy half of importImage, onto a sparse file standing in for the new volume's device
        // (a thin volume reads zeros wherever nothing was written, like a hole in a sparse file).
        long size = 16L << 20;
        Path image = dir.resolve("image.raw");
        byte[] data = new byte[(int) size];
        for (int i = 0; i < (1 << 20); i++) data[i] = (byte) (i * 31 + 1);
        for (int i = 10 << 20; i < (10 << 20) + 100_000; i++) data[i] = (byte) (i | 1);
        data[(int) size - 1] = 42;
        java.nio.file.Files.write(image, data);
        Path device = dir.resolve("device");
        try (var f = new java.io.RandomAccessFile(device.toFile(), "rw")) {
            f.setLength(size);
        }
        List<Long> progress = new ArrayList<>();
        LvmStore.copySkippingZeros(image, device, size, (phase, done, total) -> {
            assertThat(total).isEqualTo(size);
            progress.add(done);
        });
        assertThat(java.nio.file.Files.readAllBytes(device)).isEqualTo(data);
        assertThat(progress).hasSize(16).isSorted().endsWith(size);
        long allocated = Long.parseLong(new LocalCommandRunner().run(List.of("stat", "-c", "%b", device.toString()),
                Duration.ofSeconds(5)).stdout().trim()) * 512;
        assertThat(allocated).as("only the non-zero 64 KiB blocks are written").isLessThanOrEqualTo((1 << 20) + (192 << 10) + (64 << 10));
    }

    @Test
    void aFailedImportRemovesTheHalfMadeVolume(@TempDir Path dir) throws IOException {
        // createVolume succeeds (scripted), but /dev/nbvg/img-x does not exist on this host: the copy
        // fails and the store removes the volume again.
        Path image = dir.resolve("image.raw");
        java.nio.file.Files.write(image, new byte[4096]);
        runner.thenReport(REPORT).then(0, "", "").thenReport(report(row("img-x", 4L << 20, "", "pool")))
                .thenReport(report(row("img-x", 4L << 20, "", "pool"))).then(0, "", "");
        assertThatThrownBy(() -> store.importImage("img-x", image, (phase, d, t) -> {})).isInstanceOf(java.nio.file.NoSuchFileException.class);
        assertThat(runner.asked).containsExactly(LVS, "lvcreate --yes --type thin --virtualsize 4096b --thinpool pool --name img-x nbvg",
                LVS, LVS, "lvremove --yes nbvg/img-x");
    }
}
