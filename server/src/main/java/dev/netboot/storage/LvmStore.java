package dev.netboot.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Disks as LVM thin volumes: one thin pool holds the images and, as thin snapshots of them, one
 * clone per client. A snapshot shares every block with its origin until either side writes, so a
 * clone costs nothing to make and only what the client changes to keep.
 *
 * <p>Everything goes through the lvm2 command line tools (lvs, lvcreate, lvremove) as argv through
 * a {@link CommandRunner}, reading lvs's JSON report; names are checked by {@link LvmNames} first.
 * The store only touches thin volumes of its own pool, never other volumes of the group.
 *
 * <p>Stateless apart from its settings, so safe to share between threads: LVM serialises commands
 * on a volume group by its own lock. The store's checks before a command (name free, no clones)
 * give clear messages but are not atomic with it: for names LVM's own refusal is the final word,
 * while a clone made between remove's check and its lvremove would outlive its origin (callers
 * that clone and remove the same image concurrently serialise those calls themselves).
 */
public final class LvmStore {

    /** LVM commands wait for locks and, on a busy pool, for metadata commits; generous on purpose. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final LvmSettings settings;
    private final CommandRunner runner;
    private final Duration timeout;

    public LvmStore(LvmSettings settings, CommandRunner runner) {
        this(settings, runner, DEFAULT_TIMEOUT);
    }

    public LvmStore(LvmSettings settings, CommandRunner runner, Duration timeout) {
        this.settings = settings;
        this.runner = runner;
        this.timeout = timeout;
    }

    public LvmSettings settings() { return settings; }

    /** Creates an empty thin volume of at least {@code sizeBytes} (LVM rounds up to its extent size). */
    public LvmVolume createVolume(String name, long sizeBytes) throws IOException {
        LvmNames.checkVolume(name);
        if (sizeBytes <= 0) throw new IllegalArgumentException("volume size must be positive, not " + sizeBytes);
        if (report().stream().anyMatch(lv -> lv.name().equals(name))) throw new IOException("volume " + qualified(name) + " already exists");
        runner.run(List.of("lvcreate", "--yes", "--type", "thin", "--virtualsize", sizeBytes + "b",
                "--thinpool", settings.thinPool(), "--name", name, settings.volumeGroup()), timeout);
        return find(name).orElseThrow(() -> new IOException("lvcreate made no volume " + qualified(name)));
    }


