package dev.netboot.app;

import dev.netboot.aoe.TargetAddress;
import dev.netboot.boot.BootFiles;
import dev.netboot.boot.Booter;
import dev.netboot.boot.DefaultImageClones;
import dev.netboot.boot.RuleBootPolicy;
import dev.netboot.boot.initrd.ImageFileProvider;
import dev.netboot.boot.installer.ClientInstalls;
import dev.netboot.disks.DiskCapture;
import dev.netboot.disks.InstalledKernels;
import dev.netboot.boot.InstallModes;
import dev.netboot.boot.installer.InstallerCatalog;
import dev.netboot.boot.installer.InstallerFileProvider;
import dev.netboot.boot.installer.InstallerModes;
import dev.netboot.boot.initrd.InitrdBuilder;
import dev.netboot.boot.menus.AdminLink;
import dev.netboot.boot.menus.HttpBootLink;
import dev.netboot.boot.menus.MenuFileProvider;
import dev.netboot.templates.Templates;
import dev.netboot.boot.menus.WaitingClients;
import dev.netboot.config.NetbootConfig;
import dev.netboot.disks.ClientDisks;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskCloner;
import dev.netboot.disks.DiskEntry;
import dev.netboot.disks.DiskExports;
import dev.netboot.images.ImageLibrary;
import dev.netboot.inventory.BootOverrides;
import dev.netboot.inventory.Inventory;

import dev.netboot.boot.BootRule;
import dev.netboot.boot.LoaderChoice;
import dev.netboot.files.FileProvider;
import dev.netboot.loaders.BootLoaders;
import dev.netboot.loaders.Loader;
import dev.netboot.loaders.GrubNetDirectory;
import dev.netboot.loaders.LoaderFileProvider;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.ArrayList;
import java.util.List;
import java.time.Clock;

/**
 * The services one configuration describes, built in this one place: the server ({@link Appliance}),
 * every command of the CLI and the web admin take theirs from here, so each is built the same way
 * everywhere and once per process (one inventory connection, one disk catalog, one {@link Booter}).
 * Parts are built when first asked for: {@code netboot initrd DIR} never opens the inventory.
 */
public final class Services implements AutoCloseable {

    private final NetbootConfig config;
    private final Clock clock;
    private final ForwardedExports exports = new ForwardedExports();
    private Inventory inventory;
    private DiskCatalog catalog;
    private DiskCloner cloner;
    private ClientDisks clientDisks;
    private BootOverrides overrides;
    private Booter booter;
    private InitrdBuilder initrds;
    private BootLoaders bootLoaders;

    public Services(NetbootConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
    }

    public NetbootConfig config() { return config; }

    public Clock clock() { return clock; }

    public Path dataDir() { return Path.of(config.dataDir()); }

    /** The inventory the config names (H2 under dataDir by default); opened on first use. */
    public synchronized Inventory inventory() {
        if (inventory == null) {
            NetbootConfig.Inventory i = config.inventory();
            inventory = Inventory.open(i.url(), i.user(), i.password());
        }
        return inventory;
    }

    public synchronized DiskCatalog catalog() {
        if (catalog == null) catalog = new DiskCatalog(dataDir());
        return catalog;
    }

    /** How client disks are made (disks.store). */
    public synchronized DiskCloner cloner() {
        if (cloner == null) cloner = DiskCloners.forConfig(config.disks(), dataDir());
        return cloner;
    }

    public synchronized ClientDisks clientDisks() {
        if (clientDisks == null) clientDisks = new ClientDisks(inventory(), catalog(), cloner(), config.disks().shelf(), clock, exports,
                config.disks().interfaces());
        return clientDisks;
    }

    public ImageLibrary images() {
        return new ImageLibrary(inventory(), dataDir(), clock);
    }

    /**
     * The server's AoE exporter: from now on this process's disk changes reach it directly. Without one
     * (the CLI, or a server with AoE off) they go only to the catalog file, which a server polls.
     */
    public void exportDisksThrough(DiskExports exporter) {
        exports.target = exporter;
    }

