package dev.netboot.disks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.netboot.aoe.AoeServer;
import dev.netboot.net.MacAddress;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.aoe.TargetState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.List;

/** Keeps each target's AoE protocol state (config string, mask list, reserve list) in a small JSON file. */
public final class StateFiles implements AoeServer.StatePersistence {

    private static final Logger log = LoggerFactory.getLogger(StateFiles.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    record Stored(String config, List<String> masks, List<String> reserved) {}

    private final Path dir;

    public StateFiles(Path dataDir) {
        this.dir = dataDir.resolve("aoe").resolve("state");
    }

    /** The state files that belong with this catalog's disks (beside it). */
    public static StateFiles of(DiskCatalog catalog) {
        return new StateFiles(catalog.file().getParent().getParent());
    }

    private Path file(TargetAddress a) { return dir.resolve("e" + a.shelf() + "." + a.slot() + ".json"); }

    @Override
    public TargetState load(TargetAddress a) {
        Path f = file(a);
        if (!Files.exists(f)) return TargetState.EMPTY;
        try {
            Stored s = JSON.readValue(f.toFile(), Stored.class);
            return new TargetState(ByteBuffer.wrap(Base64.getDecoder().decode(s.config())),
                    s.masks().stream().map(MacAddress::parse).toList(), s.reserved().stream().map(MacAddress::parse).toList());
        } catch (IOException | RuntimeException e) {
            log.warn("AoE state of e{} in {} is unreadable ({}); starting empty", a, f, e.getMessage());
            return TargetState.EMPTY;
        }
    }

    @Override
    public synchronized void save(TargetAddress a, TargetState state) {
        byte[] config = new byte[state.config().remaining()];
        state.config().duplicate().get(config);
        Stored s = new Stored(Base64.getEncoder().encodeToString(config),
                state.masks().stream().map(MacAddress::toString).toList(), state.reserved().stream().map(MacAddress::toString).toList());
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve(file(a).getFileName() + ".tmp");
            JSON.writeValue(tmp.toFile(), s);
            Files.move(tmp, file(a), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn("cannot persist the AoE state of e{}: {}", a, e.getMessage());
        }
    }

    /** Forgets a target's state: its disk is gone, and the next disk at its address starts afresh. */
    @Override
    public synchronized void delete(TargetAddress a) throws IOException {
        if (Files.deleteIfExists(file(a))) log.info("AoE state of e{} removed with its disk", a);
    }

    /**
     * Deletes the state of every target not in {@code disks}: left by a disk removed while no server
     * ran, or by a crash between removing a disk and its state. Returns the targets it forgot.
     */
    public synchronized List<TargetAddress> keepOnly(java.util.Collection<TargetAddress> disks) throws IOException {
        List<TargetAddress> gone = new java.util.ArrayList<>();
        for (TargetAddress t : targets()) {
            if (disks.contains(t)) continue;
            Files.deleteIfExists(file(t));
            gone.add(t);
        }
        if (!gone.isEmpty()) log.info("removed the AoE state of {} disk(s) that no longer exist: {}", gone.size(),
                gone.stream().map(t -> "e" + t).toList());
        return gone;
    }

    /** The targets that have a state file. */
    public synchronized List<TargetAddress> targets() throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        List<TargetAddress> out = new java.util.ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (!n.startsWith("e") || !n.endsWith(".json")) continue;
                try {
                    out.add(TargetAddress.parse(n.substring(1, n.length() - ".json".length())));
                } catch (RuntimeException ignored) {
                    // not one of ours
                }
            }
        }
        return out;
    }
}
