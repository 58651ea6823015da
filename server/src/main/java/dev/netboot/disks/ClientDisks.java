package dev.netboot.disks;

import dev.netboot.aoe.TargetAddress;
import dev.netboot.faults.CrashPoint;
import dev.netboot.storage.Progress;
import dev.netboot.inventory.Assignment;
import dev.netboot.inventory.Client;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.storage.CloneInUseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.netboot.storage.BlockStore;
import dev.netboot.storage.BlockStores;
import dev.netboot.storage.CowBlockStore;
import dev.netboot.storage.ZeroSkippingCopy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Gives clients their own disks: assigning an image clones it (instantly, whatever its size), records
 * the disk and the client's AoE address in the inventory and exports the disk to that client's MAC only.
 * The address is stable: a client keeps its shelf.slot when it gets another image.
 */
public final class ClientDisks {

    private static final Logger log = LoggerFactory.getLogger(ClientDisks.class);

    private final Inventory inventory;
    private final DiskCatalog catalog;
    private final DiskCloner cloner;
    private final int shelf;
    private final Clock clock;
    private final DiskExports exports;
    private final List<String> interfaces;
    private static final long RELEASE_WAIT_NANOS = 15_000_000_000L;

    /**
     * @param shelf          the shelf client disks are numbered in (slots 0-254, then the next shelf)
     * @param exports        told of each change after the catalog file (inside the server: the AoE exporter, at once)
     */
    public ClientDisks(Inventory inventory, DiskCatalog catalog, DiskCloner cloner, int shelf, Clock clock, DiskExports exports) {
        this(inventory, catalog, cloner, shelf, clock, exports, List.of());
    }

    /** @param interfaces the AoE interfaces a new client disk is offered on (disks.interfaces); empty = every one */
    public ClientDisks(Inventory inventory, DiskCatalog catalog, DiskCloner cloner, int shelf, Clock clock, DiskExports exports,
                       List<String> interfaces) {
        this.interfaces = List.copyOf(interfaces);
        this.inventory = inventory;
        this.catalog = catalog;
        this.cloner = cloner;
        this.shelf = shelf;
        this.clock = clock;
        this.exports = exports;
    }

    /** Name of a client's disk: stable, and a valid file and LVM volume name. */
    public static String diskName(String mac) {
        return "client-" + Inventory.normalizeMac(mac).replace(":", "");
    }

    /**
     * Gives the client (registered if new) a clone of the image. Assigning the image it has already is a
     * no-op; another image replaces its disk only with {@code replace}, since that discards what it wrote.
     */
    public synchronized Assignment assign(String mac, String imageName, boolean replace) throws IOException {
        String m = Inventory.normalizeMac(mac);
        Assignment a = clone(m, imageName, replace);
        // An operator chose this machine's image: a machine that had only booted by itself is one of
        // theirs from now on. (A default image given at boot leaves it discovered: nobody chose it.)
        if (inventory.client(m).map(c -> Client.DISCOVERED.equals(c.state())).orElse(false)) {
            inventory.setClient(m, "state", Client.ACTIVE);
        }
        return a;
    }

