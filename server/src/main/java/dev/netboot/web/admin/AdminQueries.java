package dev.netboot.web.admin;

import dev.netboot.boot.BootTimeline;
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
        return boots(mac, Integer.MAX_VALUE, limit).recent();
    }

    /** The client's boots, newest first, at most {@code limit}. */
    public List<BootTimeline> timelines(String mac, int limit) {
        return BootTimeline.of(inventory.bootEvents(mac)).reversed().stream().limit(limit).toList();
    }

    /** The client's boots in words, newest first, at most {@code limit}. */
    public List<BootRun> bootRuns(String mac, int limit) {
        return boots(mac, limit, 0).runs();
    }

    /** A boot of this client is going on now (a step in the last two minutes): its page follows it live. */
    public boolean booting(String mac) {
        return boots(mac, 0, 0).booting();
    }

    /** What a client page shows of its boots, from one read of its events. */
    public record Boots(List<BootRun> runs, List<BootRow> recent, boolean booting) {}

    /** @param runs at most this many boots, newest first; @param steps at most this many last steps, newest first */
    public Boots boots(String mac, int runs, int steps) {
        List<BootTimeline> all = BootTimeline.of(inventory.bootEvents(mac)).reversed();
        List<BootRun> words = all.stream().limit(Math.max(runs, steps > 0 ? all.size() : 0)).map(AdminQueries::words).toList();
        List<BootRow> recent = new ArrayList<>();
        for (BootRun run : words) {
            for (BootRow step : run.steps().reversed()) {
                if (recent.size() >= steps) break;
                recent.add(step);
            }
        }
        boolean booting = !all.isEmpty() && all.getFirst().lastAt().isAfter(clock.instant().minus(LIVE));
        return new Boots(words.stream().limit(runs).toList(), recent, booting);
    }

    private static BootRun words(BootTimeline t) {
        return new BootRun(Formats.time(t.started()), seconds(t.took()),
                t.reachedDisk() ? "reached its disk" : "last step: " + t.events().getLast().kind(),
                t.events().stream().map(e -> new BootRow(Formats.time(e.at()), "+" + seconds(java.time.Duration.between(t.started(), e.at())),
                        e.kind(), Formats.text(e.address()), Formats.text(e.bootFile()), Formats.text(e.detail()))).toList());
    }

    static final java.time.Duration LIVE = java.time.Duration.ofMinutes(2);

    private static String seconds(java.time.Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
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
        return imageFacts().stream().map(i -> new ImageRow(i.name(), Formats.text(i.kernelVersion()), Formats.bytes(i.sizeBytes()),
                Formats.text(i.description()), Formats.text(i.source()), Formats.time(i.created()), i.clients())).toList();
    }

    /** The images as values, with how many clients use each. */
    public List<ImageFacts> imageFacts() {
        Map<String, Integer> users = new HashMap<>();
        for (Client c : inventory.clients()) inventory.assignment(c.mac()).ifPresent(a -> users.merge(a.imageName(), 1, Integer::sum));
        return inventory.images().stream().map(i -> new ImageFacts(i.name(), i.kernelVersion(), i.sizeBytes(), i.description(), i.source(),
                i.created(), users.getOrDefault(i.name(), 0))).toList();
    }

    public List<DiskRow> disks() throws IOException {
        return diskFacts().stream().map(d -> new DiskRow("e" + d.address(), d.path(),
                d.sizeBytes() != null ? Formats.bytes(d.sizeBytes()) : d.kind(),
                !d.kind().equals("file") ? Formats.NONE : d.allocatedBytes() == null ? "unknown" : Formats.bytes(d.allocatedBytes()),
                d.open() ? "every MAC" : d.allowedMacs().isEmpty() ? "nobody" : String.join(", ", d.allowedMacs()),
                d.interfaces().isEmpty() ? "every interface" : String.join(", ", d.interfaces()), d.open(), d.readOnly(),
                d.exported() == null ? "AoE is off in this server" : d.exported() ? "yes" : "no",
                Formats.text(d.client()), d.replication())).toList();
    }

    /** The disk catalog with what this server knows of each export now. */
    public List<DiskFacts> diskFacts() throws IOException {
        Optional<Set<String>> live = exported.get();
        Map<String, String> owners = new HashMap<>();
        for (Client c : inventory.clients()) inventory.assignment(c.mac()).ifPresent(a -> owners.put(a.aoeAddress(), c.mac()));
        List<DiskEntry> entries = catalog.list();
        Map<Path, Long> allocated = SparseUsage.allocatedBytes(entries.stream().flatMap(e -> withSidecar(Path.of(e.path())).stream()).toList());
        List<DiskFacts> facts = new ArrayList<>();
        for (DiskEntry e : entries) {
            Path path = Path.of(e.path());
            boolean file = Files.isRegularFile(path);
            String kind = file ? "file" : Files.exists(path) ? "block device" : "missing";
            Long used = null;
            for (Path p : withSidecar(path)) {
                Long n = allocated.get(p);
                if (n != null) used = (used == null ? 0 : used) + n;
            }
            String address = e.target().toString();
            facts.add(new DiskFacts(address, e.path(), kind, file ? Files.size(path) : null, file ? used : null, List.copyOf(e.allowedMacs()),
                    e.open(), e.readOnly(), e.interfaces() == null ? List.of() : List.copyOf(e.interfaces()),
                    live.map(s -> s.contains(address)).orElse(null), owners.get(address), replication.apply(address)));
        }
        return facts;
    }

    /** A copy-on-write clone is its overlay plus the {@code .cow} sidecar with the allocation map. */
    private static List<Path> withSidecar(Path overlay) {
        Path sidecar = overlay.resolveSibling(overlay.getFileName() + ".cow");
        return Files.isRegularFile(sidecar) ? List.of(overlay, sidecar) : List.of(overlay);
    }

    private ClientRow row(Client c, Map<String, LeaseRecord> leases, Set<String> waitingNow) {
        ClientFacts f = facts(c, leases, waitingNow);
        String address = f.address() == null ? Formats.NONE : "lease".equals(f.addressSource()) ? f.address() : f.address() + " (at last boot)";
        return new ClientRow(f.mac(), f.state(), stateNote(f.state()), Formats.text(f.hostname()), Formats.text(f.architecture()),
                address, Formats.time(f.lastSeen()), Formats.time(f.lastBoot()), f.image() == null ? Formats.NONE : f.image(),
                f.disk() == null ? Formats.NONE : "e" + f.disk(), f.diskKind() == null ? Formats.NONE : f.diskKind(),
                Formats.text(f.bootFile()), AdminRoutes.clientPath(f.mac()), f.waiting(), installing(f));
    }

    /** One page of the clients as values (1 = the first), by MAC. */
    public List<ClientFacts> clientFacts(int page) {
        Map<String, LeaseRecord> leases = currentLeases();
        Set<String> waitingNow = waiting.get().keySet();
        return inventory.clients((Math.max(1, page) - 1) * PAGE_SIZE, PAGE_SIZE).stream().map(c -> facts(c, leases, waitingNow)).toList();
    }

    public Optional<ClientFacts> clientFacts(String mac) {
        return inventory.client(mac).map(c -> facts(c, currentLeases(), waiting.get().keySet()));
    }

    private ClientFacts facts(Client c, Map<String, LeaseRecord> leases, Set<String> waitingNow) {
        Optional<Assignment> a = inventory.assignment(c.mac());
        Optional<Disk> disk = inventory.diskOf(c.mac());
        LeaseRecord lease = leases.get(c.mac());
        Optional<BootEvent> lastBoot = inventory.bootEvents(c.mac()).stream().filter(e -> e.kind().equals("dhcp-boot"))
                .max(Comparator.comparing(BootEvent::at));
        // Our lease when we hand out addresses (full mode); else what it had when it last booted (proxy mode: another server's).
        var install = inventory.installMode(c.mac());
        Optional<String> atLastBoot = lastBoot.map(BootEvent::address).filter(x -> x != null && !x.isBlank());
        String address = lease != null ? lease.address().toString() : atLastBoot.orElse(null);
        String source = lease != null ? "lease" : atLastBoot.isPresent() ? "last boot" : null;
        return new ClientFacts(c.mac(), c.state(), blankToNull(c.hostname()), blankToNull(c.architecture()), address, source,
                c.lastSeen(), lastBoot.map(BootEvent::at).orElse(null), a.map(Assignment::imageName).orElse(null),
                a.map(Assignment::aoeAddress).orElse(null), disk.map(Disk::kind).orElse(null), blankToNull(c.bootFile()), waitingNow.contains(c.mac()),
                install.map(i -> i.installer()).orElse(null), install.flatMap(i -> i.started()).orElse(null));
    }

    /** Installer mode in words ("" when none): which installer, and whether its install is under way. */
    private static String installing(ClientFacts f) {
        if (f.installer() == null) return "";
        return f.installer() + (f.installStarted() != null ? ", under way since " + Formats.time(f.installStarted()) : ", starts at its next network boot");
    }

    private static String blankToNull(String s) { return s == null || s.isBlank() ? null : s; }

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
