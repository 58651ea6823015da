package dev.netboot.web.admin;

import dev.netboot.templates.TemplateException;
import dev.netboot.templates.Templates;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The web admin under {@value #PREFIX}: server-rendered pages (FreeMarker, HTML-escaped), plain forms
 * that work without JavaScript, post-redirect-get after every change. Every request under the prefix
 * needs the admin's login; every POST needs the page's token. Boot files and /metrics stay open.
 */
public final class AdminRoutes {

    public static final String PREFIX = "/admin";
    private static final Logger log = LoggerFactory.getLogger(AdminRoutes.class);
    private static final String CSRF_FIELD = "csrf";

    private final Templates templates;
    private final AdminGuard guard;
    private final AdminQueries queries;
    private final AdminActions actions;
    private final FlattenJobs flattens;
    private final AdminLogin logins;

    public AdminRoutes(Templates templates, AdminGuard guard, AdminQueries queries, AdminActions actions, FlattenJobs flattens) {
        this(templates, guard, new AdminLogin(guard), queries, actions, flattens);
    }

    public AdminRoutes(Templates templates, AdminGuard guard, AdminLogin logins, AdminQueries queries, AdminActions actions, FlattenJobs flattens) {
        this.logins = logins;
        this.templates = templates;
        this.guard = guard;
        this.queries = queries;
        this.actions = actions;
        this.flattens = flattens;
    }

    public static String clientPath(String mac) { return PREFIX + "/clients/" + mac; }

    public void register(JavalinConfig config) {
        var r = config.routes;
        r.before(this::guard);
        // The inventory failing (a full disk) is the server's trouble, not a bug: a page that says so, 503.
        r.exception(InventoryException.class, (e, ctx) -> {
            log.error("web admin: {} {}: {}", ctx.method(), ctx.path(), e.getMessage());
            problem(ctx, new Pages.Problem(503, "Inventory unavailable", e.getMessage()));
        });
        r.get(PREFIX + "/", this::clientsPage);
        r.get(PREFIX + "/style.css", ctx -> ctx.contentType("text/css; charset=utf-8").result(templates.render("style.css", Map.of())));
        r.get(PREFIX + "/clients/{mac}", ctx -> clientPage(ctx, Optional.empty(), null, false));
        r.post(PREFIX + "/clients/{mac}/assign", this::assign);
        r.post(PREFIX + "/clients/{mac}/unassign", ctx -> change(ctx, mac -> {
            boolean had = actions.unassign(who(ctx), mac);
            return had ? "unassigned" : "nodisk";
        }));
        r.post(PREFIX + "/clients/{mac}/flatten", ctx -> change(ctx, mac -> {
            actions.flatten(who(ctx), mac);
            return "flattening";
        }));
        r.post(PREFIX + "/clients/{mac}/install", ctx -> change(ctx, mac -> {
            actions.install(who(ctx), mac, ctx.formParam("installer"), ctx.formParam("size"));
            return "installing";
        }));
        r.post(PREFIX + "/clients/{mac}/install/cancel", ctx -> change(ctx, mac -> actions.cancelInstall(who(ctx), mac) ? "installcancelled" : "notinstalling"));
        r.post(PREFIX + "/clients/{mac}/remove", this::remove);
        r.get(PREFIX + "/clone", ctx -> render(ctx, 200, "clone.ftlh", "clone",
                new Pages.Clone(queries.imageNames(), macParam(ctx), "", false, "", "")));
        r.post(PREFIX + "/clone", this::cloneTo);
        r.get(PREFIX + "/images", ctx -> render(ctx, 200, "images.ftlh", "images", new Pages.Images(queries.images())));
        r.get(PREFIX + "/disks", ctx -> render(ctx, 200, "disks.ftlh", "disks", new Pages.Disks(queries.disks(), "")));
    }

    // ---- login and tokens ---------------------------------------------------------------------

    private void guard(Context ctx) {
        String path = ctx.path();
        if (!path.equals(PREFIX) && !path.startsWith(PREFIX + "/")) return;
        ctx.header("Cache-Control", "no-store");
        ctx.header("X-Frame-Options", "DENY");
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'");
        AdminLogin.Result login = logins.check(ctx);
        if (login == AdminLogin.Result.THROTTLED) {
            problem(ctx, new Pages.Problem(429, "Too many wrong logins", "Too many wrong logins from " + ctx.ip() + ". Wait a minute and try again."));
            ctx.skipRemainingHandlers();
            return;
        }
        if (login != AdminLogin.Result.OK) {
            ctx.header("WWW-Authenticate", AdminLogin.CHALLENGE);
            problem(ctx, new Pages.Problem(401, "Login required", "The netboot admin needs the user admin and its password "
                    + "(web.adminPassword in the config, or the file admin-password in the data directory)."));
            ctx.skipRemainingHandlers();
            return;
        }
        if (ctx.method().equals(io.javalin.http.HandlerType.POST) && !guard.validToken(ctx.formParam(CSRF_FIELD))) {
            log.warn("web admin: refused a {} to {} from {} without a valid form token", ctx.method(), path, ctx.ip());
            problem(ctx, new Pages.Problem(403, "Form refused", "This form did not carry the admin page's security token "
                    + "(it came from another page, or the server restarted since the page was loaded). Nothing was changed. "
                    + "Reload the page and try again."));
            ctx.skipRemainingHandlers();
        }
    }

    /** What someone typed goes into the log as one line: a newline in a form field must not forge log lines. */
    private static String oneLine(String s) { return s == null ? "" : s.replaceAll("\\p{Cntrl}", "?"); }

    /** ?mac= from a waiting PC's link, if it is a MAC; never echoed otherwise. */
    private static String macParam(Context ctx) {
        String mac = ctx.queryParam("mac");
        return mac != null && mac.matches("(?i)([0-9a-f]{2}[:-]){5}[0-9a-f]{2}") ? mac : "";
    }

    private static String who(Context ctx) { return AdminPassword.USER + " from " + ctx.ip(); }

    // ---- pages --------------------------------------------------------------------------------

    private void clientsPage(Context ctx) {
        String done = ctx.queryParam("done");
        String removed = ctx.queryParam("mac");
        String message = "removed".equals(done) && removed != null ? "Client " + removed + " was removed." : "";
        int pages = queries.clientPages();
        int page = Math.min(pages, Math.max(1, parsePage(ctx.queryParam("page"))));
        render(ctx, 200, "clients.ftlh", "clients", new Pages.Clients(queries.clients(page), queries.waiting(), message, page, pages));
    }

    private static int parsePage(String text) {
        try {
            return text == null ? 1 : Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** The client's page, with the outcome of the last change (from ?done=) or a refusal to show. */
    private void clientPage(Context ctx, Optional<String> error, String image, boolean replace) {
        String mac = clientMac(ctx);
        if (mac == null) return;
        var row = queries.client(mac);
        if (row.isEmpty()) {
            problem(ctx, new Pages.Problem(404, "No such client", "There is no client " + mac + " in the inventory."));
            return;
        }
        FlattenStatus flatten = flattens.status(mac).orElse(null);
        String assigned = queries.assignedImage(mac).orElse("");
        String message = switch (Optional.ofNullable(ctx.queryParam("done")).orElse("")) {
            case "assigned" -> "Image " + assigned + " assigned: the client boots it at its next start.";
            case "unassigned" -> "The disk was removed; the client waits for an image again.";
            case "nodisk" -> "The client had no disk.";
            case "flattening" -> "Flattening started.";
            case "installing" -> "Its next network boot starts the installer onto its disk; after the installer's reboot it boots the installed system.";
            case "installcancelled" -> "Installer mode ended: its next network boot boots its disk.";
            case "notinstalling" -> "The client was not in installer mode.";
            default -> "";
        };
        boolean flattening = flatten != null && flatten.running();
        AdminQueries.Boots boots = queries.boots(mac, 5, 10);
        boolean booting = boots.booting();
        // No JavaScript: a running flatten or a boot going on reloads the page (a form being filled in would not).
        int refresh = flattening ? 2 : booting && error.isEmpty() ? 3 : 0;
        var page = new Pages.Client(row.get(), queries.imageNames(), image != null ? image : assigned, replace, queries.hasDisk(mac),
                queries.canFlatten(mac), flatten, boots.recent(), message, error.orElse(""),
                refresh, flattening, boots.runs(), booting);
        render(ctx, error.isPresent() ? 409 : 200, "client.ftlh", "clients", page);
    }

    // ---- changes ------------------------------------------------------------------------------

    private interface Change { String apply(String mac) throws IOException; }

    /** Runs a change of one client; success → back to its page (303), refusal → its page with the reason. */
    private void change(Context ctx, Change change) {
        String mac = clientMac(ctx);
        if (mac == null) return;
        try {
            String done = change.apply(mac);
            ctx.redirect(clientPath(mac) + "?done=" + done, HttpStatus.SEE_OTHER);
        } catch (IOException | IllegalArgumentException | IllegalStateException | InventoryException e) {
            log.info("web admin ({}): refused on client {}: {}", who(ctx), mac, oneLine(e.getMessage()));
            clientPage(ctx, Optional.of(e.getMessage()), ctx.formParam("image"), ctx.formParam("replace") != null);
        }
    }

    /** The MAC in the path, normalized; null (and a 400 page sent) when it is not one. */
    private String clientMac(Context ctx) {
        try {
            return Inventory.normalizeMac(ctx.pathParam("mac"));
        } catch (IllegalArgumentException e) {
            problem(ctx, new Pages.Problem(400, "No such client", e.getMessage()));
            return null;
        }
    }

    private void assign(Context ctx) {
        change(ctx, mac -> {
            actions.assign(who(ctx), mac, ctx.formParam("image"), ctx.formParam("replace") != null);
            return "assigned";
        });
    }

    private void remove(Context ctx) throws IOException {
        String mac = clientMac(ctx);
        if (mac == null) return;
        try {
            if (!actions.remove(who(ctx), mac)) {
                problem(ctx, new Pages.Problem(404, "No such client", "There is no client " + mac + " in the inventory."));
                return;
            }
        } catch (IllegalStateException | IllegalArgumentException | InventoryException e) {
            clientPage(ctx, Optional.of(e.getMessage()), null, false);
            return;
        }
        ctx.redirect(PREFIX + "/?done=removed&mac=" + URLEncoder.encode(mac, StandardCharsets.UTF_8), HttpStatus.SEE_OTHER);
    }

    private void cloneTo(Context ctx) {
        String macText = Optional.ofNullable(ctx.formParam("mac")).orElse("").trim();
        String image = Optional.ofNullable(ctx.formParam("image")).orElse("");
        boolean replace = ctx.formParam("replace") != null;
        String error;
        try {
            String mac = Inventory.normalizeMac(macText);
            actions.assign(who(ctx), mac, image, replace);
            ctx.redirect(clientPath(mac) + "?done=assigned", HttpStatus.SEE_OTHER);
            return;
        } catch (IOException | IllegalArgumentException | IllegalStateException | InventoryException e) {
            error = e.getMessage();
            log.info("web admin ({}): clone of {} to '{}' refused: {}", who(ctx), oneLine(image), oneLine(macText), oneLine(error));
        }
        render(ctx, 400, "clone.ftlh", "clone", new Pages.Clone(queries.imageNames(), macText, image, replace, "", error));
    }

    // ---- rendering ----------------------------------------------------------------------------

    private void problem(Context ctx, Pages.Problem p) {
        render(ctx, p.status(), "problem.ftlh", "", p);
    }

    private void render(Context ctx, int status, String template, String nav, Object page) {
        Map<String, Object> model = new HashMap<>();
        model.put("page", page);
        model.put("nav", nav);
        model.put("csrf", guard.csrfToken());
        model.put("prefix", PREFIX);
        model.put("alert", queries.alert().orElse(""));
        try {
            String html = templates.render(template, model);
            ctx.status(status).html(html);
        } catch (TemplateException e) {
            // An operator's edited template is broken: say which and where, never a stack trace.
            log.error("web admin: {}", e.getMessage());
            ctx.status(500).contentType("text/plain; charset=utf-8").result("The admin page cannot be shown: " + e.getMessage() + "\n");
        }
    }
}
