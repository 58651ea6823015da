package dev.netboot.disks;

import dev.netboot.aoe.TargetAddress;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.storage.CowBlockStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Brings the inventory, the disk catalog and the files under the data directory back in line at
 * start-up, after a crash in the middle of a multi-step change. Each change is ordered so that what
 * a crash leaves is recognisable here (see the crash points in ImageLibrary and ClientDisks):
 * <ul>
 *   <li>an image folder without its row: an import that did not finish (the folder is moved in place
 *       before the row is added) or a removal that did (the row goes first): the folder is deleted;
 *       so are staging folders of interrupted imports;
 *   <li>a client disk file no row or catalog entry names: an assign that stopped after cloning, or a
 *       removal after the row went: deleted;
 *   <li>a disk row no assignment points at: an assign that stopped before assigning: deleted, files too;
 *   <li>a disk row whose file is gone: the row (and its assignment) is deleted, the client waits for
 *       an image again, loudly;
 *   <li>an assignment whose disk is not in the catalog: an assign that stopped before exporting, or a
 *       removal that stopped after unexporting: exported, so the menu never sends a PC to a disk
 *       nobody serves;
 *   <li>a catalog entry whose file is gone: removed.
 * </ul>
 * Every repair is logged. Runs before the server exports anything.
 */
public final class Reconciler {

    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);

    private final Inventory inventory;
    private final DiskCatalog catalog;
    private final DiskCloner cloner;
    private final Path imagesDir;
    private final Path disksDir;
    private final List<String> interfaces;

    public Reconciler(Inventory inventory, DiskCatalog catalog, DiskCloner cloner, Path dataDir) {
        this(inventory, catalog, cloner, dataDir, List.of());
    }

    /** @param interfaces the AoE interfaces a client disk missing from the catalog is exported on (disks.interfaces), as {@link ClientDisks} does */
    public Reconciler(Inventory inventory, DiskCatalog catalog, DiskCloner cloner, Path dataDir, List<String> interfaces) {
        this.interfaces = List.copyOf(interfaces);
        this.inventory = inventory;
        this.catalog = catalog;
        this.cloner = cloner;
        this.imagesDir = dataDir.resolve("images").toAbsolutePath();
        this.disksDir = dataDir.resolve("disks").toAbsolutePath();
    }

    /** Repairs what it finds; returns one line per repair (also logged). */
    public List<String> run() throws IOException {
        List<String> repairs = new ArrayList<>();
        images(repairs);
        disks(repairs);
        if (repairs.isEmpty()) log.info("start-up check: inventory, disk catalog and files agree");
        else log.warn("start-up check repaired {} thing(s) left by an interrupted change", repairs.size());
        return repairs;
    }

    private void repaired(List<String> repairs, String what) {
        repairs.add(what);
        log.warn("start-up check: {}", what);
    }

    private void images(List<String> repairs) throws IOException {
        if (!Files.isDirectory(imagesDir)) return;
        Set<Path> known = new HashSet<>();
        for (Image i : inventory.images()) {
            known.add(Path.of(i.path()).toAbsolutePath().normalize());
            if (!i.diskPath().isEmpty() && !Files.exists(Path.of(i.diskPath())))
                log.error("start-up check: image {} has no disk image at {}; its clones cannot be exported (restore the file or remove the image)",
                        i.name(), i.diskPath());
        }
        try (Stream<Path> s = Files.list(imagesDir)) {
            for (Path dir : s.toList()) {
                if (!Files.isDirectory(dir) || known.contains(dir.normalize())) continue;
                String name = dir.getFileName().toString();
                if (name.startsWith(".") && name.endsWith(".importing")) {
                    deleteTree(dir);
                    repaired(repairs, "removed " + dir + ", left by an interrupted import");
                } else if (!name.startsWith(".")) {
                    deleteTree(dir);
                    repaired(repairs, "removed image folder " + dir + " that has no image in the inventory (an import or a removal was interrupted)");
                }
            }
        }
    }

    private void disks(List<String> repairs) throws IOException {
        List<Inventory.AssignedDisk> assigned = inventory.assignedDisks();
        Set<String> assignedNames = new HashSet<>();
        assigned.forEach(a -> assignedNames.add(a.diskName()));
        for (Disk d : inventory.disks()) {
            if (!assignedNames.contains(d.name())) {
                inventory.removeDisk(d.name());
                cloner.delete(d);
                repaired(repairs, "removed disk " + d.name() + " (" + d.path() + "): no client was assigned it (an assign was interrupted)");
            } else if (isFile(d.path()) && !Files.exists(Path.of(d.path()))) {
                inventory.removeDisk(d.name());
                log.error("start-up check: the file {} of disk {} is missing; its client is unassigned and waits for an image again", d.path(), d.name());
                repaired(repairs, "removed disk " + d.name() + " whose file " + d.path() + " is missing");
            }
        }
        assigned = inventory.assignedDisks();
        for (Inventory.AssignedDisk a : assigned) {
            TargetAddress address = new TargetAddress(a.shelf(), a.slot());
            Optional<DiskEntry> have = catalog.find(address);
            DiskEntry want = ClientDisks.entryFor(address, a.diskPath(), a.mac(), interfaces, have);
            if (!have.equals(Optional.of(want))) {
                catalog.replace(want);
                repaired(repairs, "exported disk " + a.diskName() + " of client " + a.mac() + " as e" + address
                        + (have.isPresent() ? " (the catalog had " + have.get().path() + " there)" : " (it was assigned but not in the catalog)"));
            }
        }
        Set<Path> used = new HashSet<>();
        for (Disk d : inventory.disks()) used.add(Path.of(d.path()).toAbsolutePath().normalize());
        for (DiskEntry e : catalog.list()) {
            Path p = Path.of(e.path()).toAbsolutePath().normalize();
            if (isFile(e.path()) && !Files.exists(p)) {
                catalog.remove(e.target());
                repaired(repairs, "removed e" + e.address() + " from the disk catalog: its file " + e.path() + " is gone");
            } else {
                used.add(p);
            }
        }
        if (!Files.isDirectory(disksDir)) return;
        try (Stream<Path> s = Files.list(disksDir)) {
            for (Path f : s.toList()) {
                String n = f.getFileName().toString();
                if (n.endsWith(".cow.tmp")) {
                    Files.deleteIfExists(f);
                    repaired(repairs, "removed " + f + ", a clone header that was never completed");
                } else if (n.startsWith("client-") && n.endsWith(".img") && !used.contains(f.normalize())) {
                    Files.deleteIfExists(CowBlockStore.sidecarOf(f));
                    Files.deleteIfExists(f);
                    repaired(repairs, "removed " + f + ": no disk in the inventory or the catalog is that file (an assign or a removal was interrupted)");
                } else if (n.startsWith("client-") && n.endsWith(".img.cow") && !Files.exists(f.resolveSibling(n.substring(0, n.length() - 4)))) {
                    Files.deleteIfExists(f);
                    repaired(repairs, "removed " + f + ", the header of a clone whose overlay is gone");
                }
            }
        }
    }

    /** A disk that is a file of ours (not an LVM volume under /dev, which the volume manager keeps). */
    private static boolean isFile(String path) {
        return !path.startsWith("/dev/");
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
