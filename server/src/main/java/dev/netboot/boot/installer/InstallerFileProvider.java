package dev.netboot.boot.installer;

import dev.netboot.boot.ClientBoot;
import dev.netboot.boot.InstallerFile;
import dev.netboot.files.BytesFile;
import dev.netboot.files.ConcatenatedFile;
import dev.netboot.files.ConfinedPath;
import dev.netboot.files.DirectoryFileProvider;
import dev.netboot.files.FileProvider;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.templates.TemplateException;
import dev.netboot.templates.Templates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A client's installer files, under the names {@code boot.InstallerFile} gives them, only for a client the
 * Booter has in installer mode with that installer: the installer's kernel as it is; its initrd with our
 * {@link AoeAddon} after it (the aoe module of that kernel, the start-up hook, the client's preseed at
 * {@code /preseed.cfg}); and the rendered preseed alone, for the operator to read. The initrd's fetch
 * tells {@code installStarted}: the install of that client is under way.
 */
public final class InstallerFileProvider implements FileProvider {

    private static final Logger log = LoggerFactory.getLogger(InstallerFileProvider.class);
    static final String HOOK_NAME = "aoe-hook.sh";

    private final InstallerCatalog catalog;
    private final Templates preseeds;
    private final Function<String, ClientBoot> boots;
    private final Consumer<String> installStarted;

    /**
     * @param boots          what a MAC boots ({@code Booter.bootFor}): only a client installing with that installer gets its files
     * @param installStarted told the MAC whose installer fetched its initrd
     */
    public InstallerFileProvider(InstallerCatalog catalog, Function<String, ClientBoot> boots, Consumer<String> installStarted) {
        this.catalog = catalog;
        this.preseeds = new Templates(catalog.definitions(), "/installers");
        this.boots = boots;
        this.installStarted = installStarted;
    }

    @Override
    public Lookup open(FileRequest request) {
        Optional<String> relative = ConfinedPath.relative(request.path(), true);
        Optional<Lookup> mirrored = relative.flatMap(r -> mirrorFile(r));
        if (mirrored.isPresent()) return mirrored.get();
        Optional<InstallerFile> file = relative.flatMap(InstallerFile::parse);
        if (file.isEmpty()) return new Lookup.NotFound("not an installer file");
        InstallerFile f = file.get();
        try {
            ClientBoot boot = boots.apply(f.mac());
            Optional<ClientBoot.Boots> b = boot.boots().filter(x -> x.installer().equals(f.installer()));
            if (b.isEmpty()) return new Lookup.NotFound("client " + f.mac() + " is not in installer mode with " + f.installer());
            Installer installer = catalog.ready(f.installer());
            return switch (f.kind()) {
                case KERNEL -> {
                    Lookup k = new DirectoryFileProvider(installer.kernel().getParent(), false)
                            .open(new FileRequest(installer.kernel().getFileName().toString(), null, "installer"));
                    yield k instanceof Lookup.Found found ? new Lookup.Found(found.file(), relative.get()) : k;
                }
                case PRESEED -> new Lookup.Found(new BytesFile(preseed(installer, f.mac(), b.get(), serverOf(request)).getBytes(StandardCharsets.UTF_8)), relative.get());
                case INITRD -> {
                    Lookup own = new DirectoryFileProvider(installer.initrd().getParent(), false)
                            .open(new FileRequest(installer.initrd().getFileName().toString(), null, "installer"));
                    if (!(own instanceof Lookup.Found found)) yield own;
                    byte[] addon = AoeAddon.build(KernelVersion.of(installer.kernel()), installer.modules(), hook(),
                            preseed(installer, f.mac(), b.get(), serverOf(request)));
                    if (request.client() != null) installStarted.accept(f.mac());
                    log.info("client {} fetches installer {}: its initrd plus {} KiB with aoe for kernel {} ({})", f.mac(), f.installer(),
                            addon.length / 1024, KernelVersion.of(installer.kernel()), request.protocol());
                    yield new Lookup.Found(new ConcatenatedFile(found.file(), new BytesFile(addon)), relative.get());
                }
            };
        } catch (IOException | TemplateException | RuntimeException e) {
            log.error("installer file {} not served: {}", relative.get(), e.getMessage());
            return new Lookup.NotFound("installer " + f.installer() + ": " + e.getMessage());
        }
    }

