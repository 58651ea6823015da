package dev.netboot.web.admin;

import dev.netboot.templates.Templates;
import dev.netboot.disks.ClientDisks;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.inventory.Inventory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The web admin's parts put together: templates from the operator's folder or the jar, the login,
 * the queries and the actions. {@link #routes()} goes to {@code HttpService} beside the boot files.
 */
public final class WebAdmin {

    /** Resource folder in the jar with the default templates. */
    public static final String PACKAGED = "/webadmin";

    private final AdminPassword password;
    private final Templates templates;
    private final FlattenJobs flattens;
    private final AdminRoutes routes;
    private final AdminApi api;

    public WebAdmin(Path templateDir, AdminPassword password, Inventory inventory, ClientDisks disks, DiskCatalog catalog,
                    Supplier<Optional<Set<String>>> exported, Clock clock) {
        this(templateDir, password, inventory, disks, catalog, exported, Map::of, clock);
    }

    /** @param waiting PCs waiting for an image right now (boot.menus.WaitingClients), marked on the clients page */
    public WebAdmin(Path templateDir, AdminPassword password, Inventory inventory, ClientDisks disks, DiskCatalog catalog,
                    Supplier<Optional<Set<String>>> exported, Supplier<Map<String, Instant>> waiting, Clock clock) {
        this(templateDir, password, inventory, disks, catalog, exported, waiting, address -> "not configured", clock, ClientInstall.NONE);
    }

    /**
     * @param replication per disk address ("1.0"), what the replicated standby says of it (the disks page's replication column)
     * @param installs    {@code client install} (installer mode) for the client page's form
     */
    public WebAdmin(Path templateDir, AdminPassword password, Inventory inventory, ClientDisks disks, DiskCatalog catalog,
                    Supplier<Optional<Set<String>>> exported, Supplier<Map<String, Instant>> waiting,
                    java.util.function.Function<String, String> replication, Clock clock, ClientInstall installs) {
        this.password = password;
        this.templates = Templates.html(templateDir, PACKAGED);
        this.flattens = new FlattenJobs(disks, clock);
        AdminGuard guard = new AdminGuard(password);
        AdminLogin logins = new AdminLogin(guard);
        AdminQueries queries = new AdminQueries(inventory, catalog, exported, waiting, replication, clock);
        AdminActions actions = new AdminActions(inventory, disks, flattens, installs);
        this.routes = new AdminRoutes(templates, guard, logins, queries, actions, flattens);
        this.api = new AdminApi(logins, queries, actions, flattens);
    }

    public AdminRoutes routes() { return routes; }

    /** The same as JSON under /api/v1 (register it beside {@link #routes()}). */
    public AdminApi api() { return api; }
    public AdminPassword password() { return password; }
    public Path templateDir() { return templates.operatorDir(); }
    public FlattenJobs flattens() { return flattens; }
}
