package dev.netboot.boot.menus;

import dev.netboot.files.BytesFile;
import dev.netboot.files.ConfinedPath;
import dev.netboot.files.FileProvider;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.inventory.Assignment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Function;

/**
 * Serves boot menus rendered per client as if they were files: put it before the directory provider
 * ({@code menus.orElse(directory)}) and TFTP and HTTP answer {@code pxelinux.cfg/01-<mac>} and the
 * like from templates; other paths fall through. Nothing is written to disk.
 *
 * <p>A template that fails to render is logged with its fault and the client gets "not found" (then
 * whatever the directory holds under that name): never half a menu.
 */
public final class MenuFileProvider implements FileProvider {

    private static final Logger log = LoggerFactory.getLogger(MenuFileProvider.class);

    private final Templates templates;
    private final Function<String, Optional<Assignment>> assignments;
    private final String kernelArgs;
    private final int retrySeconds;

    /** @param assignments the inventory's assignment of a MAC (may block: providers run off the event loops) */
    public MenuFileProvider(Templates templates, Function<String, Optional<Assignment>> assignments, String kernelArgs,
                            int retrySeconds) {
        this.templates = templates;
        this.assignments = assignments;
        this.kernelArgs = kernelArgs == null ? "" : kernelArgs;
        this.retrySeconds = retrySeconds;
    }

    @Override
    public Lookup open(FileRequest request) {
        // Menus are always found under their plain name, even when the directory refuses a leading slash:
        // GRUB asks for "/grub/grub.cfg-01-..." and PXELINUX for "pxelinux.cfg/..." relative to its own path.
        Optional<String> relative = ConfinedPath.relative(request.path(), true);
        if (relative.isEmpty()) return new Lookup.NotFound("not a menu path");
        Optional<MenuRequest> menu = MenuRequest.parse(relative.get());
        if (menu.isEmpty()) return new Lookup.NotFound("not a menu path");
        return render(menu.get(), relative.get());
    }

    /** Renders one menu; public for the CLI and tests. */
    public Lookup render(MenuRequest menu, String name) {
        Optional<Assignment> assignment;
        try {
            assignment = menu.isDefault() ? Optional.empty() : assignments.apply(menu.mac());
        } catch (RuntimeException e) {
            // A half-known client must not get the "unassigned" menu: it would wait instead of booting its disk.
            log.error("boot menu {} for {} not served: inventory lookup failed: {}", name, menu.mac(), e.getMessage());
            return new Lookup.NotFound("inventory lookup failed: " + e.getMessage());
        }
        ClientMenuModel model = new ClientMenuModel(menu.isDefault() ? "" : menu.mac(), assignment, kernelArgs, retrySeconds);
        try {
            String text = templates.render(menu.kind().template(), model.toMap());
            return new Lookup.Found(new BytesFile(text.getBytes(StandardCharsets.UTF_8)), name);
        } catch (TemplateException e) {
            log.error("boot menu {} for {} not served: {}", name, menu.isDefault() ? "unknown clients" : menu.mac(), e.getMessage());
            return new Lookup.NotFound("menu template failed: " + e.getMessage());
        }
    }
}
