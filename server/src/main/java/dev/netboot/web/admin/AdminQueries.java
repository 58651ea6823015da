package dev.netboot.web.admin;

import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskEntry;
import dev.netboot.inventory.Assignment;
import dev.netboot.inventory.BootEvent;
import dev.netboot.inventory.Client;
import dev.netboot.inventory.Disk;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.LeaseRecord;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What the admin pages show, read from the same places the CLI reads ({@code netboot client list},
 * {@code image list}, {@code disk list}) and turned into rows of words. Reads only.
 */
public final class AdminQueries {

    private final Inventory inventory;
    private final DiskCatalog catalog;
    private final Supplier<Optional<Set<String>>> exported;
    private final Clock clock;
    private final Supplier<Map<String, Instant>> waiting;
    private final java.util.function.Function<String, String> replication;

    /** @param exported the AoE addresses this server exports now ("1.0"), empty when AoE is off here */
    /** What every admin page must say at the top: the inventory cannot be used (a full data disk, a lost database). */
    public Optional<String> alert() {
        return inventory.problem().map(p -> "The inventory database is unavailable: " + p
                + ". Boot menus, leases and these pages may fail until it is back; the server retries by itself.");
    }

    public AdminQueries(Inventory inventory, DiskCatalog catalog, Supplier<Optional<Set<String>>> exported, Clock clock) {
        this(inventory, catalog, exported, Map::of, clock);
    }

    /** @param waiting PCs waiting for an image right now, with when each last asked (boot.menus.WaitingClients) */
    public AdminQueries(Inventory inventory, DiskCatalog catalog, Supplier<Optional<Set<String>>> exported,
                        Supplier<Map<String, Instant>> waiting, Clock clock) {
        this(inventory, catalog, exported, waiting, address -> "not configured", clock);
    }

    /** @param replication what replication says of a disk ("1.0" → "primary, up to date"), shown on the disks page */
    public AdminQueries(Inventory inventory, DiskCatalog catalog, Supplier<Optional<Set<String>>> exported,
                        Supplier<Map<String, Instant>> waiting, java.util.function.Function<String, String> replication, Clock clock) {
        this.replication = replication;
        this.inventory = inventory;
        this.catalog = catalog;
        this.exported = exported;
        this.waiting = waiting;
        this.clock = clock;
    }

    /** The PCs at their "no image yet" screen right now, each linked to where an image is assigned to it. */
    public List<WaitingRow> waiting() {
        Instant now = clock.instant();
        List<WaitingRow> rows = new ArrayList<>();
        waiting.get().forEach((mac, at) -> {
            boolean known = inventory.client(mac).isPresent();
            rows.add(new WaitingRow(mac, Math.max(0, java.time.Duration.between(at, now).toSeconds()),
                    known ? AdminRoutes.clientPath(mac) : AdminRoutes.PREFIX + "/clone?mac=" + mac));
        });
        return rows;
    }

    /** Clients a page shows at once: each row costs a few lookups, and a flood may have left thousands. */
    public static final int PAGE_SIZE = 100;

    public List<ClientRow> clients() {
        return clients(1);
    }

    /** One page of the clients (1 = the first), by MAC. */
    public List<ClientRow> clients(int page) {
        Map<String, LeaseRecord> leases = currentLeases();
        Set<String> waitingNow = waiting.get().keySet();
        return inventory.clients((Math.max(1, page) - 1) * PAGE_SIZE, PAGE_SIZE).stream().map(c -> row(c, leases, waitingNow)).toList();
    }

    /** How many pages the clients fill (at least 1). */
    public int clientPages() {
        return Math.max(1, (inventory.clientCount() + PAGE_SIZE - 1) / PAGE_SIZE);
    }

    public Optional<ClientRow> client(String mac) {
        return inventory.client(mac).map(c -> row(c, currentLeases(), waiting.get().keySet()));
    }

    /** The client's boot events, newest first, at most {@code limit}. */
    public List<BootRow> bootEvents(String mac, int limit) {
        List<BootEvent> events = new ArrayList<>(inventory.bootEvents(mac));
        java.util.Collections.reverse(events);
        return events.stream().limit(limit).map(e -> new BootRow(Formats.time(e.at()), e.kind(), Formats.text(e.address()),
                Formats.text(e.bootFile()), Formats.text(e.detail()))).toList();
    }

    public Optional<String> assignedImage(String mac) {
        return inventory.assignment(mac).map(Assignment::imageName);
    }

    /** Whether the client has a disk that still reads from its image (flattening would help). */
    public boolean canFlatten(String mac) {
        return inventory.diskOf(mac).map(Disk::dependsOnImage).orElse(false);
    }

    public boolean hasDisk(String mac) { return inventory.diskOf(mac).isPresent(); }

    public List<String> imageNames() { return inventory.images().stream().map(Image::name).toList(); }

