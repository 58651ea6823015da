package dev.netboot.boot.menus;

import dev.netboot.templates.Templates;
import dev.netboot.templates.TemplateException;
import dev.netboot.files.BytesFile;
import dev.netboot.files.ConfinedPath;
import dev.netboot.files.FileProvider;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.boot.ClientBoot;
import dev.netboot.boot.KernelSignature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Function;

/**
 * Serves boot menus rendered per client as if they were files: TFTP and HTTP answer
 * {@code pxelinux.cfg/01-<mac>} and the like from templates; other paths fall through. Nothing is
 * written to disk. A file of the same name in the boot root wins ({@code files.OperatorFilesFirst}).
 *
 * <p>A template that fails to render is logged with its fault and the client gets "not found": never half a menu.
 */
public final class MenuFileProvider implements FileProvider {

    private static final Logger log = LoggerFactory.getLogger(MenuFileProvider.class);

    private final Templates templates;
    private final Function<String, ClientBoot> boots;
    private final String kernelArgs;
    private final int retrySeconds;
    private final AdminLink adminLink;
    private final WaitingClients waiting;
    private final Function<String, Optional<KernelSignature>> kernelSignatures;
    private final java.util.Set<String> warnedUnsigned = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.function.Consumer<String> loaderAsked;
    private final HttpBootLink httpBoot;

    /**
     * @param boots     what a MAC boots: {@code boot.Booter#bootFor} (may block: providers run off the event loops)
     * @param adminLink where an unassigned PC's console sends the operator
     * @param waiting   told which PCs got the waiting menu (and which a booting one), for the web admin
     */
    public MenuFileProvider(Templates templates, Function<String, ClientBoot> boots, String kernelArgs,
                            int retrySeconds, AdminLink adminLink, WaitingClients waiting) {
        this(templates, boots, kernelArgs, retrySeconds, adminLink, waiting, image -> Optional.empty(), mac -> {}, HttpBootLink.NONE);
    }

    public MenuFileProvider(Templates templates, Function<String, ClientBoot> boots, String kernelArgs,
                            int retrySeconds, AdminLink adminLink, WaitingClients waiting,
                            Function<String, Optional<KernelSignature>> kernelSignatures,
                            java.util.function.Consumer<String> loaderAsked) {
        this(templates, boots, kernelArgs, retrySeconds, adminLink, waiting, kernelSignatures, loaderAsked, HttpBootLink.NONE);
    }

    /**
     * @param kernelSignatures whether an image's kernel is signed for Secure Boot (empty: not known); a GRUB
     *                         menu, the loader a Secure Boot PC runs, says so on the console before {@code linux}
     * @param loaderAsked      told each MAC whose loader asked for its own menu over the network ({@code Booter.loaderAsked})
     * @param httpBoot         where the menus' loaders fetch the kernel and initrd over HTTP ("": by TFTP path)
     */
    public MenuFileProvider(Templates templates, Function<String, ClientBoot> boots, String kernelArgs,
                            int retrySeconds, AdminLink adminLink, WaitingClients waiting,
                            Function<String, Optional<KernelSignature>> kernelSignatures,
                            java.util.function.Consumer<String> loaderAsked, HttpBootLink httpBoot) {
        this.httpBoot = httpBoot;
        this.kernelSignatures = kernelSignatures;
        this.loaderAsked = loaderAsked;
        this.templates = templates;
        this.boots = boots;
        this.kernelArgs = kernelArgs == null ? "" : kernelArgs;
        this.retrySeconds = retrySeconds;
        this.adminLink = adminLink;
        this.waiting = waiting;
    }

    @Override
    public Lookup open(FileRequest request) {
        // Menus are always found under their plain name, even when the directory refuses a leading slash:
        // GRUB asks for "/grub/grub.cfg-01-..." and PXELINUX for "pxelinux.cfg/..." relative to its own path.
        Optional<String> relative = ConfinedPath.relative(request.path(), true);
        if (relative.isEmpty()) return new Lookup.NotFound("not a menu path");
        Optional<MenuRequest> menu = MenuRequest.parse(relative.get());
        if (menu.isEmpty()) return new Lookup.NotFound("not a menu path");
        return render(menu.get(), relative.get(), request.client());
    }

    /** Says at once only that a path is no menu: a menu asks the inventory and renders a template. */
    @Override
    public Optional<Lookup> openAtOnce(FileRequest request) {
        Optional<String> relative = ConfinedPath.relative(request.path(), true);
        return relative.isEmpty() || MenuRequest.parse(relative.get()).isEmpty()
                ? Optional.of(new Lookup.NotFound("not a menu path")) : Optional.empty();
    }

    /** Renders one menu as a client of unknown address would get it; for the CLI and tests. */
    public Lookup render(MenuRequest menu, String name) {
        return render(menu, name, null);
    }

    private Lookup render(MenuRequest menu, String name, java.net.InetSocketAddress client) {
        ClientBoot boot;
        try {
            if (!menu.isDefault() && client != null) loaderAsked.accept(menu.mac());
            boot = menu.isDefault() ? ClientBoot.unknownClient() : boots.apply(menu.mac());
        } catch (RuntimeException e) {
            // A half-known client must not get the "unassigned" menu: it would wait instead of booting its disk.
            log.error("boot menu {} for {} not served: inventory lookup failed: {}", name, menu.mac(), e.getMessage());
            return new Lookup.NotFound("inventory lookup failed: " + e.getMessage());
        }
        String adminUrl = boot.isWaiting() ? adminLink.forClient(client) : "";
        boolean unsigned = menu.kind() == MenuKind.GRUB && boot.boots().isPresent()
                && kernelSignatures.apply(boot.boots().get().image()).map(s -> s != KernelSignature.SIGNED).orElse(false);
        if (unsigned && warnedUnsigned.size() < 10_000 && warnedUnsigned.add(boot.mac() + " " + boot.boots().get().image())) {
            log.warn("{} gets GRUB (the Secure Boot chain) with image {}, whose kernel has no Secure Boot signature: with Secure Boot on, "
                    + "GRUB refuses it; turn Secure Boot off on that PC or give the image a signed kernel", boot.mac(), boot.boots().get().image());
        }
        String bootUrl = httpBoot.forClient(menu.kind(), client);
        ClientMenuModel model = new ClientMenuModel(boot, kernelArgs, retrySeconds, adminUrl, !unsigned, bootUrl);
        try {
            String text = templates.render(menu.kind().template(), model.toMap());
            // boot.ipxe names no client and waits for nothing: only the menus of one MAC say whether it waits.
            if (!menu.isDefault() && client != null) {
                if (!boot.isWaiting()) waiting.booting(menu.mac());
                else waiting.waiting(menu.mac());
            }
            return new Lookup.Found(new BytesFile(text.getBytes(StandardCharsets.UTF_8)), name);
        } catch (TemplateException e) {
            log.error("boot menu {} for {} not served: {}", name, menu.isDefault() ? "unknown clients" : menu.mac(), e.getMessage());
            return new Lookup.NotFound("menu template failed: " + e.getMessage());
        }
    }
}