    private Assignment clone(String mac, String imageName, boolean replace) throws IOException {
        String m = Inventory.normalizeMac(mac);
        Image image = inventory.image(imageName)
                .orElseThrow(() -> new IllegalArgumentException("no image " + imageName + " (netboot image list)"));
        if (image.diskPath().isEmpty()) throw new IllegalArgumentException("image " + imageName + " has no disk image to clone (import it with 'netboot image import')");
        if (inventory.client(m).isEmpty()) inventory.addClient(m, "", "");
        Optional<Assignment> current = inventory.assignment(m);
        Optional<Disk> currentDisk = inventory.diskOf(m);
        if (current.isPresent() && current.get().imageName().equals(imageName) && currentDisk.isPresent()) {
            ensureExported(m, currentDisk.get(), TargetAddress.parse(current.get().aoeAddress()));
            return current.get();
        }
        if (currentDisk.isPresent() && !replace) {
            throw new IllegalArgumentException("client " + m + " has disk " + currentDisk.get().name() + " cloned from image "
                    + current.map(Assignment::imageName).orElse(currentDisk.get().imageName())
                    + "; assigning " + imageName + " discards what that client wrote (--replace does it)");
        }
        TargetAddress address = current.map(a -> TargetAddress.parse(a.aoeAddress())).orElseGet(this::freeAddress);
        if (currentDisk.isPresent()) removeDisk(currentDisk.get(), address);

        String name = diskName(m);
        Optional<Disk> orphan = inventory.disk(name); // a disk of this client no assignment points at (an interrupted assign)
        if (orphan.isPresent()) removeDisk(orphan.get(), null);
        long started = System.nanoTime();
        // Each step leaves something the start-up Reconciler repairs if the process dies right after it:
        // files without a row (deleted), a row without an assignment (deleted), an assignment whose disk
        // is not in the catalog (exported).
        java.nio.file.Path path = cloner.clone(image, name);
        CrashPoint.reached("assign:cloned");
        Disk disk = inventory.addDisk(name, image.id(), path.toString(), image.sizeBytes(), cloner.kind(), clock.instant());
        CrashPoint.reached("assign:disk-recorded");
        inventory.assign(m, image.id(), disk.id(), address.shelf(), address.slot());
        CrashPoint.reached("assign:assigned");
        ensureExported(m, disk, address);
        log.info("client {} gets image {}: disk {} ({}, {} ms), AoE e{}", m, imageName, name, cloner.kind(),
                (System.nanoTime() - started) / 1_000_000, address);
        return inventory.assignment(m).orElseThrow();
    }

    /**
     * Makes the client's disk independent of its image. A running server holds an exported clone open,
     * so the disk is taken off the network for the copy (the client's driver retries meanwhile) and
     * exported again afterwards, also when the flatten fails.
     */
    public void flatten(String mac, Progress progress) throws IOException {
        String m = Inventory.normalizeMac(mac);
        Disk disk = inventory.diskOf(m).orElseThrow(() -> new IllegalArgumentException("client " + m + " has no disk"));
        if (!disk.dependsOnImage()) return;
        Optional<TargetAddress> address = inventory.aoeAddress(m).map(TargetAddress::parse);
        boolean withdrawn = address.isPresent() && catalog.find(address.get()).isPresent();
        if (withdrawn) {
            log.info("disk {} of client {} is offline while it is flattened", disk.name(), m);
            catalog.remove(address.get());
            exports.withdraw(address.get());
        }
        try {
            flattenOnceReleased(disk, progress);
        } finally {
            if (withdrawn) ensureExported(m, disk, address.get());
        }
        inventory.setDiskKind(disk.name(), Disk.STANDALONE);
        log.info("disk {} of client {} flattened: it no longer reads from image {}", disk.name(), m, disk.imageName());
    }

    /**
     * A consistent copy of the client's disk as one plain sparse file: the disk is taken off the network for
     * the copy (no write can land half-way; a client that runs would stall meanwhile: callers refuse running
     * ones first), read through its store (image blocks with the client's writes over them) and exported
     * again afterwards, also when the copy fails.
     */
    public void snapshot(String mac, Path raw, Progress progress) throws IOException {
        String m = Inventory.normalizeMac(mac);
        offline(m, (disk, store) -> {
            copy(m, store, raw, progress);
            return null;
        });
    }

    /** Reads a client's disk as one raw disk. */
    public interface DiskReader<T> {
        T read(Path rawDisk) throws IOException;
    }

    /**
     * Hands {@code reader} the client's disk as a raw disk, while the disk is off the network (exported
     * again afterwards). A plain disk, or a clone of a blank image, is read in place, so only what the
     * reader reads is read: a clone's overlay holds every chunk the client wrote at its own offset and
     * holes, which read as zeros, elsewhere, where a blank base is zeros too. Any other clone is first
     * copied (sparsely) to {@code scratch}, which the caller deletes.
     */
    public <T> T readOffline(String mac, Path scratch, DiskReader<T> reader) throws IOException {
        String m = Inventory.normalizeMac(mac);
        return offline(m, (disk, store) -> {
            Path path = Path.of(disk.path());
            if (!CowBlockStore.isClone(path) || onBlankImage(m)) return reader.read(path);
            copy(m, store, scratch, Progress.NONE);
            return reader.read(scratch);
        });
    }