    private static final Pattern MIRROR = Pattern.compile("installers/([A-Za-z0-9][A-Za-z0-9._-]*)/mirror/(.+)");

    /**
     * {@code installers/NAME/mirror/...}: the installer's local udeb mirror ({@link UdebMirror}), to any
     * client: it holds only Debian's own installer components. Empty when the path is not a mirror's.
     */
    /** Says at once only that a path is no installer file: the others need the inventory and the catalog. */
    @Override
    public Optional<Lookup> openAtOnce(FileRequest request) {
        Optional<String> relative = ConfinedPath.relative(request.path(), true);
        boolean installers = relative.isPresent() && (MIRROR.matcher(relative.get()).matches() || InstallerFile.parse(relative.get()).isPresent());
        return installers ? Optional.empty() : Optional.of(new Lookup.NotFound("not an installer file"));
    }

    private Optional<Lookup> mirrorFile(String relative) {
        Matcher m = MIRROR.matcher(relative);
        if (!m.matches()) return Optional.empty();
        try {
            Optional<Installer> installer = catalog.find(m.group(1));
            if (installer.isEmpty() || !installer.get().hasMirror()) {
                return Optional.of(new Lookup.NotFound("installer " + m.group(1) + " has no local mirror (fetch.udebs, netboot installers fetch)"));
            }
            Lookup l = new DirectoryFileProvider(installer.get().mirror(), false).open(new FileRequest(m.group(2), null, "installer"));
            return Optional.of(l instanceof Lookup.Found found ? new Lookup.Found(found.file(), relative) : l);
        } catch (IOException | RuntimeException e) {
            return Optional.of(new Lookup.NotFound("installer " + m.group(1) + " mirror: " + e.getMessage()));
        }
    }

    /** The preseed for one client; "" when the installer has none. */
    public String preseed(Installer installer, String mac, ClientBoot.Boots boots, String server) throws TemplateException {
        if (!installer.hasPreseed()) return "";
        Map<String, Object> model = new HashMap<>();
        model.put("server", server);
        model.put("mirror", installer.hasMirror() ? "/boot/installers/" + installer.name() + "/mirror" : "");
        model.put("mac", mac);
        model.put("aoe", boots.aoeAddress());
        model.put("aoeDevice", boots.aoeDevice());
        model.put("installer", installer.name());
        return preseeds.render(installer.preseed(), model);
    }

    /**
     * This server's HTTP address as the client reached it ({@code host:port}), for the preseed to point the
     * installer back here (its local mirror): the address the HTTP request came in on; "" when the initrd
     * came another way (TFTP), and then the preseed cannot name this server by itself.
     */
    static String serverOf(FileRequest request) {
        InetSocketAddress s = request.server();
        if (s == null || !"http".equals(request.protocol()) || s.getAddress() == null || s.getAddress().isAnyLocalAddress()) return "";
        String host = s.getAddress() instanceof java.net.Inet6Address ? "[" + s.getAddress().getHostAddress() + "]" : s.getAddress().getHostAddress();
        return host + ":" + s.getPort();
    }

    /** The operator's hook if the installers folder has one, else ours. */
    private String hook() throws IOException {
        Path own = catalog.definitions().resolve(HOOK_NAME);
        if (Files.isRegularFile(own)) return Files.readString(own);
        try (InputStream in = InstallerFileProvider.class.getResourceAsStream("/installers/" + HOOK_NAME)) {
            if (in == null) throw new IOException("the jar lacks /installers/" + HOOK_NAME);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
