package dev.netboot.disks;

import dev.netboot.aoe.AoeServer;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.storage.BlockStore;
import dev.netboot.storage.BlockStores;
import dev.netboot.storage.ReadTuning;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the AoE server's exports equal to the catalog: disks added with the CLI appear, removed
 * ones disappear, changed ones (new allow-list, or another file under the same path: a PC re-imaged
 * by the CLI) are re-exported, without restarting the server.
 * Changes made inside the server ({@link ClientDisks}) arrive directly as {@link DiskExports} calls;
 * the catalog file is polled for those of other processes.
 */
public final class CatalogExporter implements DiskExports, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CatalogExporter.class);

    private final DiskCatalog catalog;
    private final List<DiskEntry> staticEntries;
    private final AoeServer server;
    private final boolean syncWrites;
    private final ReadTuning tuning;
    private final Map<TargetAddress, DiskEntry> exported = new HashMap<>();
    /**
     * The file each export opened (device and inode). The store keeps that file open, so its inode cannot go to
     * another file meanwhile: another key under the same path is another file ('clone --replace' in another process).
     */
    private final Map<TargetAddress, Object> exportedFiles = new HashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("aoe-catalog").daemon().factory());
    private FileTime seen;
    /** Disks the catalog wants that could not be exported, with the reason last logged: retried at each poll. */
    private final Map<TargetAddress, String> failed = new HashMap<>();
    private StoreOpener opener = (e, sync, t) -> BlockStores.open(Path.of(e.path()), e.readOnly(), sync, t);

    /** How a catalog entry becomes a store (the default opens its file; the replication lends the ones it holds open). */
    public interface StoreOpener {
        BlockStore open(DiskEntry entry, boolean syncWrites, ReadTuning tuning) throws IOException;
    }

    /** Stores come from {@code opener} from now on (set before {@link #start}). */
    public CatalogExporter storesFrom(StoreOpener opener) {
        this.opener = opener;
        return this;
    }

    public CatalogExporter(DiskCatalog catalog, List<DiskEntry> staticEntries, AoeServer server, boolean syncWrites) {
        this(catalog, staticEntries, server, syncWrites, ReadTuning.DEFAULT);
    }

    public CatalogExporter(DiskCatalog catalog, List<DiskEntry> staticEntries, AoeServer server, boolean syncWrites, ReadTuning tuning) {
        this.tuning = tuning;
        this.catalog = catalog;
        this.staticEntries = List.copyOf(staticEntries);
        this.server = server;
        this.syncWrites = syncWrites;
    }

    public CatalogExporter start(long pollMillis) {
        reconcile();
        timer.scheduleWithFixedDelay(this::pollOnce, pollMillis, pollMillis, TimeUnit.MILLISECONDS);
        return this;
    }

    private void pollOnce() {
        try {
            FileTime now = Files.exists(catalog.file()) ? Files.getLastModifiedTime(catalog.file()) : null;
            if (java.util.Objects.equals(now, seen) && !hasFailures()) return;
            reconcile();
        } catch (IOException | RuntimeException e) {
            log.warn("reading the disk catalog failed: {}", e.getMessage());
        }
    }

    private synchronized boolean hasFailures() { return !failed.isEmpty(); }

    /** Brings the exports in line with the catalog now. */
    public synchronized void reconcile() {
        Map<TargetAddress, DiskEntry> wanted = new HashMap<>();
        try {
            seen = Files.exists(catalog.file()) ? Files.getLastModifiedTime(catalog.file()) : null;
            for (DiskEntry e : catalog.list()) wanted.put(e.target(), e);
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read the disk catalog {}: {}; keeping the current exports", catalog.file(), e.getMessage());
            return;
        }
        for (DiskEntry e : staticEntries) wanted.put(e.target(), e);
        failed.keySet().retainAll(wanted.keySet());
        for (var current : java.util.List.copyOf(exported.entrySet())) {
            if (wanted.containsKey(current.getKey())) continue;
            // A disk that left the catalog and whose file is gone was removed, not just taken offline
            // (a flatten withdraws it for a while): its protocol state goes with it.
            boolean removed = !Files.exists(Path.of(current.getValue().path()));
            exported.remove(current.getKey());
            exportedFiles.remove(current.getKey());
            if (removed) server.forget(current.getKey());
            else server.withdraw(current.getKey());
            log.info("AoE e{} withdrawn{}", current.getKey(), removed ? " (its disk was removed)" : "");
        }
        for (DiskEntry e : wanted.values()) export(e);
    }

    /**
     * Exports one disk now (re-exports it when its entry changed). A failure is logged and retried at each
     * poll (another process may let go of the disk, a missing base may come back); said again only when
     * the reason changes.
     */
    @Override
    public synchronized void export(DiskEntry e) {
        DiskEntry current = exported.get(e.target());
        Object file = fileKey(e);
        boolean replaced = e.equals(current) && file != null && exportedFiles.get(e.target()) != null && !file.equals(exportedFiles.get(e.target()));
        if (e.equals(current) && !replaced) return;
        if (replaced) log.info("AoE e{}: {} is another file now (re-imaged): exporting the new one", e.address(), e.path());
        if (current != null) {
            server.withdraw(e.target());
            exported.remove(e.target());
            exportedFiles.remove(e.target());
        }
        try {
            BlockStore store = opener.open(e, syncWrites, tuning);
            try {
                server.export(e.definition(store.size() / 512), store);
            } catch (RuntimeException ex) {
                store.close(); // a clone's lock would otherwise stay held until the server exits
                throw ex;
            }
            exported.put(e.target(), e);
            if (file != null) exportedFiles.put(e.target(), file);
            if (failed.remove(e.target()) != null) log.info("AoE e{} can be exported again", e.address());
            log.info("AoE e{} exported: {} ({} MiB{}), {}, on {}", e.address(), e.path(), store.size() >> 20, e.readOnly() ? ", read-only" : "",
                    e.open() ? "open to every MAC" : e.allowedMacs().isEmpty() ? "no MAC allowed yet" : "for " + String.join(", ", e.allowedMacs()),
                    e.interfacesText());
            if (!e.interfaces().isEmpty() && e.interfaces().stream().noneMatch(server.interfaceNames()::contains))
                log.warn("AoE e{} is bound to {}, none of which this server serves (aoe.interfaces {}): no client can reach it",
                        e.address(), e.interfacesText(), server.interfaceNames());
        } catch (IOException | RuntimeException ex) {
            if (!String.valueOf(ex.getMessage()).equals(failed.put(e.target(), String.valueOf(ex.getMessage()))))
                log.warn("cannot export e{} from {}: {} (retrying every poll)", e.address(), e.path(), ex.getMessage());
        }
    }

    /** The file's device and inode, null when it cannot be told (then only the entry decides). */
    private static Object fileKey(DiskEntry e) {
        try {
            return Files.readAttributes(Path.of(e.path()), java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (IOException | RuntimeException ex) {
            return null;
        }
    }

    @Override
    public synchronized void withdraw(TargetAddress address) {
        exportedFiles.remove(address);
        if (exported.remove(address) == null) return;
        server.withdraw(address);
        log.info("AoE e{} withdrawn", address);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