    /** The inventory's per-client boot files and disabled clients, cached for DHCP's event loop. */
    public synchronized BootOverrides bootOverrides() {
        if (overrides == null) overrides = new BootOverrides(inventory());
        return overrides;
    }

    /** The one boot decision: loaders by rule, what each client boots, and the default image's clones. */
    public synchronized Booter booter() {
        if (booter == null) {
            NetbootConfig.Boot b = config.boot();
            BootOverrides o = bootOverrides();
            BootLoaders found = bootLoaders();
            RuleBootPolicy loaders = new RuleBootPolicy(new BootFiles(b.bios(), b.uefiX64(), b.uefiArm64(), b.httpBoot(), b.ipxeScriptUrl(),
                    bootLoader()), "", o, o::isDisabled, bootRules(), l -> l == Loader.LPXELINUX ? pxelinuxOverHttp() : found.has(l));
            NetbootConfig.Disks d = config.disks();
            DefaultImageClones defaults = d.defaultImage().isBlank() ? DefaultImageClones.NONE
                    : new DefaultImageClones(d.defaultImage(), mac -> clientDisks().assignDefault(mac, d.defaultImage()),
                    () -> inventory().discoveredClientsWithDisks(), d.maxAutoClones(), d.autoClonesPerMinute(), clock);
            booter = new Booter(loaders, mac -> inventory().assignment(mac), defaults, config.menus().kernelArgs(),
                    new InstallerModes(inventory(), installers(), clock));
        }
        return booter;
    }

    /** boot.loader, checked: a bad word fails the start naming the setting. */
    public LoaderChoice bootLoader() {
        try {
            return LoaderChoice.parse(config.boot().loader());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("boot.loader: " + e.getMessage(), e);
        }
    }

