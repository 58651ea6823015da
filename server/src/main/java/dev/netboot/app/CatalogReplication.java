package dev.netboot.app;

import dev.netboot.aoe.TargetAddress;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskCloner;
import dev.netboot.disks.DiskEntry;
import dev.netboot.inventory.Client;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.LeaseRecord;
import dev.netboot.net.Ipv4;
import dev.netboot.replication.BootState;
import dev.netboot.replication.BootState.*;
import dev.netboot.replication.CatalogMirror;
import dev.netboot.replication.CatalogMirror.Effect;
import dev.netboot.replication.FileSuccession;
import dev.netboot.replication.ReplicaFiles;
import dev.netboot.replication.ReplicaState;
import dev.netboot.replication.ReplicationMessage;
import dev.netboot.replication.ReplicationNode;
import dev.netboot.replication.Role;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.storage.FileIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Runs the {@link CatalogMirror} of this node: on the primary it reads the boot state (images with their
 * files' SHA-256, the disk catalog, and with a node-local H2 inventory the clients, assignments, disks and,
 * in full DHCP mode, the leases) every second and publishes it when it changed; on the standby it fetches
 * missing image files into {@code <dataDir>/images/.incoming/}, moves them into place once checked, and
 * makes its catalog and inventory match (clones of the local image copy, plain sparse files for other
 * disks; the data itself comes through the disks' replication). With a shared PostgreSQL inventory only
 * what is local to a server is mirrored: image files and the disk catalog (the rows are the same already).
 *
 * <p>All calls into the mirror run on one thread ({@code catalog-mirror}); hashing and copying run there
 * too (they are rare: an image is copied once), never on the link's event loop.
 */
public final class CatalogReplication implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CatalogReplication.class);

    private final CatalogMirror mirror;
    private final ReplicationNode node;
    private final Inventory inventory;
    private final DiskCatalog catalog;
    private final Path dataDir;
    /** This node's store of disks (disks.store): it makes and deletes the copies, as it does this node's own disks. */
    private final DiskCloner cloner;
    private final boolean mirrorInventory;
    private final boolean leases;
    /** Primary: the size of an exported disk's store (null when not exported), to replicate disks added at run time. */
    private final Function<String, Long> exportedSize;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("catalog-mirror").daemon().factory());
    private final Map<String, CachedHash> hashes = new ConcurrentHashMap<>();
    /** Standby: the state of the last Apply is here (the disk creator may use the catalog's entries). */
    private volatile boolean inSyncWithPeer;
    private final Set<String> deferredDisks = ConcurrentHashMap.newKeySet();
    /** Standby: disks whose old copy is being discarded for the primary's new file: the data path must not take either file meanwhile. */
    private final Set<String> replacing = ConcurrentHashMap.newKeySet();
    /** Standby: "address identity" pairs already logged as not proven replaced (logged once, not every second). */
    private final Set<String> notProven = ConcurrentHashMap.newKeySet();

    private record CachedHash(long size, long modified, byte[] sha256) {}

    private CatalogReplication(Role role, ReplicationNode node, Inventory inventory, DiskCatalog catalog, DiskCloner cloner, Path dataDir,
                               boolean mirrorInventory, boolean leases, Function<String, Long> exportedSize) {
        this.cloner = cloner;
        this.mirror = role == Role.PRIMARY ? CatalogMirror.source() : CatalogMirror.target();
        this.node = node;
        this.inventory = inventory;
        this.catalog = catalog;
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.mirrorInventory = mirrorInventory;
        this.leases = leases;
        this.exportedSize = exportedSize;
    }

    /**
     * Starts mirroring. {@code mirrorInventory} is false when both servers share one inventory (PostgreSQL);
     * {@code leases} in full DHCP mode.
     */
    public static CatalogReplication start(Role role, ReplicationNode node, Inventory inventory, DiskCatalog catalog, DiskCloner cloner, Path dataDir,
                                           boolean mirrorInventory, boolean leases, Function<String, Long> exportedSize) {
        CatalogReplication c = new CatalogReplication(role, node, inventory, catalog, cloner, dataDir, mirrorInventory, leases, exportedSize);
        node.onCatalog(new ReplicationNode.CatalogListener() {
            @Override public void linkUp() { c.on(() -> { c.inSyncWithPeer = false; return c.mirror.linkUp(); }); }
            @Override public void linkDown() { c.on(() -> { c.inSyncWithPeer = false; return c.mirror.linkDown(); }); }
            @Override public void received(ReplicationMessage m) { c.on(() -> c.mirror.received(m)); }
        });
        if (role == Role.PRIMARY) c.thread.scheduleWithFixedDelay(c::publish, 0, 1, TimeUnit.SECONDS);
        log.info("catalog mirror: {} of images{}{} over the replication link", role == Role.PRIMARY ? "source" : "target",
                mirrorInventory ? ", disk catalog and inventory" : " and disk catalog (the inventory is shared)", leases ? " with DHCP leases" : "");
        return c;
    }

    private volatile Runnable refreshExports = () -> { };

    /** Primary: how the AoE exports are brought in line with the catalog now (the appliance's exporter, once it runs). */
    public void refreshExportsWith(Runnable refresh) { this.refreshExports = refresh; }

    /** Standby: whether the primary's latest boot state is applied here (for this connection). */
    public boolean inSyncWithPeer() { return inSyncWithPeer; }

    /**
     * Standby: a disk the primary's Hello names that the catalog here lacked; the link is renewed once the state that
     * has it is applied. Decided on the mirror's thread, after any state being applied: one that brought the disk
     * meanwhile renews the link now, or the disk would wait for a state that may never come.
     */
    public void deferDisk(String name) {
        thread.execute(() -> {
            TargetAddress address = TargetAddress.parse(name);
            boolean arrived;
            try {
                arrived = !replacing.contains(name)
                        && catalog.list().stream().anyMatch(e -> e.target().equals(address) && Files.exists(Path.of(e.path())));
            } catch (IOException | RuntimeException e) {
                arrived = false;   // unreadable now: waits for the next applied state, as before
            }
            if (!arrived) {
                deferredDisks.add(name);
            } else if (node.connected()) {
                log.info("catalog mirror: disk {} the primary replicates arrived in the catalog meanwhile: renewing the link to take it", name);
                node.reconnect();
            }
        });
    }

    /** Standby: the copy of this disk is being replaced by a new one (the primary re-imaged it); ask again once the state is applied. */
    public boolean replacing(String name) { return replacing.contains(name); }

    /** One line for the status file. */
    public String statusLine() {
        if (mirror.side() == CatalogMirror.Side.SOURCE)
            return "catalog version " + mirror.version() + " peer-applied " + mirror.peerApplied()
                    + (mirror.peerProblem().isEmpty() ? "" : " peer-problem " + mirror.peerProblem());
        return "catalog applied-version " + mirror.version() + (mirror.busy() ? " fetching " + (mirror.fetchedBytes() >> 20) + "MiB" : "")
                + " in-sync " + (inSyncWithPeer ? "yes" : "no");
    }

    private interface Step { List<Effect> run() throws Exception; }

    private void on(Step step) {
        thread.execute(() -> {
            try {
                carryOut(step.run());
            } catch (Exception | AssertionError e) {
                log.warn("catalog mirror: {}", e.toString(), e);
            }
        });
    }

    private void carryOut(List<Effect> effects) throws IOException {
        List<Effect> work = new ArrayList<>(effects);
        while (!work.isEmpty()) {
            Effect e = work.removeFirst();
            List<Effect> next = switch (e) {
                case Effect.Send s -> {
                    if (s.message() instanceof ReplicationMessage.CatalogApplied a && mirror.side() == CatalogMirror.Side.TARGET && a.problem().isEmpty())
                        applied();
                    node.sendCatalog(s.message());
                    yield List.of();
                }
                case Effect.ReadImage r -> mirror.imageRead(r.request(), readImage(r.request()));
                case Effect.CheckLocalImages c -> mirror.localImages(c.version(), present(c.images()));
                case Effect.WriteImage w -> mirror.imageWritten(w.image(), w.file(), w.offset(), w.data().remaining(), writeIncoming(w));
                case Effect.VerifyImageFile v -> mirror.imageVerified(v.image(), v.file().path(), verifyIncoming(v.image(), v.file()));
                case Effect.Apply a -> mirror.applied(a.version(), apply(a.state()));
                case Effect.Report r -> {
                    if (r.problem()) log.warn("catalog mirror: {}", r.message());
                    else log.info("catalog mirror: {}", r.message());
                    yield List.of();
                }
            };
            work.addAll(0, next);
        }
    }

    /** Standby: the primary's state is here; disks its Hello named before the catalog had them are asked for again. */
    private void applied() {
        inSyncWithPeer = true;
        if (!deferredDisks.isEmpty()) {
            log.info("catalog mirror: the catalog now has {} disk(s) the primary replicates: renewing the link to take them", deferredDisks.size());
            deferredDisks.clear();
            node.reconnect();
        }
    }

    // ---------------------------------------------------------------- primary: reading the state

    private void publish() {
        try {
            // The catalog's writable disks, read once for this round: address → file.
            Map<String, String> files = new HashMap<>();
            for (DiskEntry e : catalog.list()) if (!Boolean.TRUE.equals(e.readOnly())) files.put(e.address(), e.path());
            // A replaced file is exported anew before its disk joins the data path (the AoE target's store is the one replicated).
            if (dropReplacedDisks(files)) refreshExports.run();
            BootState state = read();
            carryOut(mirror.publish(state));
            boolean answered = mirror.peerApplied() == mirror.version();
            if (answered && mirror.peerProblem().isEmpty())
                for (DiskRecord d : state.disks())
                    if (Disk.CLONE.equals(d.kind())) node.peerHoldsBaseOf(d.address());
            // A new disk joins the data path once the standby has it in its catalog (as a clone of its own image
            // copy, so the first full sync sends only the clone's own blocks), or at once when no standby is there.
            if (answered || !node.connected()) replicateNewDisks(state, files);
        } catch (Exception e) {
            log.warn("catalog mirror: cannot read the boot state: {}", e.toString());
        }
    }

    /** Addresses the catalog listed at the last look: only those leave replication when the catalog drops them. */
    private Set<String> catalogued = Set.of();

    /**
     * Disks removed from the catalog, or whose address now names another file (a PC re-imaged: 'assign
     * --replace'), leave the data path; the new file joins below as a new disk (new replica state). Disks the
     * catalog never listed (the config's aoe.targets) are left alone.
     */
    private boolean dropReplacedDisks(Map<String, String> files) {
        List<String> gone = new ArrayList<>();
        for (String name : node.disks()) {
            String path = files.get(name);
            if (path == null) {
                if (catalogued.contains(name)) gone.add(name);
                continue;
            }
            String was = node.backingOf(name).orElse("");
            String now = dev.netboot.storage.FileIdentity.peek(Path.of(path));
            if (!was.isEmpty() && !was.equals(now)) gone.add(name);
        }
        catalogued = Set.copyOf(files.keySet());
        if (gone.isEmpty()) return false;
        log.warn("catalog mirror: disk(s) {} removed or replaced by another file: they leave replication (a new file joins as a new disk)", gone);
        try {
            node.removeDisks(gone).get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("catalog mirror: taking {} out of replication: {}", gone, e.toString());
        }
        return true;
    }

    /** Disks exported since the start (a clone, 'disk create') join the data path's replication. */
    private void replicateNewDisks(BootState state, Map<String, String> files) {
        List<ReplicationNode.DiskSpec> added = new ArrayList<>();
        Set<String> have = node.disks();
        for (DiskRecord d : state.disks()) {
            // Only a disk the replacement check above saw: one the catalog got since (a CLI re-image's new entry) waits
            // for the next round, or it would join under the old file's replica state.
            if (d.readOnly() || have.contains(d.address()) || !files.containsKey(d.address())) continue;
            Long size = exportedSize.apply(d.address());
            if (size != null) added.add(new ReplicationNode.DiskSpec(d.address(), size, identityOf(files.get(d.address()))));
        }
        if (!added.isEmpty()) node.addDisks(added);
    }

    /** The identity of a disk's file (tagged now if it has none), or "" when the catalog lists none. */
    private static String identityOf(String file) {
        return file == null ? "" : dev.netboot.storage.FileIdentity.of(Path.of(file));
    }

    BootState read() throws IOException {
        List<ImageManifest> images = new ArrayList<>();
        for (Image i : inventory.images()) images.add(manifest(i));
        Map<String, Disk> diskByPath = new HashMap<>();
        for (Disk d : inventory.disks()) diskByPath.put(Path.of(d.path()).toAbsolutePath().normalize().toString(), d);
        List<DiskRecord> disks = new ArrayList<>();
        for (DiskEntry e : catalog.list()) {
            Path p = Path.of(e.path()).toAbsolutePath().normalize();
            Disk d = diskByPath.get(p.toString());
            // Which file this is, and which files it replaced at this address here (a re-image): the standby follows
            // a replacement only on that word. A read-only disk is not replicated: nothing to tell.
            boolean writable = !Boolean.TRUE.equals(e.readOnly());
            String identity = writable ? FileIdentity.of(p) : "";
            List<String> replaced = identity.isEmpty() ? List.of() : ReplicaFiles.replacedBackings(ReplicationService.stateDir(dataDir), e.address());
            disks.add(new DiskRecord(e.address(), d == null ? "" : d.name(), relative(p), d == null ? "" : d.imageName(), d == null ? "" : d.kind(),
                    d == null ? sizeOf(p) : d.sizeBytes(), e.allowedMacs(), e.open(), e.readOnly(), e.interfaces(), identity, replaced));
        }
        List<ClientRecord> clients = new ArrayList<>();
        List<LeaseRow> leaseRows = new ArrayList<>();
        if (mirrorInventory) {
            for (Client c : inventory.clients()) {
                var a = inventory.assignment(c.mac());
                var d = inventory.diskOf(c.mac());
                // first/last seen are left out: they change at every boot and no boot decision reads them.
                clients.add(new ClientRecord(c.mac(), n(c.hostname()), n(c.architecture()), n(c.uuid()), n(c.bootFile()), n(c.state()), 0, 0,
                        a.map(x -> x.imageName()).orElse(""), d.map(Disk::name).orElse(""), a.map(x -> x.shelf()).orElse(-1), a.map(x -> x.slot()).orElse(-1)));
            }
            if (leases)
                for (LeaseRecord l : inventory.leases())
                    leaseRows.add(new LeaseRow(l.address().toString(), n(l.clientKey()), n(l.mac()), n(l.hostname()), n(l.state()), l.expires().toEpochMilli()));
        }
        return new BootState(images, disks, clients, leaseRows);
    }

    private ImageManifest manifest(Image i) throws IOException {
        Path root = Path.of(i.path()).toAbsolutePath().normalize();
        List<ImageFile> files = new ArrayList<>();
        if (Files.isDirectory(root)) {
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path f : walk.filter(Files::isRegularFile).sorted().toList())
                    files.add(new ImageFile(root.relativize(f).toString(), Files.size(f), sha256(f)));
            }
        }
        String diskFile = "";
        if (!i.diskPath().isEmpty()) {
            Path disk = Path.of(i.diskPath()).toAbsolutePath().normalize();
            if (disk.startsWith(root)) diskFile = root.relativize(disk).toString();
        }
        return new ImageManifest(i.name(), diskFile, n(i.kernelVersion()), n(i.description()), n(i.source()), i.created().toEpochMilli(), files);
    }

    /** SHA-256 of a file, kept while its size and modification time stay (images never change: each is hashed once). */
    private byte[] sha256(Path f) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(f, BasicFileAttributes.class);
        String key = f.toString();
        CachedHash c = hashes.get(key);
        if (c != null && c.size == attrs.size() && c.modified == attrs.lastModifiedTime().toMillis()) return c.sha256;
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long started = System.nanoTime();
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        byte[] sha = md.digest();
        hashes.put(key, new CachedHash(attrs.size(), attrs.lastModifiedTime().toMillis(), sha));
        if (attrs.size() > (64 << 20))
            log.info("catalog mirror: SHA-256 of {} ({} MiB) in {} ms", f, attrs.size() >> 20, (System.nanoTime() - started) / 1_000_000);
        return sha;
    }

    private ByteBuffer readImage(ReplicationMessage.ImageRequest r) {
        try {
            Image i = inventory.image(r.image()).orElseThrow(() -> new IOException("no image " + r.image()));
            Path root = Path.of(i.path()).toAbsolutePath().normalize();
            Path f = root.resolve(r.file()).normalize();
            if (!f.startsWith(root)) throw new IOException(r.file() + " is outside the image");
            ByteBuffer b = ByteBuffer.allocate(r.length());
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                while (b.hasRemaining()) if (ch.read(b, r.offset() + b.position()) < 0) throw new IOException("file ends early");
            }
            return b.flip();
        } catch (IOException | RuntimeException e) {
            log.warn("catalog mirror: reading {}/{} for the peer: {}", r.image(), r.file(), e.getMessage());
            return null;
        }
    }

    // ---------------------------------------------------------------- standby: images

    Path imagesDir() { return dataDir.resolve("images"); }

    private Path incoming(String image, String file) throws IOException {
        Path root = imagesDir().resolve(".incoming").resolve(image);
        Path f = root.resolve(file).normalize();
        if (!f.startsWith(root)) throw new IOException(file + " leaves the image folder");
        return f;
    }

    private Path placed(String image, String file) throws IOException {
        Path root = imagesDir().resolve(image);
        Path f = root.resolve(file).normalize();
        if (!f.startsWith(root)) throw new IOException(file + " leaves the image folder");
        return f;
    }

    private Set<String> present(List<ImageManifest> images) throws IOException {
        Set<String> out = new HashSet<>();
        for (ImageManifest i : images)
            for (ImageFile f : i.files())
                for (Path p : List.of(placed(i.name(), f.path()), incoming(i.name(), f.path())))
                    if (Files.isRegularFile(p) && Files.size(p) == f.sizeBytes() && MessageDigest.isEqual(sha256(p), f.sha256())) {
                        out.add(CatalogMirror.fileKey(i.name(), f));
                        break;
                    }
        return out;
    }

    private boolean writeIncoming(Effect.WriteImage w) {
        try {
            Path f = incoming(w.image(), w.file());
            Files.createDirectories(f.getParent());
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                ByteBuffer b = w.data().duplicate();
                long at = w.offset();
                while (b.hasRemaining()) at += ch.write(b, at);
            }
            return true;
        } catch (IOException e) {
            log.warn("catalog mirror: writing {}/{}: {}", w.image(), w.file(), e.getMessage());
            return false;
        }
    }

    private boolean verifyIncoming(String image, ImageFile file) {
        try {
            Path f = incoming(image, file.path());
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                if (ch.size() > file.sizeBytes()) ch.truncate(file.sizeBytes());   // left longer by an earlier copy
                ch.force(true);
            }
            return Files.size(f) == file.sizeBytes() && MessageDigest.isEqual(sha256(f), file.sha256());
        } catch (IOException e) {
            log.warn("catalog mirror: checking {}/{}: {}", image, file.path(), e.getMessage());
            return false;
        }
    }

    // ---------------------------------------------------------------- standby: applying

    /** Makes images, catalog and (unless shared) the inventory match the primary's; "" when all went well, else what did not. */
    String apply(BootState state) {
        List<String> problems = new ArrayList<>();
        for (ImageManifest i : state.images()) {
            try {
                placeImage(i);
            } catch (IOException | RuntimeException e) {
                problems.add("image " + i.name() + ": " + e.getMessage());
            }
        }
        try {
            applyDisks(state, problems);
        } catch (IOException | RuntimeException e) {
            problems.add("catalog: " + e.getMessage());
        }
        if (mirrorInventory) {
            try {
                applyClients(state, problems);
            } catch (RuntimeException e) {
                problems.add("inventory: " + e.getMessage());
            }
        }
        log.info("catalog mirror: applied the primary's boot state: {} image(s), {} disk(s), {} client(s), {} lease(s){}", state.images().size(),
                state.disks().size(), state.clients().size(), state.leases().size(), problems.isEmpty() ? "" : "; PROBLEMS: " + problems);
        return String.join("; ", problems);
    }

    private void placeImage(ImageManifest i) throws IOException {
        for (ImageFile f : i.files()) {
            Path to = placed(i.name(), f.path());
            if (Files.isRegularFile(to) && Files.size(to) == f.sizeBytes() && MessageDigest.isEqual(sha256(to), f.sha256())) continue;
            Path from = incoming(i.name(), f.path());
            if (!Files.isRegularFile(from)) throw new IOException(f.path() + " is neither placed nor fetched");
            if (Files.exists(to)) throw new IOException(to + " exists with other content; images never change: not overwriting it (remove the image here)");
            Files.createDirectories(to.getParent());
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        }
        Path root = imagesDir().resolve(i.name());
        if (mirrorInventory && inventory.image(i.name()).isEmpty()) {
            inventory.addImage(new Image(0, i.name(), root.toString(), i.diskFile().isEmpty() ? "" : root.resolve(i.diskFile()).toString(),
                    i.kernelVersion(), i.sizeBytes(), i.description(), i.source(), Instant.ofEpochMilli(i.createdMillis())));
            log.info("catalog mirror: image {} is here ({} file(s), {} MiB, SHA-256 checked)", i.name(), i.files().size(), i.sizeBytes() >> 20);
        }
    }

    private void applyDisks(BootState state, List<String> problems) throws IOException {
        Map<String, DiskEntry> mine = new HashMap<>();
        for (DiskEntry e : catalog.list()) mine.put(e.address(), e);
        Set<String> theirs = new HashSet<>();
        try {
            applyDisks(state, problems, mine, theirs);
        } finally {
            replacing.clear();   // the catalog has the new copies now: a Hello that came meanwhile is answered at CatalogApplied
        }
        // Only what the primary had and removed since the last applied state goes: a disk this server has of its
        // own (or one removed while it was down) is never deleted by a state that merely lacks it.
        Set<String> before = new HashSet<>();
        BootState previous = mirror.lastApplied();
        if (previous != null) for (DiskRecord d : previous.disks()) before.add(d.address());
        for (DiskEntry e : mine.values()) {
            if (theirs.contains(e.address()) || !before.contains(e.address())) continue;
            // Removed on the primary: removed here too (the file goes with it: a stale copy must not be served after a takeover).
            boolean leftReplication = true;
            try {
                node.removeDisks(List.of(e.address())).get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception ex) {
                problems.add("disk " + e.address() + ": leaving replication: " + ex);
                leftReplication = false;
            }
            catalog.remove(e.target());
            if (mirrorInventory)
                for (Disk d : inventory.disks())
                    if (Path.of(d.path()).toAbsolutePath().normalize().equals(Path.of(e.path()).toAbsolutePath().normalize())) inventory.removeDisk(d.name());
            Path p = Path.of(e.path());
            if (cloner.holds(p)) cloner.deleteCopy(p);
            else log.warn("catalog mirror: disk {} was removed on the primary; its copy {} is not a disk of this server's store (disks.store): left in place", e.address(), p);
            ReplicaFiles.recordMirroredPrimaryFile(stateDir(), e.address(), "");   // no copy here mirrors anything now
            // Nor does its replica state describe a copy: a new disk at the address starts blank (a thin volume has no
            // file identity by which a new one would be told from the old).
            if (leftReplication) ReplicaFiles.discard(stateDir(), e.address());
            log.info("catalog mirror: disk {} ({}) removed as on the primary", e.address(), e.path());
        }
    }

    private void applyDisks(BootState state, List<String> problems, Map<String, DiskEntry> mine, Set<String> theirs) throws IOException {
        for (DiskRecord d : state.disks()) {
            theirs.add(d.address());
            try {
                DiskEntry here = mine.get(d.address());
                String recorded = ReplicaFiles.mirroredPrimaryFile(stateDir(), d.address());
                FileSuccession succession = FileSuccession.decide(recorded, d.fileIdentity(), d.replacedIdentities());
                boolean discarded = here != null && succession == FileSuccession.REPLACED && discardReplaced(d, here);
                if (here != null && succession == FileSuccession.NOT_PROVEN && notProven.add(d.address() + " " + d.fileIdentity()))
                    log.warn("catalog mirror: disk {} on the primary is another file ({}) than the one the copy here mirrors ({}), and the primary "
                            + "does not say it replaced that one (rebuilt primary?): the copy here is KEPT; the handshake decides (unrelated copies are not synced)",
                            d.address(), d.fileIdentity(), recorded);
                Path path = here != null && !discarded ? Path.of(here.path()) : resolve(d.path());
                boolean created = !Files.exists(path);
                if (created) path = create(d, path);
                else if (Disk.CLONE.equals(d.kind()) && Files.isRegularFile(path) && !CowBlockStore.isClone(path))
                    // Made before the image was here (a plain copy): correct, but its resync must carry the image's data too.
                    throw new IOException(path + " here is a plain copy, not a clone of image " + d.image());
                DiskEntry want = new DiskEntry(d.address(), path.toString(), d.allowedMacs(), d.open(), d.readOnly(), d.interfaces());
                if (!want.equals(here)) {
                    if (here == null) catalog.add(want);
                    else catalog.replace(want);
                }
                if (mirrorInventory && !d.name().isEmpty()) {
                    Optional<Disk> row = inventory.disk(d.name());
                    if (row.isEmpty()) {
                        long imageId = inventory.image(d.image()).map(Image::id).orElseThrow(() -> new IOException("no image " + d.image() + " here"));
                        inventory.addDisk(d.name(), imageId, path.toString(), d.sizeBytes(), d.kind(), Instant.now());
                    } else if (!row.get().kind().equals(d.kind())) {
                        inventory.setDiskKind(d.name(), d.kind());   // a flatten on the primary
                    }
                }
                // Which primary file the copy here mirrors, kept for a restart: a copy made now mirrors the primary's file now.
                if (!d.fileIdentity().isEmpty() && !d.fileIdentity().equals(recorded) && (created || discarded || succession == FileSuccession.FIRST_SIGHT))
                    ReplicaFiles.recordMirroredPrimaryFile(stateDir(), d.address(), d.fileIdentity());
            } catch (IOException | RuntimeException e) {
                problems.add("disk " + d.address() + ": " + e.getMessage());
            }
        }
    }

    private Path stateDir() { return ReplicationService.stateDir(dataDir); }

    /**
     * The primary replaced the file this standby's copy of {@code d} mirrors (a PC re-imaged: 'assign --replace', or a
     * remove and a new clone at the freed address): the copy leaves the data path, its file and replica state go, and
     * the caller makes the new copy (a clone of the new image's local copy, or a sparse file) that a full sync fills.
     * Refused (the copy kept, the operator told) where this node serves the disk, where its copy is in split brain
     * (it holds writes the primary never had), or where the file is not under the data directory.
     */
    private boolean discardReplaced(DiskRecord d, DiskEntry here) throws IOException {
        Path old = Path.of(here.path()).toAbsolutePath().normalize();
        Optional<ReplicationNode.DiskStatus> status = node.status().stream().filter(x -> x.disk().equals(d.address())).findFirst();
        String refused = node.role() != Role.STANDBY ? "this node serves it (primary)"
                : status.map(x -> x.role() != Role.STANDBY || x.state() == ReplicaState.SPLIT_BRAIN).orElse(false)
                ? "the copy here is " + status.get().state().name().toLowerCase() + " as " + status.get().role().name().toLowerCase() + " (it may hold writes the primary never had)"
                : !cloner.holds(old) ? old + " is not a disk of this server's store (under the data directory, or a volume of its thin pool)" : "";
        if (!refused.isEmpty()) {
            if (notProven.add(d.address() + " " + d.fileIdentity()))
                log.warn("catalog mirror: disk {} was replaced on the primary, but the copy here is KEPT: {}; remove it by hand ('netboot disk remove {}' "
                        + "with this server stopped) once nothing in it is needed, and a new copy is made", d.address(), refused, d.address());
            return false;
        }
        log.warn("catalog mirror: disk {} was replaced on the primary (re-imaged{}): the old copy here ({}) is discarded and a full sync of the new one follows",
                d.address(), d.image().isEmpty() ? "" : " from image " + d.image(), old);
        replacing.add(d.address());
        try {
            node.removeDisks(List.of(d.address())).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("taking the old copy out of replication: " + e, e);
        }
        cloner.deleteCopy(old);
        if (mirrorInventory)
            for (Disk row : inventory.disks())
                if (Path.of(row.path()).toAbsolutePath().normalize().equals(old)) inventory.removeDisk(row.name());   // re-added below with the new image
        ReplicaFiles.discard(stateDir(), d.address());
        return true;
    }

    /**
     * The copy, made by this node's store as its own disks are (disks.store: a clone overlay or sparse file at
     * {@code path}, or a thin snapshot or volume of the pool): a clone of the local image copy when the primary's
     * disk reads from that image (a clone or snapshot), else blank; its data comes by replication. Returns its path.
     */
    private Path create(DiskRecord d, Path path) throws IOException {
        Optional<Image> base = Disk.STANDALONE.equals(d.kind()) ? Optional.empty() : localImage(d.image());
        String name = d.name().isEmpty() ? "disk-" + d.address() : d.name();
        Path made = cloner.copyOf(base, name, d.sizeBytes(), path);
        log.info("catalog mirror: disk {} created by the {} store{} ({}, {} MiB)", d.address(), cloner.kind().equals(Disk.SNAPSHOT) ? "LVM" : "file",
                base.map(i -> " from image " + i.name()).orElse(" blank"), made, d.sizeBytes() >> 20);
        return made;
    }

    /** The image as this node holds it (its disk.img here: with a shared inventory the row names the primary's path). */
    private Optional<Image> localImage(String image) {
        return imageDisk(image).map(p -> new Image(0, image, Path.of(p).getParent().toString(), p, "", sizeOf(Path.of(p)), "", "", Instant.EPOCH));
    }

    private Optional<String> imageDisk(String image) {
        if (image.isEmpty()) return Optional.empty();
        Optional<String> fromInventory = inventory.image(image).map(Image::diskPath).filter(p -> !p.isEmpty());
        if (fromInventory.isPresent()) return fromInventory;
        Path p = imagesDir().resolve(image).resolve("disk.img");
        return Files.isRegularFile(p) ? Optional.of(p.toString()) : Optional.empty();
    }

    private void applyClients(BootState state, List<String> problems) {
        Set<String> theirs = new HashSet<>();
        for (ClientRecord c : state.clients()) {
            theirs.add(c.mac());
            try {
                inventory.addClient(c.mac(), c.hostname(), c.bootFile());
                Client here = inventory.client(c.mac()).orElseThrow();
                if (!n(here.hostname()).equals(c.hostname())) inventory.setClient(c.mac(), "hostname", c.hostname());
                if (!n(here.bootFile()).equals(c.bootFile())) inventory.setClient(c.mac(), "boot-file", c.bootFile());
                if (!c.state().isEmpty() && !n(here.state()).equals(c.state())) inventory.setClient(c.mac(), "state", c.state());
                if (!c.disk().isEmpty() && c.shelf() >= 0) {
                    var a = inventory.assignment(c.mac());
                    var d = inventory.diskOf(c.mac());
                    boolean same = a.isPresent() && d.isPresent() && a.get().imageName().equals(c.image()) && d.get().name().equals(c.disk())
                            && a.get().shelf() == c.shelf() && a.get().slot() == c.slot();
                    if (!same) {
                        long imageId = inventory.image(c.image()).map(Image::id).orElseThrow(() -> new IllegalStateException("no image " + c.image()));
                        long diskId = inventory.disk(c.disk()).map(Disk::id).orElseThrow(() -> new IllegalStateException("no disk " + c.disk()));
                        inventory.assign(c.mac(), imageId, diskId, c.shelf(), c.slot());
                    }
                }
            } catch (RuntimeException e) {
                problems.add("client " + c.mac() + ": " + e.getMessage());
            }
        }
        BootState previous = mirror.lastApplied();
        if (previous != null)
            for (ClientRecord c : previous.clients()) if (!theirs.contains(c.mac())) inventory.removeClient(c.mac());
        if (leases && !state.leases().isEmpty()) {
            List<LeaseRecord> rows = new ArrayList<>();
            for (LeaseRow l : state.leases())
                rows.add(new LeaseRecord(Ipv4.parse(l.address()), l.clientKey(), l.mac(), l.hostname(), l.state(), Instant.ofEpochMilli(l.expiresMillis())));
            for (Inventory.RejectedLease r : inventory.saveLeases(rows, Instant.now())) problems.add("lease " + r.lease().address() + ": " + r.reason());
        }
    }

    // ---------------------------------------------------------------- paths

    /** Relative to the data directory when under it, so two servers with different data directories agree. */
    private String relative(Path p) {
        return p.startsWith(dataDir) ? dataDir.relativize(p).toString() : p.toString();
    }

    private Path resolve(String path) throws IOException {
        Path p = Path.of(path);
        if (p.isAbsolute()) return p;
        Path r = dataDir.resolve(p).normalize();
        if (!r.startsWith(dataDir)) throw new IOException(path + " leaves the data directory");
        return r;
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static String n(String s) { return s == null ? "" : s; }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