    public List<ImageRow> images() {
        Map<String, Integer> users = new HashMap<>();
        for (Client c : inventory.clients()) inventory.assignment(c.mac()).ifPresent(a -> users.merge(a.imageName(), 1, Integer::sum));
        return inventory.images().stream().map(i -> new ImageRow(i.name(), Formats.text(i.kernelVersion()), Formats.bytes(i.sizeBytes()),
                Formats.text(i.description()), Formats.text(i.source()), Formats.time(i.created()), users.getOrDefault(i.name(), 0))).toList();
    }

    public List<DiskRow> disks() throws IOException {
        Optional<Set<String>> live = exported.get();
        Map<String, String> owners = new HashMap<>();
        for (Client c : inventory.clients()) inventory.assignment(c.mac()).ifPresent(a -> owners.put(a.aoeAddress(), c.mac()));
        List<DiskEntry> entries = catalog.list();
        Map<Path, Long> allocated = SparseUsage.allocatedBytes(entries.stream().flatMap(e -> withSidecar(Path.of(e.path())).stream()).toList());
        List<DiskRow> rows = new ArrayList<>();
        for (DiskEntry e : entries) {
            Path path = Path.of(e.path());
            boolean file = Files.isRegularFile(path);
            String size = file ? Formats.bytes(Files.size(path)) : Files.exists(path) ? "block device" : "missing";
            Long used = null;
            for (Path p : withSidecar(path)) {
                Long n = allocated.get(p);
                if (n != null) used = (used == null ? 0 : used) + n;
            }
            String alloc = !file ? Formats.NONE : used == null ? "unknown" : Formats.bytes(used);
            String isExported = live.map(s -> s.contains(e.target().toString()) ? "yes" : "no").orElse("AoE is off in this server");
            rows.add(new DiskRow("e" + e.address(), e.path(), size, alloc,
                    e.open() ? "every MAC" : e.allowedMacs().isEmpty() ? "nobody" : String.join(", ", e.allowedMacs()),
                    Formats.text(e.interfacesText()), e.open(), e.readOnly(), isExported, Formats.text(owners.get(e.target().toString())), replication.apply(e.target().toString())));
        }
        return rows;
    }

    /** A copy-on-write clone is its overlay plus the {@code .cow} sidecar with the allocation map. */
    private static List<Path> withSidecar(Path overlay) {
        Path sidecar = overlay.resolveSibling(overlay.getFileName() + ".cow");
        return Files.isRegularFile(sidecar) ? List.of(overlay, sidecar) : List.of(overlay);
    }

    private ClientRow row(Client c, Map<String, LeaseRecord> leases, Set<String> waitingNow) {
        Optional<Assignment> a = inventory.assignment(c.mac());
        Optional<Disk> disk = inventory.diskOf(c.mac());
        LeaseRecord lease = leases.get(c.mac());
        Optional<BootEvent> lastBoot = inventory.bootEvents(c.mac()).stream().filter(e -> e.kind().equals("dhcp-boot"))
                .max(Comparator.comparing(BootEvent::at));
        // Our lease when we hand out addresses (full mode); else what it had when it last booted (proxy mode: another server's).
        String address = lease != null ? lease.address().toString()
                : lastBoot.map(BootEvent::address).filter(x -> x != null && !x.isBlank()).map(x -> x + " (at last boot)").orElse(Formats.NONE);
        return new ClientRow(c.mac(), c.state(), stateNote(c.state()), Formats.text(c.hostname()), Formats.text(c.architecture()),
                address, Formats.time(c.lastSeen()), Formats.time(lastBoot.map(BootEvent::at).orElse(null)),
                a.map(Assignment::imageName).orElse(Formats.NONE), a.map(x -> "e" + x.aoeAddress()).orElse(Formats.NONE),
                disk.map(Disk::kind).orElse(Formats.NONE), Formats.text(c.bootFile()), AdminRoutes.clientPath(c.mac()), waitingNow.contains(c.mac()),
                installing(c.mac()));
    }

    /** Installer mode in words ("" when none): which installer, and whether its install is under way. */
    String installing(String mac) {
        return inventory.installMode(mac).map(i -> i.installer() + i.started().map(t -> ", under way since " + Formats.time(t))
                .orElse(", starts at its next network boot")).orElse("");
    }

    private static String stateNote(String state) {
        return switch (state) {
            case Client.DISCOVERED -> "booted by itself; nobody had named it before";
            case Client.ACTIVE -> "added or given an image by an admin";
            case Client.DISABLED -> "gets no boot answer";
            default -> state;
        };
    }

    /** The address each MAC holds now (bound, not expired). */
    private Map<String, LeaseRecord> currentLeases() {
        Instant now = clock.instant();
        Map<String, LeaseRecord> out = new HashMap<>();
        for (LeaseRecord l : inventory.leases()) {
            if (l.mac() == null || !"BOUND".equals(l.state()) || l.expires().isBefore(now)) continue;
            try {
                out.put(Inventory.normalizeMac(l.mac()), l);
            } catch (IllegalArgumentException notAMac) {
                // a lease keyed by something else than an Ethernet MAC: not one of our clients
            }
        }
        return out;
    }
}
