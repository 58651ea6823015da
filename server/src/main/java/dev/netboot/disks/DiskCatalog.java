package dev.netboot.disks;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.netboot.aoe.TargetAddress;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The exported disks, in a JSON file under the data directory that the CLI edits and the running
 * server watches. Writes replace the file atomically under a lock, so a concurrent reader sees the
 * old or the new list, never half of one. (A database-backed inventory can replace this later.)
 */
public final class DiskCatalog {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path file;

    public DiskCatalog(Path dataDir) {
        this.file = dataDir.resolve("aoe").resolve("disks.json");
    }

    public Path file() { return file; }

    /** Where a disk created without an explicit path lives. */
    public static Path defaultImage(Path dataDir, TargetAddress a) {
        return dataDir.resolve("disks").resolve("e" + a.shelf() + "." + a.slot() + ".img");
    }

    public List<DiskEntry> list() throws IOException {
        if (!Files.exists(file)) return List.of();
        List<DiskEntry> entries = JSON.readValue(file.toFile(), new TypeReference<List<DiskEntry>>() {});
        return entries.stream().sorted(Comparator.comparing(DiskEntry::target)).toList();
    }

    public Optional<DiskEntry> find(TargetAddress a) throws IOException {
        return list().stream().filter(e -> e.target().equals(a)).findFirst();
    }

    /** Changes the list under an exclusive lock; the change may throw to abort. */
    public void update(UnaryOperator<List<DiskEntry>> change) throws IOException {
        Files.createDirectories(file.getParent());
        try (FileChannel lockFile = FileChannel.open(file.resolveSibling("disks.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            List<DiskEntry> next = change.apply(new ArrayList<>(list()));
            Path tmp = file.resolveSibling("disks.json.tmp");
            JSON.writeValue(tmp.toFile(), next);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    public void add(DiskEntry entry) throws IOException {
        update(list -> {
            if (list.stream().anyMatch(e -> e.target().equals(entry.target())))
                throw new IllegalArgumentException("disk e" + entry.address() + " exists already");
            list.add(entry);
            return list;
        });
    }

    public void replace(DiskEntry entry) throws IOException {
        update(list -> {
            list.removeIf(e -> e.target().equals(entry.target()));
            list.add(entry);
            return list;
        });
    }

    public boolean remove(TargetAddress a) throws IOException {
        boolean[] removed = {false};
        update(list -> {
            removed[0] = list.removeIf(e -> e.target().equals(a));
            return list;
        });
        return removed[0];
    }
}
