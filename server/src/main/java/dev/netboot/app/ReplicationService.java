package dev.netboot.app;

import dev.netboot.aoe.AoeServer;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.aoe.WriteReplication;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.disks.DiskEntry;
import dev.netboot.replication.ReplicationNode;
import dev.netboot.replication.ReplicationTls;
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

    private final Path stateDir;
    private final MeterRegistry registry;
    private final java.util.concurrent.ScheduledExecutorService control =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("repl-control").daemon().factory());

    private final boolean durableWrites;

    private ReplicationService(ReplicationNode node, Map<String, BlockStore> ownStores, Path stateDir, MeterRegistry registry, boolean durableWrites) {
        this.durableWrites = durableWrites;
        this.node = node;
        this.ownStores = ownStores;
        this.stateDir = stateDir;
        this.registry = registry;
        // The CLI ('netboot replication status/verify/resolve') talks to the running server through files
        // in the state folder, as 'netboot disk' does through the catalog: no second network API to secure.
        control.scheduleWithFixedDelay(this::writeStatus, 0, 1, java.util.concurrent.TimeUnit.SECONDS);
        control.scheduleWithFixedDelay(this::takeRequests, 300, 300, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** The status file the CLI prints: {@code <dataDir>/replication/status}, rewritten every second. */
    public static Path statusFile(Path dataDir) { return stateDir(dataDir).resolve("status"); }

    /** Where the CLI drops requests ({@code NAME.request}: one line "verify DISK" or "discard DISK") and finds the answers ({@code NAME.answer}). */
    public static Path requestDir(Path dataDir) { return stateDir(dataDir).resolve("requests"); }

    /** One disk in a few words, for the web admin's disks page. */
    public String summary(String disk) {
        for (ReplicationNode.DiskStatus d : node.status()) {
            if (!d.disk().equals(disk)) continue;
            String link = node.connected() ? "peer connected" : "PEER NOT CONNECTED (" + node.lastDisconnect() + ")";
            String what = switch (d.state()) {
                case UP_TO_DATE -> "up to date";
                case SYNC_SOURCE -> String.format(java.util.Locale.ROOT, "sending the peer what it lacks: %.1f%%", d.syncPercent());
                case SYNC_TARGET -> String.format(java.util.Locale.ROOT, "syncing %.1f%% at %.1f MiB/s, %d s left (not usable until done)",
                        d.syncPercent(), d.syncBytesPerSecond() / (1 << 20), d.syncEtaSeconds());
                case DEGRADED -> "DEGRADED: written without the peer, " + (d.outOfSyncBytes() >> 10) + " KiB out of sync";
                case OUTDATED -> "outdated: may be behind the primary";
                case SPLIT_BRAIN -> "SPLIT BRAIN: both wrote while apart; 'netboot replication resolve " + disk + " --discard HOST'";
                case UNRELATED -> "UNRELATED: the copies share no history; not replicated";
                case CONNECTING, WAITING_HANDSHAKE -> "connecting";
            };
            return d.role().name().toLowerCase() + ", " + what + "; " + link;
        }
        return "not replicated (not in this server's replication)";
    }

    /** The status as text, one line per fact, readable by people and by tests. */
    public String statusText() {
        StringBuilder s = new StringBuilder();
        s.append("node ").append(Long.toHexString(node.nodeId())).append(" role ").append(node.role().name().toLowerCase())
                .append(" connected ").append(node.connected() ? "yes" : "no")
                .append(" last-heard ").append(node.lastHeardFromPeer().map(Object::toString).orElse("never"))
                .append(" written ").append(java.time.Instant.now()).append('\n');
        s.append("last-disconnect ").append(node.lastDisconnect()).append('\n');
        for (ReplicationNode.DiskStatus d : node.status()) {
            String state = switch (d.state()) {
                case UP_TO_DATE -> "up-to-date";
                case SYNC_SOURCE, SYNC_TARGET -> "syncing";
                case OUTDATED -> "outdated";
                case SPLIT_BRAIN -> "split-brain";
                default -> d.state().name().toLowerCase().replace('_', '-');
            };
            s.append(String.format(java.util.Locale.ROOT, "disk %s role %s state %s (%s) out-of-sync %d sync %.1f%% rate %.1fMiB/s eta %ds in-flight %d ids %s verify %s%n",
                    d.disk(), d.role().name().toLowerCase(), state, d.state().name().toLowerCase(), d.outOfSyncBytes(), d.syncPercent(),
                    d.syncBytesPerSecond() / (1 << 20), d.syncEtaSeconds(), d.writesInFlight(), d.ids(), d.lastVerify()));
        }
        CatalogReplication m = mirror;
        if (m != null) s.append(m.statusLine()).append('\n');
        s.append("counters");
        for (String name : List.of("netboot_replication_sent_bytes_total", "netboot_replication_received_bytes_total",
                "netboot_replication_resync_received_bytes_total", "netboot_replication_refused_connections_total")) {
            s.append(' ').append(name.replace("netboot_replication_", "").replace("_total", "").replace('_', '-')).append('=')
                    .append((long) registry.get(name).counter().count());
        }
        for (io.micrometer.core.instrument.Counter c : registry.get("netboot_replication_refused_frames_total").counters())
            s.append(" refused-").append(c.getId().getTag("reason")).append('=').append((long) c.count());
        return s.append('\n').toString();
    }

    private void writeStatus() {
        try {
            OperatorFiles.put(stateDir.resolve("status"), statusText());
        } catch (IOException | RuntimeException e) {
            log.warn("replication: cannot write the status file: {}", e.getMessage());
        }
    }

    private void takeRequests() {
        Path dir = stateDir.resolve("requests");
        if (!Files.isDirectory(dir)) return;
        try (var files = Files.list(dir)) {
            for (Path req : files.filter(f -> f.toString().endsWith(".request")).toList()) {
                String line = Files.readString(req).strip();
                Files.delete(req);
                Path answer = dir.resolve(req.getFileName().toString().replace(".request", ".answer"));
                String[] words = line.split("\\s+");
                log.info("replication: operator asks: {}", line);
                java.util.concurrent.CompletableFuture<String> result = words.length < 2 && !List.of("reconnect", "promote-force", "demote").contains(words[0])
                        ? java.util.concurrent.CompletableFuture.failedFuture(new IllegalArgumentException("'" + line + "' names no disk"))
                        : switch (words[0]) {
                    case "verify" -> node.verify(words[1]).thenApply(m -> m.isEmpty() ? "verify " + words[1] + ": both copies identical"
                            : "verify " + words[1] + ": " + m.size() + " range(s) differ: " + m + "; marked out of sync and resynced from the primary");
                    case "discard" -> node.discardLocalData(words[1]);
                    case "promote-force" -> promoteForced();
                    case "demote" -> demoteByOperator();
                    case "reconnect" -> {
                        node.reconnect();
                        yield java.util.concurrent.CompletableFuture.completedFuture("reconnecting: the link drops and comes back, and each disk compares its generation identifiers again");
                    }
                    default -> java.util.concurrent.CompletableFuture.failedFuture(new IllegalArgumentException("unknown request '" + line + "'"));
                };
                result.whenComplete((text, error) -> {
                    try {
                        OperatorFiles.put(answer, error == null ? "ok " + text + "\n"
                                : "error " + (error instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause().getMessage() : error.getMessage()) + "\n");
                    } catch (IOException e) {
                        log.warn("replication: cannot answer {}: {}", answer, e.getMessage());
                    }
                });
            }
        } catch (IOException | RuntimeException e) {
            log.warn("replication: reading operator requests failed: {}", e.getMessage());
        }
    }

    public ReplicationNode node() { return node; }

    /**
     * The store of a replicated disk, lent to the AoE target (closing the loan leaves it open here); empty if not
     * replicated, or if the catalog's file is another one than the store here (re-imaged: the catalog's mirror
     * takes the old one out of replication within a second; the new file is the AoE target's own).
     */
    public Optional<BlockStore> lend(DiskEntry entry) {
        String name = entry.target().toString();
        BlockStore s = node.replicates(name) ? ownStores.get(name) : null;
        if (s == null) return Optional.empty();
        String replicated = node.backingOf(name).orElse(""), now = dev.netboot.storage.FileIdentity.peek(Path.of(entry.path()));
        if (!replicated.isEmpty() && !replicated.equals(now)) return Optional.empty();
        return Optional.of(new dev.netboot.storage.BorrowedStore(s));
    }

    /** What the AoE target hands its writes and flushes of replicated disks to. */
    public WriteReplication writes() { return new AoeWrites(node, durableWrites); }

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
     * Starts replication of {@code disks}, whose stores it opens and keeps open for the life of the process
     * (in either role: a standby writes the peer's data into them, and after a takeover the AoE target
     * serves them through {@link #lend}, so a role change never opens a file twice). Start it before the
     * AoE target, and let the target's writes go through {@link #writes}.
     */
    public static ReplicationService start(NetbootConfig config, List<DiskEntry> disks, MeterRegistry registry)
            throws IOException, InterruptedException {
        return start(config, disks, registry, null, () -> null, DiskCloners.forConfig(config.disks(), Path.of(config.dataDir())));
    }

    /**
     * As above, and with an inventory the boot state (images, catalog, inventory rows) is mirrored too
     * ({@link CatalogReplication}); {@code currentAoe} is the AoE target serving now (it changes at a takeover);
     * {@code cloner} is this node's store of disks (disks.store), which makes the copies of disks the primary has.
     */
    public static ReplicationService start(NetbootConfig config, List<DiskEntry> disks, MeterRegistry registry,
                                           dev.netboot.inventory.Inventory inventory, java.util.function.Supplier<AoeServer> currentAoe,
                                           dev.netboot.disks.DiskCloner cloner)
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
        Map<String, BlockStore> own = new java.util.concurrent.ConcurrentHashMap<>();
        List<ReplicationNode.DiskSpec> specs = new ArrayList<>();
        ReadTuning tuning = new ReadTuning(config.tuning().zeroCopyReads(), config.tuning().mmapReads());
        // LVM thin snapshots are opened with their origin volume (a resync's "the image's data here" is compared with it).
        Map<Path, Path> origins;
        try {
            origins = cloner.originsOf(disks.stream().map(e -> Path.of(e.path())).toList());
        } catch (IOException e) {
            log.warn("replication: cannot tell which disks are thin snapshots ({}): opened as plain volumes", e.getMessage());
            origins = Map.of();
        }
        for (DiskEntry e : disks) {
            if (Boolean.TRUE.equals(e.readOnly())) continue;   // nobody writes it: nothing to replicate
            String name = e.target().toString();
            BlockStore store;
            try {
                store = BlockStores.open(Path.of(e.path()), false, config.aoe().syncWrites(), tuning, Optional.ofNullable(origins.get(Path.of(e.path()))));
            } catch (IOException ex) {
                log.warn("replication: cannot open disk {} ({}): {}; not replicated", name, e.path(), ex.getMessage());
                continue;
            }
            own.put(name, store);
            specs.add(new ReplicationNode.DiskSpec(name, store.size(), dev.netboot.storage.FileIdentity.of(Path.of(e.path()))));
        }
        ReplicationNode.Settings settings = new ReplicationNode.Settings(nodeId, role, secret, listen, peer.getHostString(), peer.getPort(),
                Duration.ofMillis(r.pingMillis()), Duration.ofMillis(r.timeoutMillis()), r.resyncBytesPerSecond(), config.aoe().syncWrites(), stateDir(dataDir));
        boolean failover = r.failover();
        // Every replicated disk known at start is opened here once and lent to the AoE target (a role change never
        // opens a file twice); a disk exported later (a clone made while running) is the AoE target's own store.
        ReplicationNode.DiskStores stores = new ReplicationNode.DiskStores() {
            @Override public BlockStore store(String name) throws IOException {
                BlockStore s = own.get(name);
                if (s != null) return s;
                AoeServer a = currentAoe.get();
                return a == null ? null : a.store(TargetAddress.parse(name));
            }

            /** A disk that left replication (removed, or another file now): the file opened for it here is closed, never lent again. */
            @Override public void released(String name) {
                BlockStore s = own.remove(name);
                if (s == null) return;
                try {
                    s.flush();
                    s.close();
                } catch (IOException e) {
                    log.warn("replication: closing the store of {}: {}", name, e.getMessage());
                }
            }
        };
        ReplicationNode node = new ReplicationNode(settings, specs, stores, registry, failover);
        CatalogReplication mirror = null;
        if (inventory != null) {
            // With a shared PostgreSQL inventory both servers see the same rows: only local files and the catalog are mirrored.
            boolean shared = !config.inventory().url().startsWith("jdbc:h2:");
            boolean leases = "full".equalsIgnoreCase(config.dhcp().mode().strip());
            mirror = CatalogReplication.start(role, node, inventory, new dev.netboot.disks.DiskCatalog(dataDir), cloner, dataDir, !shared, leases, address -> {
                try {
                    BlockStore s = stores.store(address);
                    return s == null ? null : s.size();
                } catch (IOException e) {
                    return null;
                }
            });
        }
        if (r.tls()) node.withTls(tls(r, stateDir(dataDir)));
        if (role == Role.STANDBY || failover) {
            dev.netboot.disks.DiskCatalog catalog = new dev.netboot.disks.DiskCatalog(dataDir);
            CatalogReplication m = mirror;
            node.createMissingDisksWith((name, size) -> createForPrimary(catalog, cloner, dataDir, name, size, config.aoe().syncWrites(), tuning, own, m));
        }
        node.start();
        if (role == Role.STANDBY && !failover) log.info("replication: this node is STANDBY: it serves no AoE and applies the primary's writes to {} disk(s)", specs.size());
        ReplicationService service = new ReplicationService(node, own, stateDir(dataDir), registry, config.aoe().syncWrites());
        service.mirror = mirror;
        service.failover = failover;
        return service;
    }

    /** With failover the roles follow {@link FailoverService}: the operator's forced promotion and demotion go through it. */
    private volatile boolean failover;

    /**
     * With failover, the operator's role commands are the failover's to decide and carry out (one decision in
     * one place: the term, the service address, AoE, the boot services), never a side path around it.
     */
    public interface OperatorRoles {
        java.util.concurrent.CompletableFuture<String> promoteForced();

        java.util.concurrent.CompletableFuture<String> demote();
    }

    private volatile OperatorRoles failoverRoles;

    /** With failover: {@code promote --force} and {@code demote} are handed to {@code roles} (the {@link FailoverService}). */
    public void rolesDecidedBy(OperatorRoles roles) { this.failoverRoles = roles; }

    /** What the appliance does when the operator moves this node's role by hand (no failover): AoE served or stopped. */
    public interface AoeServing {
        void start() throws IOException;

        void stop();
    }

    private volatile AoeServing aoeServing;

    /** The appliance's AoE target, started by {@code netboot replication promote --force} and stopped by {@code demote}. */
    public void servesAoeThrough(AoeServing serving) { this.aoeServing = serving; }

    /**
     * {@code netboot replication promote --force} (DRBD's {@code primary --force}): this standby serves
     * although it cannot reach its peer. Refused while the peer is connected (nothing forces anything then).
     * With failover it is the failover's forced takeover ({@link FailoverService#promoteForced}). If the peer
     * still serves, both now take writes: the split brain the identifiers show when the link heals, resolved
     * only by the operator.
     */
    java.util.concurrent.CompletableFuture<String> promoteForced() {
        AoeServing serving = aoeServing;
        if (failover) {
            OperatorRoles roles = failoverRoles;
            return roles == null ? refused("the failover is not running yet") : roles.promoteForced();
        }
        if (node.role() == Role.PRIMARY) return refused("this node is primary already");
        if (node.connected())
            return refused("the peer is connected: a forced promotion is for a peer that is gone (make the peer standby first)");
        if (serving == null) return refused("this server has no AoE target to start");
        log.warn("replication: FORCED PROMOTION by the operator: this node serves its disks without its peer (last disconnect: {}). "
                + "If the peer still serves, both copies now take writes: a SPLIT BRAIN when the link heals, until 'netboot replication resolve DISK --discard HOST'",
                node.lastDisconnect());
        // The AoE target starts off the replication loop (it asks the node for its disks), after the data path is primary.
        return node.promoteForced().thenApplyAsync(refused -> {
            try {
                serving.start();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("promoted, but the AoE target did not start: " + e.getMessage(), e);
            }
            return "this node is PRIMARY and serves AoE without its peer" + (refused.isEmpty() ? "" : "; not promoted (their copies must not serve): " + refused)
                    + "; if the peer still serves, this is a split brain when the link heals";
        }, r -> Thread.ofVirtual().start(r));
    }

    /** An operator's request this node will not carry out, and why (the CLI prints it and exits 2). */
    private static java.util.concurrent.CompletableFuture<String> refused(String why) {
        return java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException(why));
    }

    /**
     * {@code netboot replication demote}: stop serving AoE, then standby once every write in flight is answered.
     * With failover only while apart from the peer ({@link FailoverService#demote}).
     */
    java.util.concurrent.CompletableFuture<String> demoteByOperator() {
        AoeServing serving = aoeServing;
        if (failover) {
            OperatorRoles roles = failoverRoles;
            return roles == null ? refused("the failover is not running yet") : roles.demote();
        }
        if (node.role() == Role.STANDBY) return refused("this node is standby already");
        log.warn("replication: DEMOTION by the operator: AoE stops on this node, its disks become standby copies");
        if (serving != null) serving.stop();
        return node.demote().thenApply(v -> "this node is STANDBY: it serves no AoE and dials its peer");
    }

    private volatile CatalogReplication mirror;

    /** The boot state's mirror, or null when this service was started without an inventory. */
    public CatalogReplication catalogMirror() { return mirror; }

    /** The link's TLS identity: the operator's PEM files, or a self-signed certificate generated once into {@code <dataDir>/replication/tls/}. */
    static ReplicationTls tls(NetbootConfig.Replication r, Path stateDir) throws IOException {
        dev.netboot.web.TlsIdentity id = r.tlsCertificate().isBlank()
                ? dev.netboot.web.TlsIdentity.selfSigned(stateDir.resolve("tls").resolve("replication-cert.pem"), stateDir.resolve("tls").resolve("replication-key.pem"))
                : dev.netboot.web.TlsIdentity.fromPem(Path.of(r.tlsCertificate()), Path.of(r.tlsKey()));
        try {
            java.security.PrivateKey key = (java.security.PrivateKey) id.keyStore().getKey(dev.netboot.web.TlsIdentity.ALIAS, id.password());
            List<java.security.cert.X509Certificate> chain = new ArrayList<>();
            for (java.security.cert.Certificate c : id.keyStore().getCertificateChain(dev.netboot.web.TlsIdentity.ALIAS)) chain.add((java.security.cert.X509Certificate) c);
            log.info("replication: TLS identity from {}", id.source());
            return new ReplicationTls(key, chain, r.peerFingerprint());
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("replication TLS identity " + id.source() + ": " + e.getMessage(), e);
        }
    }

    /**
     * A disk the primary has and this standby lacks: a blank disk of the same size made by this node's store
     * (a sparse file under the data directory, or a thin volume) and a catalog entry at the same address
     * (allowing no MAC until an operator or a takeover says otherwise). One the catalog's mirror made (a clone
     * of the local image copy) is taken as it is; without a mirror a clone on the primary becomes a blank disk
     * here, and the full sync copies its image's data too (correct, not space-saving).
     */
    private static Optional<ReplicationNode.DiskSpec> createForPrimary(dev.netboot.disks.DiskCatalog catalog, dev.netboot.disks.DiskCloner cloner,
                                                                       Path dataDir, String name, long size,
                                                                       boolean syncWrites, ReadTuning tuning, Map<String, BlockStore> own,
                                                                       CatalogReplication mirror) {
        try {
            if (mirror != null && mirror.replacing(name)) {
                // The catalog's mirror is swapping the old copy for a new one (the primary re-imaged it): neither file now.
                mirror.deferDisk(name);
                log.info("replication: {} is being replaced by a new copy; it joins once that is made", name);
                return Optional.empty();
            }
            TargetAddress address = TargetAddress.parse(name);
            Optional<DiskEntry> existing = catalog.list().stream().filter(e -> e.target().equals(address)).findFirst();
            if (existing.isPresent() && Files.exists(Path.of(existing.get().path()))) {
                // Made by the catalog's mirror since this node started (a clone of the local image copy): replicate it as it is.
                Path at = Path.of(existing.get().path());
                BlockStore store = BlockStores.open(at, false, syncWrites, tuning, cloner.originOf(at));
                if (store.size() != size) {
                    store.close();
                    log.warn("replication: {} here ({}) has {} bytes, the primary's {}: not replicated", name, existing.get().path(), store.size(), size);
                    return Optional.empty();
                }
                synchronized (own) {
                    own.put(name, store);
                }
                log.info("replication: {} ({}) from the catalog joins the replication", name, existing.get().path());
                return Optional.of(new ReplicationNode.DiskSpec(name, size, dev.netboot.storage.FileIdentity.of(Path.of(existing.get().path()))));
            }
            if (existing.isPresent()) {
                log.warn("replication: the catalog here has {} already ({}) but replication could not use it; not creating another", name, existing.get().path());
                return Optional.empty();
            }
            if (mirror != null) {
                // The catalog's mirror makes the copies of the primary's disks (a clone of the local image copy where the
                // primary's disk is one). Its catalog may be behind even when the last state applied (a re-image comes as
                // a removal, then the new disk): a blank disk made here would race the mirror's own copy for the address.
                mirror.deferDisk(name);
                log.info("replication: {} waits for the primary's catalog (it joins once the catalog's mirror has made its copy)", name);
                return Optional.empty();
            }
            Path file = dev.netboot.disks.DiskCatalog.defaultImage(dataDir, address);
            if (Files.exists(file)) {
                log.warn("replication: {} exists but is not in the catalog; not overwriting it (remove it or add it with 'netboot disk export')", file);
                return Optional.empty();
            }
            // A new copy starts blank: state left under the name by an earlier disk (removed while this server was down)
            // would describe another copy, and a thin volume has no file identity to tell them apart.
            dev.netboot.replication.ReplicaFiles.discard(stateDir(dataDir), name);
            // Made by this node's store (disks.store), as its own disks are: a sparse file there, or a thin volume.
            file = cloner.copyOf(Optional.empty(), "disk-" + name, size, file);
            catalog.add(new DiskEntry(name, file.toString(), List.of(), false, false));
            BlockStore store = BlockStores.open(file, false, syncWrites, tuning);
            synchronized (own) {
                own.put(name, store);
            }
            log.info("replication: created {} ({} MiB) at {} for the primary's copy", name, size >> 20, file);
            return Optional.of(new ReplicationNode.DiskSpec(name, size, dev.netboot.storage.FileIdentity.of(file)));
        } catch (IOException | RuntimeException e) {
            log.warn("replication: cannot create disk {} for the primary's copy: {}", name, e.getMessage());
            return Optional.empty();
        }
    }

    /** The AoE target's view of the replication: disks by their AoE address. */
    private record AoeWrites(ReplicationNode node, boolean durable) implements WriteReplication {
        @Override public boolean replicates(TargetAddress target) { return node.replicates(target.toString()); }
        @Override public void write(TargetAddress target, long offset, ByteBuffer data, Consumer<Boolean> done) {
            node.write(target.toString(), offset, data, durable, done);
        }
        @Override public void flush(TargetAddress target, Consumer<Boolean> done) { node.flush(target.toString(), done); }
        @Override public void writeHeld(TargetAddress target, long offset, ByteBuffer data, Consumer<Boolean> done) {
            node.writeHeld(target.toString(), offset, data, durable, done);
        }
        @Override public void handOver() { node.handOver(); }
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
        control.shutdownNow();
        CatalogReplication m = mirror;
        if (m != null) m.close();
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