    private boolean onBlankImage(String mac) {
        return inventory.assignment(mac).flatMap(a -> inventory.image(a.imageName()))
                .map(i -> dev.netboot.images.ImageLibrary.BLANK_SOURCE.equals(i.source())).orElse(false);
    }

    private static void copy(String mac, BlockStore store, Path raw, Progress progress) throws IOException {
        try (FileChannel out = FileChannel.open(raw, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ZeroSkippingCopy.copy(store, out, "copying the disk of " + mac, progress);
            out.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(raw);
            throw e;
        }
    }

    private interface WhileOffline<T> {
        T run(Disk disk, BlockStore store) throws IOException;
    }

    /**
     * Runs {@code action} with the client's disk withdrawn from the network and opened read-only here (so
     * no server, this one or another, writes it meanwhile), then exports it again, also on failure.
     */
    private <T> T offline(String m, WhileOffline<T> action) throws IOException {
        Disk disk = inventory.diskOf(m).orElseThrow(() -> new IllegalArgumentException("client " + m + " has no disk"));
        Optional<TargetAddress> address = inventory.aoeAddress(m).map(TargetAddress::parse);
        boolean withdrawn = address.isPresent() && catalog.find(address.get()).isPresent();
        if (withdrawn) {
            catalog.remove(address.get());
            exports.withdraw(address.get());
        }
        try {
            long deadline = System.nanoTime() + RELEASE_WAIT_NANOS;
            while (true) {
                BlockStore store;
                try {
                    store = BlockStores.open(Path.of(disk.path()), true, false);
                } catch (IOException e) {
                    // A server in another process lets go of the withdrawn disk at its next catalog poll.
                    if (!String.valueOf(e.getMessage()).contains("in use") || System.nanoTime() > deadline) throw e;
                    sleep(200);
                    continue;
                }
                try (store) {
                    return action.run(disk, store);
                }
            }
        } finally {
            if (withdrawn) ensureExported(m, disk, address.get());
        }
    }

    /**
     * The client's disk, checked to be its alone: refused, with nothing changed, when it is exported to
     * other MACs too or to every client (netboot disk export), since they would read or write it under
     * whatever the caller is about to do ({@code why}: "an installer would overwrite what they read").
     * Empty when the client has no disk. The one check before an install onto or a capture of a client's disk.
     */
    public Optional<Disk> ownDisk(String mac, String why) throws IOException {
        String m = Inventory.normalizeMac(mac);
        Optional<Disk> disk = inventory.diskOf(m);
        if (disk.isEmpty()) return disk;
        Optional<String> address = inventory.aoeAddress(m);
        Path path = Path.of(disk.get().path()).toAbsolutePath().normalize();
        for (DiskEntry e : catalog.list()) {
            boolean same = address.isPresent() && e.target().equals(TargetAddress.parse(address.get()))
                    || Path.of(e.path()).toAbsolutePath().normalize().equals(path);
            if (!same) continue;
            List<String> others = e.allowedMacs().stream().filter(x -> !Inventory.normalizeMac(x).equals(m)).toList();
            if (Boolean.TRUE.equals(e.open()) || !others.isEmpty()) {
                throw new IllegalStateException("disk " + disk.get().name() + " of client " + m + " is exported as e" + e.address() + " to "
                        + (Boolean.TRUE.equals(e.open()) ? "every client" : "other clients too: " + String.join(", ", others))
                        + "; " + why + " (netboot disk export)");
            }
        }
        return disk;
    }

    /** When the AoE server last heard from the client's driver on its disk ({@link AoeActivity}); empty for never or no server. */
    public Optional<java.time.Instant> lastAoeFrame(String mac) throws IOException {
        Optional<String> address = inventory.aoeAddress(Inventory.normalizeMac(mac));
        if (address.isEmpty()) return Optional.empty();
        return AoeActivity.of(catalog).lastFrame(TargetAddress.parse(address.get()));
    }

    /** When the client's disk was last written (its files' modification time): a client that runs writes. */
    public Optional<java.time.Instant> lastWrite(String mac) throws IOException {
        Optional<Disk> disk = inventory.diskOf(Inventory.normalizeMac(mac));
        if (disk.isEmpty()) return Optional.empty();
        Path path = Path.of(disk.get().path());
        java.time.Instant last = Files.getLastModifiedTime(path).toInstant();
        Path sidecar = CowBlockStore.sidecarOf(path);
        if (Files.exists(sidecar)) {
            java.time.Instant s = Files.getLastModifiedTime(sidecar).toInstant();
            if (s.isAfter(last)) last = s;
        }
        return Optional.of(last);
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", ie);
        }
    }