    /** The operator's boot rules (boot.rules), checked: a bad word fails the start with its rule. */
    public List<BootRule> bootRules() {
        List<BootRule> rules = new ArrayList<>();
        for (NetbootConfig.Rule r : config.boot().rules()) {
            try {
                rules.add(BootRule.of(r.arch(), r.userClass(), r.vendorClass(), r.loader(), r.file()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("boot.rules: " + r + ": " + e.getMessage(), e);
            }
        }
        return rules;
    }

    /** The boot loaders the distribution's packages put under boot.loadersRoot (looked for once). */
    public synchronized BootLoaders bootLoaders() {
        if (bootLoaders == null) bootLoaders = BootLoaders.discover(Path.of(config.boot().loadersRoot()));
        return bootLoaders;
    }

    /**
     * The loaders served under their stable names from where the packages put them; BIOS GRUB's network
     * image is made (once, under dataDir/loaders/grub-pc) with the distribution's grub-mknetdir.
     */
    public FileProvider loaderFiles() throws java.io.IOException {
        BootLoaders l = bootLoaders();
        return new LoaderFileProvider(l, GrubNetDirectory.ensure(l, dataDir().resolve("loaders/grub-pc")));
    }

    public Templates menuTemplates() {
        return new Templates(Path.of(config.menus().dir()), "/pxe-menus");
    }

    /** Per-client menus as the loaders fetch them, rendered from what the {@link #booter()} decided; kernels by TFTP path. */
    public MenuFileProvider menus(AdminLink admin, WaitingClients waiting) {
        return menus(admin, HttpBootLink.NONE, waiting);
    }

    /**
     * Per-client menus as the loaders fetch them, rendered from what the {@link #booter()} decided.
     *
     * @param httpBoot this server's boot files over HTTP as a PC reaches them: PXELINUX menus load the kernel and
     *                 initrd that way when the PC got lpxelinux.0; GRUB menus do not (slower than TFTP, see below)
     *                 ({@link #pxelinuxOverHttp()}); iPXE's menus are relative to where iPXE got them already
     */
    public MenuFileProvider menus(AdminLink admin, HttpBootLink httpBoot, WaitingClients waiting) {
        NetbootConfig.Menus m = config.menus();
        ImageFileProvider images = imageFiles();
        HttpBootLink link = (kind, client) -> switch (kind) {
            // GRUB 2.06's own TCP took 12-16 s to the kernel where lockstep TFTP took 6-7 (bench/results/boot-2026-12-02-053516.md):
            // its SYN has no MSS option, so Linux sends it 536-byte segments, ~26 500 for the kernel, each ACKed (docs/dhcp.md);
            // its menus keep TFTP paths; the templates still follow a link if an operator's build of GRUB does better.
            case GRUB -> "";
            case PXELINUX -> pxelinuxOverHttp() ? httpBoot.forClient(kind, client) : "";
            case IPXE, IPXE_CHAIN -> "";
        };
        return new MenuFileProvider(menuTemplates(), booter()::bootFor, m.kernelArgs(), m.retrySeconds(), admin, waiting,
                images::kernelSignature, booter()::loaderAsked, link);
    }

    /**
     * Whether PXELINUX clients get lpxelinux.0 and menus with http:// URLs: the operator asked for it
     * ({@code boot.pxelinuxHttp}), HTTP is on, the pxelinux package has lpxelinux.0, and the boot root holds no
     * pxelinux.0 of the operator's own (that one wins, and it may load nothing but TFTP, so its PCs keep
     * pxelinux.0 and TFTP paths). Off by default: lockstep TFTP now loads a kernel as fast as dnsmasq's, which
     * leaves lpxelinux.0 no time to win (its own start costs what HTTP saves, bench/results/boot-2026-12-03-135907.md),
     * and its lwIP stack on the ROM's UNDI once stopped taking a kernel half way, for good (LoaderBootIT, 2026-12-03).
     */
    public boolean pxelinuxOverHttp() {
        return config.boot().pxelinuxHttp() && config.http().enabled() && bootLoaders().has(Loader.LPXELINUX)
                && !java.nio.file.Files.exists(Path.of(config.files().root()).resolve(Loader.PXELINUX.servedName()));
    }

    public synchronized InitrdBuilder initrds() {
        if (initrds == null) {
            NetbootConfig.Initrd i = config.initrd();
            initrds = new InitrdBuilder(new Templates(Path.of(i.templates()), "/initrd-templates"), Path.of(i.busybox()));
        }
        return initrds;
    }

    /** The installer definitions ({@code installers.dir}) and their fetched files ({@code <dataDir>/installers}). */
    public InstallerCatalog installers() {
        return new InstallerCatalog(Path.of(config.installers().dir()), dataDir().resolve("installers").toAbsolutePath());
    }

    /** {@code netboot image capture}: a client's disk, taken while the client is off, becomes an image. */
    public DiskCapture capture() {
        return new DiskCapture(inventory(), clientDisks(), images(), clock, java.time.Duration.ofSeconds(60));
    }

    /** Switching a client to an installer (CLI, web admin): the checks, the disk if it has none, installer mode. */
    public ClientInstalls clientInstalls() {
        return new ClientInstalls(inventory(), installers(), clientDisks(), images());
    }

    /** Installers' kernels and initrds (with the AoE add-on) for the clients in installer mode, under installers/NAME/MAC/. */
    public InstallerFileProvider installerFiles() {
        return new InstallerFileProvider(installers(), booter()::bootFor, booter()::installerFetched);
    }

    /** Images' kernels and initrds (built from templates, cached) under images/NAME/. */
    public ImageFileProvider imageFiles() {
        InstalledKernels installed = new InstalledKernels(dataDir(), clientDisks());
        return new ImageFileProvider(name -> {
            Optional<String> mac = InstallModes.installedMac(name);
            if (mac.isEmpty()) return inventory().imagePath(name);
            try {
                return Optional.of(installed.rootFor(mac.get()).toString());
            } catch (IOException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }, initrds());
    }

    @Override
    public synchronized void close() {
        if (inventory != null) inventory.close();
    }

    /** Hands disk changes to the exporter attached later (the AoE server starts after the disks exist). */
    private static final class ForwardedExports implements DiskExports {
        private volatile DiskExports target = DiskExports.VIA_CATALOG_FILE;

        @Override public void export(DiskEntry entry) { target.export(entry); }
        @Override public void withdraw(TargetAddress address) { target.withdraw(address); }
    }
}
