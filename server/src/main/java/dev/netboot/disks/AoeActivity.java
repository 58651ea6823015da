package dev.netboot.disks;

import dev.netboot.aoe.TargetAddress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * When each exported AoE disk last heard from its client, as the running server's AoE target saw it
 * ({@code aoe.AoeTarget#lastFrameMillis}), in {@code <dataDir>/aoe/activity}: the server writes it every few
 * seconds, the CLI's {@code image capture} (another process) reads it to tell a running client from one
 * that is off. A client's AoE driver reads and writes its disk while the PC runs, even one that never
 * changes a file; a PC that is off sends nothing. One line per disk: {@code e<shelf>.<slot> <instant>}.
 */
public final class AoeActivity {

    private final Path file;

    public AoeActivity(Path dataDir) {
        this.file = dataDir.resolve("aoe").resolve("activity");
    }

    /** The activity file that belongs with this catalog's disks (beside it, like the state files). */
    public static AoeActivity of(DiskCatalog catalog) {
        return new AoeActivity(catalog.file().getParent().getParent());
    }

    public Path file() { return file; }

    /** Replaces the file at once (a reader sees the old or the new content, never half). */
    public void write(Map<TargetAddress, Instant> lastFrames) throws IOException {
        StringBuilder text = new StringBuilder();
        new TreeMap<>(Map.copyOf(lastFrames).entrySet().stream().collect(java.util.stream.Collectors.toMap(e -> e.getKey().toString(), Map.Entry::getValue)))
                .forEach((address, at) -> text.append('e').append(address).append(' ').append(at).append('\n'));
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(".activity.tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** When the server last heard from that disk's client; empty when it never did, or no server runs here. */
    public Optional<Instant> lastFrame(TargetAddress address) throws IOException {
        if (!Files.isRegularFile(file)) return Optional.empty();
        String want = "e" + address;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.strip().split(" ");
            if (f.length != 2 || !f[0].equals(want)) continue;
            try {
                return Optional.of(Instant.parse(f[1]));
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }
}