    /** A server in another process lets go of a withdrawn disk at its next catalog poll: wait for that, briefly. */
    private void flattenOnceReleased(Disk disk, Progress progress) throws IOException {
        long deadline = System.nanoTime() + RELEASE_WAIT_NANOS;
        while (true) {
            try {
                cloner.flatten(disk, progress);
                return;
            } catch (CloneInUseException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException(e.getMessage() + "; still in use " + RELEASE_WAIT_NANOS / 1_000_000_000L + " s after it was withdrawn", e);
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for the server to release " + disk.name(), ie);
                }
            }
        }
    }

    /** Takes the client's disk away: unexported, deleted, the client waits for an admin again. */
    public synchronized boolean unassign(String mac) throws IOException {
        String m = Inventory.normalizeMac(mac);
        Optional<Disk> disk = inventory.diskOf(m);
        Optional<TargetAddress> address = inventory.aoeAddress(m).map(TargetAddress::parse);
        if (disk.isEmpty()) return false;
        removeDisk(disk.get(), address.orElse(null));
        return true;
    }

    /** The image an unassigned client gets when it boots, if the operator configured one. */
    public Optional<Assignment> assignDefault(String mac, String defaultImage) {
        if (defaultImage == null || defaultImage.isBlank()) return Optional.empty();
        Optional<Client> client = inventory.client(mac);
        if (client.isPresent() && Client.DISABLED.equals(client.get().state())) return Optional.empty();
        try {
            synchronized (this) {
                return Optional.of(clone(mac, defaultImage, false));
            }
        } catch (IOException | RuntimeException e) {
            log.error("client {} cannot get a clone of the default image {}: {}", mac, defaultImage, e.getMessage());
            return Optional.empty();
        }
    }

    private void ensureExported(String mac, Disk disk, TargetAddress address) throws IOException {
        DiskEntry want = entryFor(address, disk.path(), mac, interfaces, catalog.find(address));
        if (!catalog.find(address).equals(Optional.of(want))) {
            catalog.replace(want);
            exports.export(want);
        }
    }

    /**
     * The catalog entry of a client's disk: that client's MAC only, on the interfaces its entry has (an
     * operator may have rebound it with 'netboot disk export --replace'), else on {@code defaults}
     * (disks.interfaces).
     */
    static DiskEntry entryFor(TargetAddress address, String path, String mac, List<String> defaults, Optional<DiskEntry> have) {
        DiskEntry want = new DiskEntry(address.toString(), path, List.of(mac), false, false, defaults);
        return have.map(h -> want.onInterfaces(h.interfaces())).filter(h -> h.equals(have.get())).orElse(want);
    }

    private void removeDisk(Disk disk, TargetAddress address) throws IOException {
        if (address != null) {
            catalog.remove(address);
            exports.withdraw(address);
        }
        CrashPoint.reached("remove-disk:unexported"); // the start-up Reconciler exports it again: the removal is rolled back
        inventory.removeDisk(disk.name());
        CrashPoint.reached("remove-disk:row-deleted"); // files without a row: the Reconciler deletes them
        cloner.delete(disk);
        // The address goes back to the pool: the next client given it must not inherit this disk's
        // AoE state (a mask list naming the old client's MAC would hide the disk from the new one).
        if (address != null) StateFiles.of(catalog).delete(address);
    }

    /** The lowest slot in our shelf that neither an assignment nor a hand-made catalog disk holds. */
    private TargetAddress freeAddress() {
        Set<String> used = new HashSet<>(inventory.assignedAoeAddresses());
        try {
            for (DiskEntry e : catalog.list()) used.add(e.target().toString());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the disk catalog " + catalog.file() + ": " + e.getMessage(), e);
        }
        for (int s = shelf; s < 0xffff; s++) {
            for (int slot = 0; slot < 0xff; slot++) {
                if (!used.contains(s + "." + slot)) return new TargetAddress(s, slot);
            }
        }
        throw new IllegalStateException("no free AoE address left from shelf " + shelf);
    }
}
