package dev.netboot.app;

import dev.netboot.boot.BootFiles;
import dev.netboot.boot.RuleBootPolicy;
import dev.netboot.boot.initrd.ImageFileProvider;
import dev.netboot.boot.initrd.InitrdBuilder;
import dev.netboot.boot.menus.MenuFileProvider;
import dev.netboot.boot.menus.Templates;
import dev.netboot.config.NetbootConfig;
import dev.netboot.dhcp.DhcpEngine;
import dev.netboot.dhcp.DhcpMode;
import dev.netboot.dhcp.DhcpServer;
import dev.netboot.dhcp.DhcpSettings;
import dev.netboot.dhcp.ForeignServerProbe;
import dev.netboot.dhcp.ServedInterface;
import dev.netboot.inventory.BootOverrides;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryObserver;
import dev.netboot.inventory.LeaseWriter;
import dev.netboot.ndp.RouterAdvertiser;
import dev.netboot.aoe.AoeServer;
import dev.netboot.disks.CatalogExporter;
import dev.netboot.disks.ClientDisks;
import dev.netboot.disks.DiskCloners;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.StateFiles;
import dev.netboot.files.DirectoryFileProvider;
import dev.netboot.files.FileProvider;
import dev.netboot.tftp.RetransmitPolicy;
import dev.netboot.tftp.TftpServer;
import dev.netboot.tftp.TftpSettings;
import dev.netboot.transport.Transport;
import dev.netboot.web.BootFileRoutes;
import dev.netboot.web.HttpService;
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
    private Inventory inventory;
    private DhcpEngine dhcpEngine;
    private DhcpServer dhcp;
    private final Clock clock = Clock.systemUTC();
    private volatile AoeServer aoe;
    private CatalogExporter exporter;
    private volatile ClientDisks clientDisks;
    private WebAdmin webAdmin;

    public Appliance(NetbootConfig config) {
        this.config = config;
        this.group = transport.newGroup(Math.max(2, Runtime.getRuntime().availableProcessors()));
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
            clientDisks = new ClientDisks(inventory, new DiskCatalog(Path.of(config.dataDir())),
                    DiskCloners.forConfig(config.disks(), Path.of(config.dataDir())), config.disks().shelf(), clock, this::exportsChanged);
            FileProvider files = menus().orElse(images()).orElse(directory);
            startDhcp();
            if (config.tftp().enabled()) startTftp(files);
            if (config.http().enabled()) startHttp(files);
            if (!config.aoe().interfaces().isEmpty()) startAoe();
        } catch (RuntimeException | IOException | InterruptedException e) {
            close();
            throw e;
        }
        log.info("boot files are served from {} ({} transport)", root, transport.name().toLowerCase());
        return this;
    }

    private void openInventory() throws IOException {
        NetbootConfig.Inventory i = config.inventory();
        try {
            inventory = Inventory.open(i.url(), i.user(), i.password());
        } catch (RuntimeException e) {
            throw new IOException(e.getMessage() + " (inventory.url in the config)", e);
        }
        running.add(inventory);
    }

    /** Per-client boot menus, rendered from templates before the directory is looked at. */
    private FileProvider menus() {
        NetbootConfig.Menus m = config.menus();
        Templates templates = new Templates(Path.of(m.dir()), "/pxe-menus");
        log.info("boot menus from {} (templates missing there: packaged defaults)", templates.operatorDir().toAbsolutePath());
        String defaultImage = config.disks().defaultImage();
        if (!defaultImage.isBlank()) log.info("unknown clients get a clone of image {} (disks.defaultImage)", defaultImage);
        // An unassigned client asking for its menu gets a clone of the default image first (if configured).
        return new MenuFileProvider(templates, mac -> inventory.assignment(mac).or(() -> clientDisks.assignDefault(mac, defaultImage)),
                m.kernelArgs(), m.retrySeconds());
    }

    /** Images' kernels and initrds (built from templates, cached) under images/NAME/. */
    private FileProvider images() {
        NetbootConfig.Initrd i = config.initrd();
        InitrdBuilder builder = new InitrdBuilder(new Templates(Path.of(i.templates()), "/initrd-templates"), Path.of(i.busybox()));
        return new ImageFileProvider(inventory::imagePath, builder);
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
        List<ServedInterface> nics = ServedInterface.resolve(config.networkInterface());
        if (settings.mode() == DhcpMode.FULL) warnAboutForeignServers(nics);
        BootOverrides overrides = new BootOverrides(inventory);
        NetbootConfig.Boot b = config.boot();
        RuleBootPolicy policy = new RuleBootPolicy(new BootFiles(b.bios(), b.uefiX64(), b.uefiArm64(), b.httpBoot(), b.ipxeScriptUrl()),
                "", overrides, overrides::isDisabled);
        LeaseWriter leases = new LeaseWriter(inventory, clock);
        running.add(leases);
        InventoryObserver observer = new InventoryObserver(inventory, overrides::refresh);
        running.add(observer);
        dhcpEngine = new DhcpEngine(settings, policy, leases, observer);
        dhcp = new DhcpServer(dhcpEngine, nics, d.port(), d.bootServerPort(), "arp".equalsIgnoreCase(d.unaddressedDelivery()),
                registry, transport, group, clock).start();
        running.add(dhcp);
        // Expired leases become free, and overrides an operator set with the CLI take effect.
        var timer = group.next().scheduleAtFixedRate(() -> {
            dhcpEngine.expire(clock.instant());
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

    private void startTftp(FileProvider files) throws IOException, InterruptedException {
        NetbootConfig.Tftp t = config.tftp();
        InetSocketAddress listen = new InetSocketAddress(bindAddress(t.address()), t.port());
        RetransmitPolicy retransmit = new RetransmitPolicy(Duration.ofMillis(t.initialTimeoutMillis()),
                Duration.ofMillis(t.minTimeoutMillis()), Duration.ofMillis(t.maxTimeoutMillis()), Duration.ofMillis(t.giveUpAfterMillis()));
        TftpSettings settings = new TftpSettings(listen, t.maxWindowSize(), t.maxBlockSize(), t.maxTransfers(), t.maxTransfersPerClient(),
                retransmit);
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
        BootFileRoutes bootFiles = new BootFileRoutes(files, registry);
        NetbootConfig.Web w = config.web();
        webAdmin = WebAdmin.create(w.templates(), w.adminPassword(), Path.of(config.dataDir()), inventory, clientDisks,
                this::exportedAddresses, clock);
        Optional<HttpService.Tls> tls = Optional.empty();
        if (h.httpsPort() > 0) {
            TlsIdentity identity = h.httpsCertificate().isBlank() ? TlsIdentity.selfSigned(Path.of(config.dataDir()).resolve("tls"))
                    : TlsIdentity.fromPem(Path.of(h.httpsCertificate()), Path.of(h.httpsKey()));
            tls = Optional.of(new HttpService.Tls(new InetSocketAddress(listen.getAddress(), h.httpsPort()), identity));
            log.info("HTTPS certificate: {}, SHA-256 fingerprint {}", identity.source(), identity.fingerprint());
        }
        try {
            http = new HttpService(listen, tls, registry, List.of(bootFiles::register, webAdmin.routes()::register)).start();
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

    private void startAoe() throws IOException {
        NetbootConfig.Aoe a = config.aoe();
        Path dataDir = Path.of(config.dataDir());
        aoe = new AoeServer(a.interfaces(), a.bufferCount(), a.threadsPerInterface(), a.packetRing(), registry, new StateFiles(dataDir)).start();
        running.add(aoe);
        DiskCatalog catalog = new DiskCatalog(dataDir);
        exporter = new CatalogExporter(catalog, a.targets(), aoe, a.syncWrites()).start(a.catalogPollMillis());
        running.add(exporter);
        log.info("AoE serving {} disk(s) on {}; catalog {}", aoe.exported().size(), String.join(", ", a.interfaces()), catalog.file());
    }

    /** What the web admin shows as "exported now": empty when this server serves no AoE. */
    private Optional<Set<String>> exportedAddresses() {
        AoeServer a = aoe;
        if (a == null) return Optional.empty();
        Set<String> out = new java.util.TreeSet<>();
        a.exported().forEach(t -> out.add(t.toString()));
        return Optional.of(out);
    }

    /** A disk was assigned or removed here: export it now rather than at the next catalog poll. */
    private void exportsChanged() {
        CatalogExporter e = exporter;
        if (e != null) e.reconcile();
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
    public WebAdmin webAdmin() { return webAdmin; }

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
