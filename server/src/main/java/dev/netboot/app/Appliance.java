package dev.netboot.app;

import dev.netboot.boot.BootSteps;
import dev.netboot.boot.BootRecorder;
import dev.netboot.boot.Booter;
import dev.netboot.boot.initrd.ImageFileProvider;
import dev.netboot.boot.InstallerFile;
import dev.netboot.boot.initrd.InitrdBuilder;
import dev.netboot.boot.menus.AdminLink;
import dev.netboot.boot.menus.MenuFileProvider;
import dev.netboot.boot.menus.MenuRequest;
import dev.netboot.boot.menus.WaitingClients;
import dev.netboot.templates.Templates;
import dev.netboot.config.NetbootConfig;
import dev.netboot.dhcp.ClientObserver;
import dev.netboot.dhcp.DhcpEngine;
import dev.netboot.dhcp.DhcpMode;
import dev.netboot.dhcp.DhcpServer;
import dev.netboot.dhcp.DhcpSettings;
import dev.netboot.dhcp.ForeignServerProbe;
import dev.netboot.dhcp.ServedInterface;
import dev.netboot.net.Ipv4;
import dev.netboot.inventory.BootOverrides;
import dev.netboot.inventory.Inventory;
import dev.netboot.boot.LeaseWriter;
import dev.netboot.ndp.RouterAdvertiser;
import dev.netboot.aoe.AoeServer;
import dev.netboot.disks.CatalogExporter;
import dev.netboot.disks.ClientDisks;
import dev.netboot.disks.Reconciler;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.StateFiles;
import dev.netboot.aoe.TargetAddress;
import dev.netboot.files.DirectoryFileProvider;
import dev.netboot.storage.ReadTuning;
import dev.netboot.files.FileProvider;
import dev.netboot.files.OperatorFilesFirst;
import dev.netboot.tftp.RetransmitPolicy;
import dev.netboot.tftp.TftpServer;
import dev.netboot.tftp.TftpSettings;
import dev.netboot.transport.Transport;
import dev.netboot.web.BootFileRoutes;
import dev.netboot.web.HttpService;
import dev.netboot.web.TransferSlots;
import dev.netboot.web.TlsIdentity;
import dev.netboot.web.admin.AdminPassword;
import dev.netboot.web.admin.AdminRoutes;
import dev.netboot.web.admin.WebAdmin;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Wires the services of one server process from the configuration and owns their lifecycle.
 * Every service the appliance has so far starts here; each says where it listens.
 */