    /**
     * Creates a volume the size of a raw disk image on this machine and copies the image into its
     * device. Blocks that are all zeros are skipped, not written: a new thin volume reads zeros where
     * nothing was written, and every block written takes space in the pool. A failed copy removes
     * the half-written volume again.
     */
    public LvmVolume importImage(String name, Path rawDiskImage, Progress progress) throws IOException {
        LvmNames.checkVolume(name);
        long size = Files.size(rawDiskImage);
        if (size == 0) throw new IOException(rawDiskImage + " is empty, nothing to import");
        LvmVolume volume = createVolume(name, size);
        try {
            copySkippingZeros(rawDiskImage, devicePath(name), size, progress);
        } catch (IOException | RuntimeException e) {
            try {
                remove(name);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        return volume;
    }

    /** Copies {@code size} bytes of {@code from} onto the existing {@code to} (a device), leaving all-zero blocks unwritten. */
    static void copySkippingZeros(Path from, Path to, long size, Progress progress) throws IOException {
        try (FileChannel out = FileChannel.open(to, StandardOpenOption.WRITE)) {
            ZeroSkippingCopy.copy(from, out, size, "copying into " + to.getFileName(), progress);
            out.force(false);
        }
    }

    /**
     * Makes {@code cloneName} a thin snapshot of {@code originName} and activates it. LVM marks thin
     * snapshots "skip on activation" by default (so that a boot does not activate hundreds of them);
     * a client's disk must come up like any other volume, so the flag is cleared at creation (-kn).
     * {@code --type thin ORIGIN} rather than {@code -s ORIGIN}: both make a thin snapshot, but -s also
     * insists on the old COW "snapshot" device-mapper target (dm-snapshot) being loadable.
     */
    public LvmVolume clone(String originName, String cloneName) throws IOException {
        LvmNames.checkVolume(originName);
        LvmNames.checkVolume(cloneName);
        List<Row> rows = report();
        if (rows.stream().noneMatch(lv -> lv.name().equals(originName) && lv.pool().equals(settings.thinPool())))
            throw new IOException("no thin volume " + qualified(originName) + " in pool " + settings.thinPool() + " to clone");
        if (rows.stream().anyMatch(lv -> lv.name().equals(cloneName)))
            throw new IOException("volume " + qualified(cloneName) + " already exists");
        runner.run(List.of("lvcreate", "--yes", "--type", "thin", "--setactivationskip", "n", "--name", cloneName,
                qualified(originName)), timeout);
        return find(cloneName).orElseThrow(() -> new IOException("lvcreate made no snapshot " + qualified(cloneName)));
    }

    /**
     * Removes a volume of the pool. Refused while other volumes are thin snapshots of it: LVM itself
     * would allow it (thin snapshots do not need their origin), but an image must not disappear from
     * under the clients cloned from it without the operator removing those clones first.
     */
    public void remove(String name) throws IOException {
        LvmNames.checkVolume(name);
        List<LvmVolume> volumes = list();
        if (volumes.stream().noneMatch(v -> v.name().equals(name)))
            throw new IOException("no thin volume " + qualified(name) + " in pool " + settings.thinPool() + " to remove");
        List<String> clones = volumes.stream().filter(v -> v.origin().filter(name::equals).isPresent()).map(LvmVolume::name).toList();
        if (!clones.isEmpty())
            throw new IOException("refusing to remove " + qualified(name) + ": " + clones.size() + " clone(s) are thin snapshots of it ("
                    + String.join(", ", clones) + "); remove them first");
        runner.run(List.of("lvremove", "--yes", qualified(name)), timeout);
    }

    /** The thin volumes of the pool (not the pool itself, nor other volumes of the group), in lvs order. */
    public List<LvmVolume> list() throws IOException {
        return inPool(report(), settings.thinPool());
    }

    public Optional<LvmVolume> find(String name) throws IOException {
        LvmNames.checkVolume(name);
        return list().stream().filter(v -> v.name().equals(name)).findFirst();
    }

    public boolean exists(String name) throws IOException {
        return find(name).isPresent();
    }

    /** The block device of a volume, the udev (or, without udev, LVM's own) symlink /dev/VG/NAME. */
    public Path devicePath(String name) {
        return Path.of("/dev", settings.volumeGroup(), LvmNames.checkVolume(name));
    }

    private String qualified(String name) {
        return settings.volumeGroup() + "/" + name;
    }

    /** One row of lvs: every volume of the group, the pool and volumes outside it included. */
    record Row(String name, String size, String origin, String pool) {}

    private List<Row> report() throws IOException {
        CommandRunner.Result r = runner.run(List.of("lvs", "--reportformat", "json", "--units", "b", "--nosuffix",
                "-o", "lv_name,lv_size,origin,pool_lv", settings.volumeGroup()), timeout);
        return parseReport(r.stdout());
    }

    /**
     * Reads {@code lvs --reportformat json --units b --nosuffix -o lv_name,lv_size,origin,pool_lv}:
     * {"report":[{"lv":[{"lv_name":"…","lv_size":"4194304","origin":"","pool_lv":"pool"}]}]}.
     */
    static List<Row> parseReport(String json) throws IOException {
        JsonNode report;
        try {
            report = JSON.readTree(json).path("report");
        } catch (IOException e) {
            throw new IOException("lvs printed no JSON report: " + json, e);
        }
        if (!report.isArray()) throw new IOException("lvs output has no report array: " + json);
        List<Row> rows = new ArrayList<>();
        for (JsonNode part : report)
            for (JsonNode lv : part.path("lv"))
                rows.add(new Row(lv.path("lv_name").asText(), lv.path("lv_size").asText(), lv.path("origin").asText(), lv.path("pool_lv").asText()));
        return rows;
    }

    /** The thin volumes of {@code thinPool} among the rows, sizes in bytes. */
    static List<LvmVolume> inPool(List<Row> rows, String thinPool) throws IOException {
        List<LvmVolume> volumes = new ArrayList<>();
        for (Row lv : rows) {
            if (!thinPool.equals(lv.pool())) continue;
            long size;
            try {
                size = Long.parseLong(lv.size());
            } catch (NumberFormatException e) {
                throw new IOException("lvs reported size '" + lv.size() + "' for " + lv.name() + ", expected bytes");
            }
            volumes.add(new LvmVolume(lv.name(), size, lv.origin().isEmpty() ? Optional.empty() : Optional.of(lv.origin())));
        }
        return volumes;
    }
}
