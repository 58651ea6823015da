package dev.netboot.app;

import dev.netboot.aoe.AoeServer;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.aoe.WriteReplication;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.disks.DiskEntry;
import dev.netboot.replication.ReplicationNode;
import dev.netboot.replication.Role;
import dev.netboot.storage.BlockStore;
import dev.netboot.storage.BlockStores;
import dev.netboot.storage.ReadTuning;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The replication section of the config turned into a running {@link ReplicationNode}: the shared
 * secret (generated like the admin password when none is given), this node's id (random, kept in
 * {@code <dataDir>/replication/node-id}), the disks (the catalog's and aoe.targets) and their stores:
 * on the primary the AoE target's own stores, on the standby stores it opens itself (it serves no AoE).
 */
public final class ReplicationService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReplicationService.class);

    private final ReplicationNode node;
    private final Map<String, BlockStore> ownStores;

    private ReplicationService(ReplicationNode node, Map<String, BlockStore> ownStores) {
        this.node = node;
        this.ownStores = ownStores;
    }

    public ReplicationNode node() { return node; }

    /** The role in the config: none, primary or standby (validated by ConfigLoader). */
    public static Optional<Role> role(NetbootConfig.Replication r) {
        return switch (r.role().strip().toLowerCase()) {
            case "primary" -> Optional.of(Role.PRIMARY);
            case "standby" -> Optional.of(Role.STANDBY);
            default -> Optional.empty();
        };
    }

    public static Path stateDir(Path dataDir) { return dataDir.resolve("replication"); }

    /**
     * Starts replication of {@code disks}. On the primary {@code aoe} is the running target whose stores
     * are used and whose writes go through replication from now on; on the standby it is null.
     */
    public static ReplicationService start(NetbootConfig config, List<DiskEntry> disks, AoeServer aoe, MeterRegistry registry)
            throws IOException, InterruptedException {
        NetbootConfig.Replication r = config.replication();
        Role role = role(r).orElseThrow();
        Path dataDir = Path.of(config.dataDir());
        byte[] secret = secret(r);
        long nodeId = nodeId(stateDir(dataDir));
        InetSocketAddress listen;
        InetSocketAddress peer;
        try {
            InetSocketAddress l = ConfigLoader.hostPort("replication.listen", r.listen(), true);
            listen = new InetSocketAddress(l.getHostString(), l.getPort());
            peer = ConfigLoader.hostPort("replication.peer", r.peer(), false);
        } catch (ConfigLoader.ConfigException e) {
            throw new IOException(e.getMessage(), e);
        }
        Map<String, BlockStore> own = new LinkedHashMap<>();
        List<ReplicationNode.DiskSpec> specs = new ArrayList<>();
        ReadTuning tuning = new ReadTuning(config.tuning().zeroCopyReads(), config.tuning().mmapReads());
        for (DiskEntry e : disks) {
            if (Boolean.TRUE.equals(e.readOnly())) continue;   // nobody writes it: nothing to replicate
            String name = e.target().toString();
            BlockStore store;
            if (role == Role.PRIMARY) {
                store = aoe == null ? null : aoe.store(e.target());
                if (store == null) {
                    log.warn("replication: disk {} ({}) is not exported here; not replicated", name, e.path());
                    continue;
                }
            } else {
                try {
                    store = BlockStores.open(Path.of(e.path()), false, config.aoe().syncWrites(), tuning);
                } catch (IOException ex) {
                    log.warn("replication: standby cannot open disk {} ({}): {}; not replicated", name, e.path(), ex.getMessage());
                    continue;
                }
                own.put(name, store);
            }
            specs.add(new ReplicationNode.DiskSpec(name, store.size()));
        }
        ReplicationNode.Settings settings = new ReplicationNode.Settings(nodeId, role, secret, listen, peer.getHostString(), peer.getPort(),
                Duration.ofMillis(r.pingMillis()), Duration.ofMillis(r.timeoutMillis()), r.resyncBytesPerSecond(), config.aoe().syncWrites(), stateDir(dataDir));
        ReplicationNode.DiskStores stores = role == Role.PRIMARY
                ? name -> aoe.store(TargetAddress.parse(name))
                : own::get;
        ReplicationNode node = new ReplicationNode(settings, specs, stores, registry).start();
        if (role == Role.PRIMARY && aoe != null) aoe.replicateThrough(new AoeWrites(node, config.aoe().syncWrites()));
        if (role == Role.STANDBY) log.info("replication: this node is STANDBY: it serves no AoE and applies the primary's writes to {} disk(s)", specs.size());
        return new ReplicationService(node, own);
    }

    /** The AoE target's view of the replication: disks by their AoE address. */
    private record AoeWrites(ReplicationNode node, boolean durable) implements WriteReplication {
        @Override public boolean replicates(TargetAddress target) { return node.replicates(target.toString()); }
        @Override public void write(TargetAddress target, long offset, ByteBuffer data, Consumer<Boolean> done) {
            node.write(target.toString(), offset, data, durable, done);
        }
        @Override public void flush(TargetAddress target, Consumer<Boolean> done) { node.flush(target.toString(), done); }
    }

    /** The configured secret, or the secret file's (generated, mode 0600, when absent: copy it to the peer). */
    static byte[] secret(NetbootConfig.Replication r) throws IOException {
        if (!r.secret().isBlank()) return r.secret().getBytes(StandardCharsets.UTF_8);
        Path file = Path.of(r.secretFile());
        if (!Files.exists(file)) {
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            Files.createDirectories(file.toAbsolutePath().getParent());
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(file, HexFormat.of().formatHex(random) + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
                log.warn("replication: generated a new shared secret in {}: copy this file to the peer (same path, or its replication.secretFile) before the two can connect", file);
            } catch (FileAlreadyExistsException raced) {
                // another process made it first: use theirs
            }
        }
        String stored = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (stored.length() < 16) throw new IOException(file + " holds no usable secret (at least 16 characters): delete it to get a new one, or set replication.secret");
        return stored.getBytes(StandardCharsets.UTF_8);
    }

    /** This node's id, random and kept, so the two nodes always differ (the tie-breaker of the handshake). */
    static long nodeId(Path stateDir) throws IOException {
        Path file = stateDir.resolve("node-id");
        if (Files.exists(file)) return Long.parseUnsignedLong(Files.readString(file).strip(), 16);
        Files.createDirectories(stateDir);
        long id;
        do id = new SecureRandom().nextLong(); while (id == 0);
        Files.writeString(file, Long.toHexString(id) + "\n");
        return id;
    }

    @Override
    public void close() {
        node.close();
        for (BlockStore s : ownStores.values()) {
            try {
                s.flush();
                s.close();
            } catch (IOException e) {
                log.warn("replication: closing a standby store: {}", e.getMessage());
            }
        }
    }
}