public final class Appliance implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Appliance.class);

    private final NetbootConfig config;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Transport transport = Transport.best();
    private final EventLoopGroup group;
    private final List<AutoCloseable> running = new ArrayList<>();
    private TftpServer tftp;
    private HttpService http;
    private final Services services;
    private Inventory inventory;
    private DhcpEngine dhcpEngine;
    private DhcpServer dhcp;
    private final Clock clock = Clock.systemUTC();
    private volatile AoeServer aoe;
    private volatile ReplicationService replication;
    private ClientDisks clientDisks;
    private WebAdmin webAdmin;
    private final WaitingClients waiting;
    /** The steps of each boot after DHCP (boot files, AoE discovery), for the boot timeline. */
    private BootSteps bootSteps;

    public Appliance(NetbootConfig config) {
        this.config = config;
        this.services = new Services(config, clock);
        this.waiting = WaitingClients.forRetry(clock, config.menus().retrySeconds());
        this.group = transport.newGroup(Math.max(2, Runtime.getRuntime().availableProcessors()), config.tuning().eventLoopSpinMicros());
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
    }

    public Appliance start() throws IOException, InterruptedException {
        Path root = Path.of(config.files().root());
        DataDirectory.secure(Path.of(config.dataDir()));
        Files.createDirectories(root);
        FileProvider directory = new DirectoryFileProvider(root, config.files().leadingSlashIsRoot());
        try {
            openInventory();
            keepInventoryBounded();
            // Before anything is served: repair what a crash in the middle of a change left.
            new Reconciler(inventory, services.catalog(), services.cloner(), services.dataDir(), config.disks().interfaces()).run();
            clientDisks = services.clientDisks();
            bootSteps = new BootSteps(inventory, BootSteps.NeighbourTable.PROC_NET_ARP, clock);
            running.add(bootSteps);
            FileProvider files = bootSteps.observing(operatorFilesFirst(directory, root));
            bootFiles = files;
            loadWhatStartingLoads();
            // AoE's first: when its packet sockets made their first FFM calls, HotSpot threw away compiled var-handle
            // guards (-Xlog:deoptimization); after the TFTP warm-up, whatever of its code used them would go too.
            if (!aoeInterfaces().isEmpty()) warmUpAoe();
            if (config.tftp().enabled()) warmUpTftp();
            prepareInitrds();
            if (bootServicesFollowRole()) {
                log.info("DHCP and TFTP start when this node serves as primary (replication.serviceIp {} moves with the role; a standby is silent)",
                        config.replication().serviceIp());
            } else {
                startDhcp();
                if (config.tftp().enabled()) startTftp(files);
            }
            if (config.http().enabled()) startHttp(files);
            boolean standby = ReplicationService.role(config.replication()).orElse(null) == dev.netboot.replication.Role.STANDBY;
            boolean failover = ReplicationService.role(config.replication()).isPresent() && config.replication().failover();
            // With failover the disks are served from the service interface only, which starts down on every node.
            if (failover) serviceAddress = FailoverService.prepare(config.replication());
            // Replication first: it opens the replicated disks and lends them to the AoE target (one open per
            // file for the life of the process, whatever role this node takes later).
            if (ReplicationService.role(config.replication()).isPresent()) startReplication();
            if (replication != null && !failover)
                // Without failover the operator moves the role by hand ('netboot replication promote --force' / 'demote').
                replication.servesAoeThrough(new ReplicationService.AoeServing() {
                    @Override public void start() throws IOException { ensureAoe(); }
                    @Override public void stop() { releaseAoe(); }
                });
            if (standby && !failover) log.info("replication.role=standby: AoE is not served on {} (a standby is silent on the client network)", aoeInterfaces());
            else if (!standby && !aoeInterfaces().isEmpty()) startAoe();
            if (failover) {
                this.failover = FailoverService.start(config, serviceAddress, replication.node(), ReplicationService.secret(config.replication()),
                        new FailoverService.AoeStarter() {
                            @Override public AoeServer ensureAoe() throws IOException { return Appliance.this.ensureAoe(); }
                            @Override public void releaseAoe() { Appliance.this.releaseAoe(); }
                        }, registry);
                running.add(this.failover);
                // 'promote --force' and 'demote' reach the server as requests to the replication: the failover decides them.
                replication.rolesDecidedBy(this.failover);
                if (bootServicesFollowRole()) this.failover.onServing(serving -> Thread.ofVirtual().name("boot-services").start(() -> bootServices(serving)));
            }
        } catch (RuntimeException | IOException | InterruptedException e) {
            close();
            throw e;
        }
        log.info("boot files are served from {} ({} transport)", root, transport.name().toLowerCase());
        return this;
    }

    private FileProvider bootFiles;
    private final List<AutoCloseable> bootServices = new ArrayList<>();

    /**
     * With failover and a service IP, the broadcast boot services (DHCP with its router advertisements, and
     * TFTP) run only on the node that serves: a standby answering DISCOVERs would hand out its own address
     * as next-server. HTTP stays up on both (the admin and metrics live there; clients are only ever told
     * the service IP, which only the primary holds).
     */
    private boolean bootServicesFollowRole() {
        return ReplicationService.role(config.replication()).isPresent() && config.replication().failover()
                && !config.replication().serviceIp().isBlank();
    }

    /** replication.serviceIp without its prefix length. */
    private String serviceAddressOnly() {
        String ip = config.replication().serviceIp().strip();
        return ip.contains("/") ? ip.substring(0, ip.indexOf('/')) : ip;
    }

    /** Starts (a takeover) or stops (a demotion) DHCP and TFTP; the ones started are remembered to be stopped. */
    private synchronized void bootServices(boolean serving) {
        if (serving && bootServices.isEmpty()) {
            int before = running.size();
            try {
                startDhcp();
                if (config.tftp().enabled()) startTftp(bootFiles);
                log.info("failover: boot services started on the new primary (DHCP {} mode, TFTP {})", config.dhcp().mode(), config.tftp().enabled() ? "on" : "off");
            } catch (IOException | RuntimeException e) {
                log.error("failover: boot services could NOT start on this primary: {}; new PCs cannot boot until this is fixed", e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            bootServices.addAll(running.subList(before, running.size()));
        } else if (!serving && !bootServices.isEmpty()) {
            for (AutoCloseable c : bootServices.reversed()) {
                try {
                    c.close();
                } catch (Exception e) {
                    log.warn("failover: stopping a boot service: {}", e.toString());
                }
                running.remove(c);
            }
            bootServices.clear();
            dhcp = null;
            dhcpEngine = null;
            tftp = null;
            log.info("failover: DHCP and TFTP stopped (this node is not primary)");
        }
    }

    private void openInventory() throws IOException {
        NetbootConfig.Inventory i = config.inventory();
        try {
            inventory = services.inventory();
        } catch (RuntimeException e) {
            throw new IOException(e.getMessage() + " (inventory.url in the config)", e);
        }
        running.add(services);
        Inventory inv = inventory;
        io.micrometer.core.instrument.Gauge.builder("netboot_inventory_available", inv, x -> x.problem().isPresent() ? 0 : 1)
                .description("1 while the inventory database takes reads and writes, 0 while it fails (a full data disk, a lost database)")
                .register(registry);
        Path data = Path.of(config.dataDir());
        io.micrometer.core.instrument.Gauge.builder("netboot_data_disk_free_bytes", data, d -> {
            try {
                return Files.getFileStore(d).getUsableSpace();
            } catch (IOException e) {
                return Double.NaN;
            }
        }).description("Space left on the file system of the data directory (inventory, images, client disks)").register(registry);
    }

    /** Old boot events and clients that came once and never again go, hourly, so a flood leaves nothing behind for ever. */
    private void keepInventoryBounded() {
        NetbootConfig.Inventory i = config.inventory();
        if (i.keepBootEventsDays() <= 0 && i.forgetDiscoveredAfterDays() <= 0) return;
        var timer = group.next().scheduleAtFixedRate(() -> Thread.ofVirtual().start(() -> {
            try {
                Instant now = clock.instant();
                int events = i.keepBootEventsDays() > 0 ? inventory.pruneBootEvents(now.minus(Duration.ofDays(i.keepBootEventsDays()))) : 0;
                int clients = i.forgetDiscoveredAfterDays() > 0 ? inventory.forgetDiscovered(now.minus(Duration.ofDays(i.forgetDiscoveredAfterDays()))) : 0;
                if (events + clients > 0) log.info("inventory: deleted {} boot events older than {} days, forgot {} discovered clients without a disk not seen for {} days",
                        events, i.keepBootEventsDays(), clients, i.forgetDiscoveredAfterDays());
            } catch (RuntimeException e) {
                log.warn("inventory housekeeping failed: {}", e.getMessage());
            }
        }), 1, 60, java.util.concurrent.TimeUnit.MINUTES);
        running.add(() -> timer.cancel(false));
    }

    /**
     * The operator's files in the boot root, then the generated menus, kernels and initrds: an operator's
     * own boot.ipxe is what clients get (files.generatedFirst turns this round per name). Says at start-up
     * which generated names the root's files take over, so nobody wonders why a menu template has no effect.
     */
    private FileProvider operatorFilesFirst(FileProvider directory, Path root) throws IOException {
        OperatorFilesFirst files = new OperatorFilesFirst(directory, menus().orElse(images()).orElse(services.installerFiles()).orElse(loaders()),
                name -> MenuRequest.parse(name).isPresent() || ImageFileProvider.isImageFileName(name) || InstallerFile.parse(name).isPresent(),
                config.files().generatedFirst());
        List<String> shadowed = files.shadowedBy(root, 4);
        if (!shadowed.isEmpty()) {
            log.info("the boot root's own {} {} served instead of the generated {} (files.generatedFirst lists names where the generated one wins)",
                    shadowed.size() == 50 ? "files (first 50): " + shadowed : String.join(", ", shadowed),
                    shadowed.size() == 1 ? "is" : "are", shadowed.size() == 1 ? "one" : "ones");
        }
        if (!config.files().generatedFirst().isEmpty())
            log.info("generated menus and image files win over the boot root's files named {} (files.generatedFirst)", config.files().generatedFirst());
        return files;
    }

    /** Per-client boot menus, rendered from templates and what the booter decided. */
    private FileProvider menus() {
        MenuFileProvider menus = services.menus(adminLink(), httpBootLink(), waiting);
        if (config.http().enabled()) {
            // Services.menus decides: GRUB 2.06's own TCP is slower than its TFTP (docs/dhcp.md).
            log.info("GRUB menus load the kernel and initrd over TFTP (GRUB 2.06's TCP sends no MSS and gets 536-byte segments); "
                    + "PXELINUX PCs {}", services.pxelinuxOverHttp() ? "get lpxelinux.0 and load them over HTTP"
                    : "get pxelinux.0 and load them over TFTP (" + (!config.boot().pxelinuxHttp() ? "boot.pxelinuxHttp=true gives lpxelinux.0 and HTTP"
                    : services.bootLoaders().has(dev.netboot.loaders.Loader.LPXELINUX) ? "the boot root has its own pxelinux.0" : "no lpxelinux.0 in the pxelinux package") + ")");
        }
        log.info("boot menus from {} (templates missing there: packaged defaults)", services.menuTemplates().operatorDir().toAbsolutePath());
        NetbootConfig.Disks d = config.disks();
        if (!d.defaultImage().isBlank()) {
            log.info("a PC with no disk that network-boots with this server gets a clone of image {} (disks.defaultImage; at most {}, {} a minute){}",
                    d.defaultImage(), d.maxAutoClones(), d.autoClonesPerMinute(),
                    config.dhcp().mode().equalsIgnoreCase("off") ? "; but DHCP is off here, so no PC's boot is seen and none gets one" : "");
        }
        return menus;
    }

    /** The web admin's clients page at the server's address on the client's network, for an unassigned PC's console. */
    private AdminLink adminLink() {
        NetbootConfig.Http h = config.http();
        if (!h.enabled()) return AdminLink.NONE;
        return client -> {
            String host = !h.address().isBlank() && !h.address().equals("0.0.0.0") ? h.address()
                    : ServerAddress.facing(client == null ? null : client.getAddress()).map(InetAddress::getHostAddress).orElse("THIS-SERVER");
            HttpService running = http;
            return "http://" + host + ":" + (running != null ? running.port() : h.port()) + AdminRoutes.PREFIX + "/";
        };
    }

    /** This server's boot files over HTTP at the server's address on the client's network, for the GRUB and PXELINUX menus. */
    private dev.netboot.boot.menus.HttpBootLink httpBootLink() {
        NetbootConfig.Http h = config.http();
        if (!h.enabled()) return dev.netboot.boot.menus.HttpBootLink.NONE;
        return (kind, client) -> {
            String host = !h.address().isBlank() && !h.address().equals("0.0.0.0") ? h.address()
                    : ServerAddress.facing(client == null ? null : client.getAddress()).map(InetAddress::getHostAddress).orElse("");
            if (host.isEmpty()) return ""; // no address the PC can reach for sure: the TFTP paths it came by still work
            HttpService running = http;
            return "http://" + host + ":" + (running != null ? running.port() : h.port()) + dev.netboot.files.FileRequest.HTTP_PREFIX;
        };
    }

    /**
     * The distribution's boot loaders under their stable names, below the operator's own files; says which
     * kinds of PC can boot now and what the others wait for.
     */
    private FileProvider loaders() throws IOException {
        var found = services.bootLoaders();
        log.info("boot loaders from the packages under {} (boot.loadersRoot; 'netboot loaders' lists them), boot.loader={}:",
                found.root(), config.boot().loader());
        for (String line : found.describeKinds()) log.info("  {}", line);
        NetbootConfig.Boot b = config.boot();
        if (b.loader().isBlank() || b.loader().equalsIgnoreCase("auto")) {
            log.info("boot.loader=auto: BIOS PXE gets {}; x64 UEFI PXE gets {}", b.bios(),
                    found.canBoot(dev.netboot.loaders.ClientKind.UEFI_SECURE_BOOT) ? "shimx64.efi, then grubx64.efi (Secure Boot PCs boot too)"
                            : b.uefiX64() + " (a Secure Boot PC refuses it: apt-get install " + String.join(" ",
                            found.missingPackages(List.of(dev.netboot.loaders.ClientKind.UEFI_SECURE_BOOT))) + ")");
        }
        return services.loaderFiles();
    }

    /** Images' kernels and initrds (built from templates, cached) under images/NAME/. */
    private FileProvider images() {
        return services.imageFiles();
    }

    private void startDhcp() throws IOException, InterruptedException {
        NetbootConfig.Dhcp d = config.dhcp();
        DhcpSettings settings;
        boolean advertise;
        try {
            settings = DhcpSettingsFactory.settings(d);
            advertise = DhcpSettingsFactory.routerAdvertisements(d, settings.mode());
        } catch (IllegalArgumentException e) {
            throw new IOException("dhcp: " + e.getMessage(), e);
        }
        if (settings.mode() == DhcpMode.OFF) {
            log.info("DHCP is off (dhcp.mode)");
            return;
        }
        if (bootServicesFollowRole() && settings.nextServer().equals(Ipv4.ANY) && !serviceAddressOnly().contains(":")) {
            // Clients are sent to the address that moves with the primary role, not to this node's own.
            Ipv4 next = Ipv4.parse(serviceAddressOnly());
            settings = new DhcpSettings(settings.mode(), settings.pools(), settings.reservations(), next, settings.offerHold(), settings.declineQuarantine());
            log.info("DHCP gives {} (replication.serviceIp) as next-server", next);
        }
        List<ServedInterface> nics = ServedInterface.resolve(config.networkInterface());
        if (settings.mode() == DhcpMode.FULL) warnAboutForeignServers(nics);
        BootOverrides overrides = services.bootOverrides();
        Booter booter = services.booter();
        LeaseWriter leases = new LeaseWriter(inventory, clock);
        running.add(leases);
        BootRecorder observer = new BootRecorder(inventory, overrides::refresh, booter::networkBootAnswered,
                config.inventory().newClientsPerMinute(), clock);
        running.add(observer);
        dhcpEngine = new DhcpEngine(settings, booter, leases.loadAll());
        DhcpServer server = new DhcpServer(dhcpEngine, leases, ClientObserver.all(observer, bootSteps), nics, d.port(), d.bootServerPort(), "arp".equalsIgnoreCase(d.unaddressedDelivery()),
                registry, transport, group, clock).start();
        dhcp = server;
        running.add(server);
        // Expired leases become free, and overrides an operator set with the CLI take effect.
        var timer = group.next().scheduleAtFixedRate(() -> {
            server.expire(clock.instant());
            Thread.ofVirtual().start(overrides::refresh);
        }, 10, 10, java.util.concurrent.TimeUnit.SECONDS);
        running.add(() -> timer.cancel(false));
        log.info("DHCP ({} mode) listening on udp {}{} on {}", settings.mode().name().toLowerCase(), d.port(),
                d.bootServerPort() > 0 ? " and " + d.bootServerPort() : "", nics.stream().map(n -> n.name() + " " + n.address()).toList());
        if (advertise) startRouterAdvertisements(nics);
        else log.info("IPv6 router solicitations are not answered (dhcp.routerAdvertisements={}, DHCP {} mode): iPXE waits ~15 s at boot unless an IPv6 router on the segment answers",
                DhcpSettingsFactory.routerAdvertisementSetting(d), settings.mode().name().toLowerCase());
    }

    /** So iPXE's IPv6 router discovery ends at once instead of timing out on every boot (docs/dhcp.md). */
    private void startRouterAdvertisements(List<ServedInterface> nics) throws IOException {
        RouterAdvertiser ra = new RouterAdvertiser(nics.stream().map(ServedInterface::name).toList(), registry);
        try {
            ra.start();
        } catch (IOException e) {
            String hint = "could not answer IPv6 router solicitations: " + e.getMessage() + "; iPXE will wait ~15 s for a router on every boot";
            if (DhcpSettingsFactory.routerAdvertisementSetting(config.dhcp()).equals("on")) throw new IOException(hint + " (dhcp.routerAdvertisements=on)", e);
            log.warn(hint + " (dhcp.routerAdvertisements=off silences this)");
            return;
        }
        running.add(ra);
        log.info("answering IPv6 router solicitations on {} with 'no router here' (lifetime 0, no prefixes)", ra.describe());
    }

    private void warnAboutForeignServers(List<ServedInterface> nics) {
        if (!config.dhcp().probeForeignServer()) return;
        for (ServedInterface nic : nics) {
            try {
                var others = new java.util.HashSet<>(ForeignServerProbe.probe(nic, transport, group, Duration.ofSeconds(2)));
                others.remove(nic.address());
                if (!others.isEmpty()) {
                    log.warn("!!! ANOTHER DHCP SERVER ANSWERS ON {}: {} — two servers handing out addresses break this network. "
                            + "Use dhcp.mode=proxy here, or stop the other server. !!!", nic.name(), others);
                }
            } catch (Exception e) {
                log.warn("could not probe {} for other DHCP servers: {}", nic.name(), e.toString());
            }
        }
    }

    private TftpSettings tftpSettings() throws IOException {
        NetbootConfig.Tftp t = config.tftp();
        String address = t.address();
        if (bootServicesFollowRole() && (address == null || address.isBlank() || address.equals("0.0.0.0")) && !serviceAddressOnly().contains(":")) {
            // Bound to the address that moves with the role, so every reply leaves from the address the PC asked
            // (a wildcard socket would answer from this node's own address on the same subnet).
            address = serviceAddressOnly();
        }
        InetSocketAddress listen = new InetSocketAddress(bindAddress(address), t.port());
        RetransmitPolicy retransmit = new RetransmitPolicy(Duration.ofMillis(t.initialTimeoutMillis()),
                Duration.ofMillis(t.minTimeoutMillis()), Duration.ofMillis(t.maxTimeoutMillis()), Duration.ofMillis(t.giveUpAfterMillis()));
        return new TftpSettings(listen, t.maxWindowSize(), t.maxBlockSize(), t.maxTransfers(), t.maxTransfersPerClient(),
                retransmit, config.tuning().tftpGso());
    }

    /**
     * Every image's initrd, built in the background once the services start, so no PC waits for its image's build
     * (which a template or image change still brings: the cache is checked against the recipe on each request).
     */
    private void prepareInitrds() {
        List<String> names = inventory.images().stream().map(dev.netboot.inventory.Image::name).toList();
        if (names.isEmpty()) return;
        dev.netboot.boot.initrd.ImageFileProvider images = services.imageFiles();
        Thread.ofVirtual().name("initrd-prepare").start(() -> {
            for (String name : names) images.prepare(name);
        });
    }

    /**
     * Loads, before the warm-ups, the classes that starting the services would load after them. HotSpot compiles
     * a call with one implementation in sight as a direct call, and throws the compiled method away when a class
     * with another implementation is loaded ("marked for deoptimization" in -Xlog:deoptimization). The start's
     * first virtual thread loads the carrier-thread classes (another {@code Thread} subclass); in bench/boot.sh's
     * bios-grub row they were loaded right after the AoE warm-up, in the same millisecond as the target-state class
     * that did throw its effect runner away ({@link AoeWarmUp} now uses that one). Loading them first leaves no
     * such doubt. {@link dev.netboot.transport.Transport#newIpv4DatagramChannel} explains the same for the TFTP path.
     */
    private static void loadWhatStartingLoads() throws InterruptedException {
        Thread.ofVirtual().name("warm-up-prelude").start(() -> {}).join();
    }

    /** tuning.aoeWarmUpFrames: see {@link AoeWarmUp}. Once per process; a failure is logged, never fatal. */
    private void warmUpAoe() {
        int frames = config.tuning().aoeWarmUpFrames();
        if (frames <= 0) return;
        NetbootConfig.Aoe a = config.aoe();
        try {
            Duration took = AoeWarmUp.run(frames, a.bufferCount(), a.packetRing(), config.tuning().aoeSpinNanos(),
                    new ReadTuning(config.tuning().zeroCopyReads(), config.tuning().mmapReads()), services.dataDir(), bootSteps.discoveries());
            log.info("AoE warmed up: {} frames to a target of its own on the loopback interface in {} ms, so the first PCs' disks get compiled code (tuning.aoeWarmUpFrames)",
                    frames, took.toMillis());
        } catch (IOException | RuntimeException e) {
            log.warn("AoE warm-up skipped ({}); the first PCs' disk reads run slower until the JIT catches up", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** tuning.tftpWarmUpBlocks: see {@link TftpWarmUp}. Once per process; a failure is logged, never fatal. */
    private void warmUpTftp() {
        int blocks = config.tuning().tftpWarmUpBlocks();
        if (blocks <= 0) return;
        try {
            Duration took = TftpWarmUp.run(blocks, tftpSettings(), transport, group, services.dataDir());
            log.info("TFTP warmed up: served {} blocks to itself over loopback in {} ms, so the first PCs get compiled code (tuning.tftpWarmUpBlocks)",
                    blocks, took.toMillis());
        } catch (IOException | RuntimeException e) {
            log.warn("TFTP warm-up skipped ({}); the first transfers run slower until the JIT catches up", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void startTftp(FileProvider files) throws IOException, InterruptedException {
        NetbootConfig.Tftp t = config.tftp();
        TftpSettings settings = tftpSettings();
        InetSocketAddress listen = settings.listen();
        try {
            tftp = new TftpServer(settings, files, registry, transport, group).start();
        } catch (Exception e) {
            throw new IOException("TFTP cannot listen on " + describe(listen) + ": " + e.getMessage()
                    + (t.port() < 1024 ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE; or set tftp.port)" : ""), e);
        }
        running.add(tftp);
        log.info("TFTP listening on udp {}", describe(tftp.localAddress()));
    }

    private void startHttp(FileProvider files) throws IOException {
        NetbootConfig.Http h = config.http();
        InetSocketAddress listen = new InetSocketAddress(bindAddress(h.address()), h.port());
        if (h.writeTimeoutSeconds() < 1) throw new IOException("http.writeTimeoutSeconds must be at least 1, got " + h.writeTimeoutSeconds());
        TransferSlots slots;
        try {
            slots = new TransferSlots(h.maxTransfersPerClient(), h.maxTransfers());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        BootFileRoutes bootFiles = new BootFileRoutes(files, registry, slots);
        NetbootConfig.Web w = config.web();
        webAdmin = new WebAdmin(Path.of(w.templates()), AdminPassword.resolve(w.adminPassword(), services.dataDir()), inventory, clientDisks,
                services.catalog(), this::exportedAddresses, waiting::now, this::replicationOf, clock, services.clientInstalls()::install);
        Optional<HttpService.Tls> tls = Optional.empty();
        if (h.httpsPort() > 0) {
            TlsIdentity identity = h.httpsCertificate().isBlank() ? TlsIdentity.selfSigned(services.dataDir().resolve("tls"))
                    : TlsIdentity.fromPem(Path.of(h.httpsCertificate()), Path.of(h.httpsKey()));
            tls = Optional.of(new HttpService.Tls(new InetSocketAddress(listen.getAddress(), h.httpsPort()), identity));
            log.info("HTTPS certificate: {}, SHA-256 fingerprint {}", identity.source(), identity.fingerprint());
        }
        try {
            http = new HttpService(listen, Duration.ofSeconds(h.writeTimeoutSeconds()), tls, registry,
                    List.of(bootFiles::register, webAdmin.routes()::register, webAdmin.api()::register)).start();
        } catch (RuntimeException e) {
            throw new IOException("HTTP cannot listen on " + describe(listen) + (tls.isPresent() ? " or https port " + h.httpsPort() : "")
                    + ": " + rootCause(e).getMessage() + " (set http.port / http.httpsPort)", e);
        }
        running.add(http);
        String host = listen.getAddress().isAnyLocalAddress() ? "<this-host>" : listen.getHostString();
        log.info("HTTP listening on tcp {}: boot files at http://{}:{}{}, metrics at /metrics",
                describe(new InetSocketAddress(listen.getAddress(), http.port())), host, http.port(), BootFileRoutes.PREFIX);
        String admin = tls.isPresent() ? "https://" + host + ":" + http.tlsPort() : "http://" + host + ":" + http.port();
        log.info("web admin at {}{}/ (user {}, {}; templates from {}, missing ones packaged){}", admin, AdminRoutes.PREFIX,
                AdminPassword.USER, webAdmin.password().whereToFind(), webAdmin.templateDir().toAbsolutePath(),
                tls.isPresent() ? "" : "; the password crosses the network in clear: set http.httpsPort for HTTPS");
    }

    private volatile dev.netboot.replication.ServiceAddress serviceAddress;
    private volatile FailoverService failover;

    /** Where AoE is served: the service interface when failover is on (it follows the primary role), else aoe.interfaces. */
    private List<String> aoeInterfaces() {
        if (ReplicationService.role(config.replication()).isPresent() && config.replication().failover())
            return List.of(config.replication().serviceInterface());
        return config.aoe().interfaces();
    }

    private boolean failoverConfigured() {
        return ReplicationService.role(config.replication()).isPresent() && config.replication().failover();
    }

    /** A takeover: AoE serving (on the service interface, still down until the failover brings it up). */
    private synchronized AoeServer ensureAoe() throws IOException {
        if (aoe == null) startAoe();
        return aoe;
    }

    private AutoCloseable aoeExporter;

    /** No longer primary: the AoE target (and the catalog exporter feeding it) stop, its disks are closed. */
    private synchronized void releaseAoe() {
        AoeServer a = aoe;
        if (a == null) return;
        try {
            if (aoeExporter != null) aoeExporter.close();
        } catch (Exception e) {
            log.warn("failover: stopping the catalog exporter: {}", e.getMessage());
        }
        a.close();
        running.remove(a);
        running.remove(aoeExporter);
        aoeExporter = null;
        aoe = null;
        log.info("failover: AoE target stopped, disks closed (this node is not primary)");
    }

    /** The failover of this server, or null when replication.serviceMac is not set. */
    public FailoverService failover() { return failover; }

    private synchronized void startAoe() throws IOException {
        NetbootConfig.Aoe a = config.aoe();
        Path dataDir = Path.of(config.dataDir());
        aoe = new AoeServer(aoeInterfaces(), a.bufferCount(), a.threadsPerInterface(), a.packetRing(), registry, new StateFiles(dataDir),
                config.tuning().aoeSpinNanos()).start();
        aoe.responder().onDiscovery(bootSteps.discoveries());
        if (failoverConfigured()) {
            // Disks bound to the client network (its interface's name) are served from the service macvlan over it.
            NetbootConfig.Replication r = config.replication();
            aoe.responder().bindingsOf(r.serviceInterface(), r.clientInterface());
        }
        running.add(aoe);
        DiskCatalog catalog = services.catalog();
        Set<TargetAddress> disks = new java.util.HashSet<>();
        catalog.list().forEach(e -> disks.add(e.target()));
        a.targets().forEach(e -> disks.add(e.target()));
        new StateFiles(dataDir).keepOnly(disks);
        ReplicationService r = replication;
        if (r != null) aoe.replicateThrough(r.writes());
        CatalogExporter exporter = new CatalogExporter(catalog, a.targets(), aoe, a.syncWrites(),
                new ReadTuning(config.tuning().zeroCopyReads(), config.tuning().mmapReads()))
                .storesFrom((e, sync, tuning) -> {
                    Optional<dev.netboot.storage.BlockStore> lent = r == null || Boolean.TRUE.equals(e.readOnly()) ? Optional.empty() : r.lend(e);
                    return lent.isPresent() ? lent.get() : dev.netboot.storage.BlockStores.open(Path.of(e.path()), e.readOnly(), sync, tuning);
                })
                .start(a.catalogPollMillis());
        running.add(exporter);
        aoeExporter = exporter;
        if (r != null && r.catalogMirror() != null) r.catalogMirror().refreshExportsWith(exporter::reconcile);
        services.exportDisksThrough(exporter);
        publishAoeActivity(catalog);
        log.info("AoE serving {} disk(s) on {}; catalog {}", aoe.exported().size(), String.join(", ", aoeInterfaces()), catalog.file());
    }

    private boolean activityPublished;

    /**
     * Every 5 s, when each disk last heard from its client ({@link dev.netboot.disks.AoeActivity}), for
     * {@code image capture} in another process: written only when something changed.
     */
    private void publishAoeActivity(DiskCatalog catalog) {
        if (activityPublished) return; // a failover restart of AoE keeps the one timer: it reads the current server
        activityPublished = true;
        dev.netboot.disks.AoeActivity activity = dev.netboot.disks.AoeActivity.of(catalog);
        java.util.concurrent.atomic.AtomicReference<java.util.Map<TargetAddress, Instant>> last = new java.util.concurrent.atomic.AtomicReference<>(java.util.Map.of());
        var timer = group.next().scheduleAtFixedRate(() -> {
            AoeServer server = aoe;
            if (server == null) return;
            java.util.Map<TargetAddress, Instant> now = new java.util.HashMap<>();
            for (dev.netboot.aoe.AoeTarget t : server.responder().targets()) {
                if (t.lastFrameMillis() >= 0) now.put(t.address(), Instant.ofEpochMilli(t.lastFrameMillis()));
            }
            if (now.equals(last.get())) return;
            Thread.ofVirtual().start(() -> {
                try {
                    activity.write(now);
                    last.set(now);
                } catch (IOException e) {
                    log.warn("could not write {} (image capture cannot tell running clients by their AoE frames): {}", activity.file(), e.getMessage());
                }
            });
        }, 1, 5, java.util.concurrent.TimeUnit.SECONDS);
        running.add(() -> timer.cancel(false));
    }

    /** The replicated standby (docs/replication.md): the catalog's disks and aoe.targets, mirrored to the peer. */
    private void startReplication() throws IOException, InterruptedException {
        List<dev.netboot.disks.DiskEntry> disks = new ArrayList<>(services.catalog().list());
        disks.addAll(config.aoe().targets());
        replication = ReplicationService.start(config, disks, registry, inventory, () -> aoe, services.cloner());
        running.add(replication);
    }

    /** The disks page's replication column for one disk. */
    private String replicationOf(String address) {
        ReplicationService r = replication;
        if (r == null) return ReplicationService.role(config.replication()).isPresent() ? "starting" : "not configured";
        return r.summary(address);
    }

    /** The replication of this server, or null when replication.role is none. */
    public ReplicationService replication() { return replication; }

    /** What the web admin shows as "exported now": empty when this server serves no AoE. */
    private Optional<Set<String>> exportedAddresses() {
        AoeServer a = aoe;
        if (a == null) return Optional.empty();
        Set<String> out = new java.util.TreeSet<>();
        a.exported().forEach(t -> out.add(t.toString()));
        return Optional.of(out);
    }

    /** An explicit address wins; else the configured interface's IPv4 address; else every address. */
    private InetAddress bindAddress(String explicit) throws IOException {
        if (!explicit.isBlank()) return InetAddress.getByName(explicit);
        String nicName = config.networkInterface();
        if (nicName == null || nicName.isBlank()) return InetAddress.getByName("0.0.0.0");
        NetworkInterface nic;
        try {
            nic = NetworkInterface.getByName(nicName);
        } catch (SocketException e) {
            nic = null;
        }
        if (nic == null) throw new IOException("network interface '" + nicName + "' does not exist (networkInterface in the config)");
        for (InetAddress a : Collections.list(nic.getInetAddresses())) if (a instanceof Inet4Address) return a;
        throw new IOException("network interface '" + nicName + "' has no IPv4 address");
    }

    private static String describe(InetSocketAddress a) {
        return (a.getAddress() == null || a.getAddress().isAnyLocalAddress() ? "*" : a.getAddress().getHostAddress()) + ":" + a.getPort();
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t;
    }

    public PrometheusMeterRegistry registry() { return registry; }
    public InetSocketAddress tftpAddress() { return tftp.localAddress(); }
    public int httpPort() { return http.port(); }
    public Inventory inventory() { return inventory; }
    public DhcpEngine dhcpEngine() { return dhcpEngine; }
    public AoeServer aoe() { return aoe; }
    public ClientDisks clientDisks() { return clientDisks; }

    @Override
    public void close() {
        for (int i = running.size() - 1; i >= 0; i--) {
            try {
                running.get(i).close();
            } catch (Exception e) {
                log.warn("stopping {} failed: {}", running.get(i).getClass().getSimpleName(), e.toString());
            }
        }
        running.clear();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
