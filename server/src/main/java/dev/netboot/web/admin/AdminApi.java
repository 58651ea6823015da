package dev.netboot.web.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.netboot.boot.BootTimeline;
import dev.netboot.inventory.BootEvent;
import dev.netboot.inventory.Inventory;
import dev.netboot.inventory.InventoryException;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The admin as JSON under {@value #PREFIX}, for scripts: the same reads as the pages ({@link AdminQueries})
 * and the same changes ({@link AdminActions}, the CLI's service methods). The admin's login (HTTP Basic,
 * throttled like the pages'). A change is a POST or DELETE whose body, if any, is JSON and whose
 * Content-Type says so: a page elsewhere cannot send that from a logged-in browser without the browser
 * asking first (CORS), so no form token is needed. Errors are {@code {"error": "..."}} with 400 (bad
 * input), 401, 404, 409 (refused in this state), 415, 429 or 503 (inventory down).
 *
 * <pre>
 * GET    /api/v1/clients[?page=N]          clients, 100 a page
 * GET    /api/v1/clients/MAC               one client
 * GET    /api/v1/clients/MAC/boots         its boots (newest first), each with its steps: the boot timeline
 * POST   /api/v1/clients/MAC/assign        {"image": "demo", "replace": false}   as netboot clone IMAGE --to MAC
 * POST   /api/v1/clients/MAC/unassign                                             as netboot client unassign MAC
 * POST   /api/v1/clients/MAC/flatten       starts it; GET .../flatten says how it goes
 * POST   /api/v1/clients/MAC/install       {"installer": "debian", "size": "20G"} as netboot client install
 * POST   /api/v1/clients/MAC/install/cancel                                       as netboot client install MAC --cancel
 * DELETE /api/v1/clients/MAC                                                      as netboot client remove MAC
 * GET    /api/v1/waiting                   PCs at their "no image yet" screen now
 * GET    /api/v1/images                    images
 * GET    /api/v1/disks                     the AoE disk catalog, with replication per disk
 * </pre>
 */
public final class AdminApi {

    public static final String PREFIX = "/api/v1";
    private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new SimpleModule().addSerializer(Instant.class, ToStringSerializer.instance))
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private final AdminLogin logins;
    private final AdminQueries queries;
    private final AdminActions actions;
    private final FlattenJobs flattens;

    public AdminApi(AdminLogin logins, AdminQueries queries, AdminActions actions, FlattenJobs flattens) {
        this.logins = logins;
        this.queries = queries;
        this.actions = actions;
        this.flattens = flattens;
    }

    /** A refusal the client can act on: its status and the reason. */
    private static final class Refused extends RuntimeException {
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    public void register(JavalinConfig config) {
        var r = config.routes;
        r.before(PREFIX + "/*", this::guard);
        r.exception(Refused.class, (e, ctx) -> error(ctx, e.status, e.getMessage()));
        get(r, PREFIX + "/clients", ctx -> {
            int page = page(ctx.queryParam("page"));
            json(ctx, 200, Map.of("page", page, "pages", queries.clientPages(), "clients", queries.clientFacts(page)));
        });
        get(r, PREFIX + "/clients/{mac}", ctx -> json(ctx, 200, client(mac(ctx))));
        get(r, PREFIX + "/clients/{mac}/boots", ctx -> {
            String mac = mac(ctx);
            client(mac);
            json(ctx, 200, Map.of("mac", mac, "booting", queries.booting(mac),
                    "boots", queries.timelines(mac, limit(ctx.queryParam("limit"))).stream().map(AdminApi::boot).toList()));
        });
        r.post(PREFIX + "/clients/{mac}/assign", ctx -> change(ctx, (mac, body) -> {
            actions.assign(who(ctx), mac, text(body, "image"), body.path("replace").asBoolean(false));
            return client(mac);
        }));
        r.post(PREFIX + "/clients/{mac}/unassign", ctx -> change(ctx, (mac, body) -> Map.of("mac", mac, "hadDisk", actions.unassign(who(ctx), mac))));
        r.post(PREFIX + "/clients/{mac}/flatten", ctx -> change(ctx, (mac, body) -> {
            actions.flatten(who(ctx), mac);
            ctx.status(202);
            return flattens.status(mac).orElseThrow();
        }));
        get(r, PREFIX + "/clients/{mac}/flatten", ctx -> {
            String mac = mac(ctx);
            json(ctx, 200, flattens.status(mac).orElseThrow(() -> new Refused(404, "no flatten of client " + mac + " since the server started")));
        });
        r.post(PREFIX + "/clients/{mac}/install", ctx -> change(ctx, (mac, body) -> {
            String disk = actions.install(who(ctx), mac, text(body, "installer"), body.path("size").isMissingNode() ? null : body.path("size").asText());
            return Map.of("mac", mac, "installer", text(body, "installer"), "disk", disk);
        }));
        r.post(PREFIX + "/clients/{mac}/install/cancel", ctx -> change(ctx, (mac, body) ->
                Map.of("mac", mac, "wasInstalling", actions.cancelInstall(who(ctx), mac))));
        r.delete(PREFIX + "/clients/{mac}", ctx -> change(ctx, (mac, body) -> {
            if (!actions.remove(who(ctx), mac)) throw new Refused(404, "there is no client " + mac + " in the inventory");
            return Map.of("mac", mac, "removed", true);
        }));
        get(r, PREFIX + "/waiting", ctx -> json(ctx, 200, queries.waiting().stream()
                .map(w -> Map.of("mac", w.mac(), "askedSecondsAgo", w.secondsAgo())).toList()));
        get(r, PREFIX + "/images", ctx -> json(ctx, 200, queries.imageFacts()));
        get(r, PREFIX + "/disks", ctx -> json(ctx, 200, queries.diskFacts()));
    }

    /** A read: the inventory failing is a 503 in JSON, like a change's. */
    private static void get(io.javalin.config.RoutesConfig r, String path, io.javalin.http.Handler handler) {
        r.get(path, ctx -> {
            try {
                handler.handle(ctx);
            } catch (InventoryException e) {
                error(ctx, 503, "the inventory is unavailable: " + e.getMessage());
            }
        });
    }

    // ---- login and the one rule for changes -------------------------------------------------------

    private void guard(Context ctx) {
        ctx.header("Cache-Control", "no-store");
        ctx.header("X-Content-Type-Options", "nosniff");
        switch (logins.check(ctx)) {
            case OK -> { }
            case THROTTLED -> {
                error(ctx, 429, "too many wrong logins from " + ctx.ip() + "; wait a minute");
                ctx.skipRemainingHandlers();
                return;
            }
            case NONE, WRONG -> {
                ctx.header("WWW-Authenticate", AdminLogin.CHALLENGE);
                error(ctx, 401, "login required: user admin and the admin password (web.adminPassword, or the file admin-password in the data directory)");
                ctx.skipRemainingHandlers();
                return;
            }
        }
        boolean change = ctx.method() == HandlerType.POST || ctx.method() == HandlerType.DELETE || ctx.method() == HandlerType.PUT;
        String type = Optional.ofNullable(ctx.contentType()).orElse("");
        boolean hasBody = ctx.contentLength() > 0 || ctx.header("Transfer-Encoding") != null;
        if (change && (hasBody || ctx.method() == HandlerType.POST) && !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            log.warn("web admin API: refused a {} to {} from {} that is not JSON (Content-Type '{}')", ctx.method(), ctx.path(), ctx.ip(), oneLine(type));
            error(ctx, 415, "a change needs Content-Type: application/json (an empty body is {})");
            ctx.skipRemainingHandlers();
        }
    }

    private interface Change { Object apply(String mac, JsonNode body) throws IOException; }

    private void change(Context ctx, Change change) {
        String mac = mac(ctx);
        JsonNode body = body(ctx);
        try {
            Object result = change.apply(mac, body);
            json(ctx, ctx.statusCode() == 202 ? 202 : 200, result);
        } catch (Refused e) {
            throw e;
        } catch (IllegalArgumentException e) {
            refused(ctx, mac, 400, e.getMessage());
        } catch (IllegalStateException e) {
            refused(ctx, mac, 409, e.getMessage());
        } catch (InventoryException e) {
            refused(ctx, mac, 503, e.getMessage());
        } catch (IOException e) {
            refused(ctx, mac, 500, e.getMessage());
        }
    }

    private void refused(Context ctx, String mac, int status, String why) {
        log.info("web admin API ({}): refused on client {}: {}", who(ctx), mac, oneLine(why));
        error(ctx, status, why);
    }

    private static JsonNode body(Context ctx) {
        String text = ctx.body();
        if (text.isBlank()) return JSON.createObjectNode();
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isObject()) throw new Refused(400, "the body must be a JSON object");
            return node;
        } catch (JsonProcessingException e) {
            throw new Refused(400, "the body is not JSON: " + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.path(field);
        return v.isMissingNode() || v.isNull() ? null : v.asText();
    }

    // ---- values ---------------------------------------------------------------------------------------

    private ClientFacts client(String mac) {
        return queries.clientFacts(mac).orElseThrow(() -> new Refused(404, "there is no client " + mac + " in the inventory"));
    }

    private static Map<String, Object> boot(BootTimeline t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("started", t.started());
        m.put("tookMillis", t.took().toMillis());
        m.put("reachedDisk", t.reachedDisk());
        m.put("steps", t.events().stream().map(e -> step(t, e)).toList());
        return m;
    }

    private static Map<String, Object> step(BootTimeline t, BootEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("at", e.at());
        m.put("sinceStartMillis", java.time.Duration.between(t.started(), e.at()).toMillis());
        m.put("kind", e.kind());
        m.put("address", e.address());
        m.put("file", e.bootFile());
        m.put("detail", e.detail());
        return m;
    }

    private static String mac(Context ctx) {
        try {
            return Inventory.normalizeMac(ctx.pathParam("mac"));
        } catch (IllegalArgumentException e) {
            throw new Refused(400, e.getMessage());
        }
    }

    private static int page(String text) {
        try {
            return text == null ? 1 : Math.max(1, Integer.parseInt(text));
        } catch (NumberFormatException e) {
            throw new Refused(400, "page must be a number, got '" + oneLine(text) + "'");
        }
    }

    private static int limit(String text) {
        try {
            return text == null ? 10 : Math.clamp(Integer.parseInt(text), 1, 100);
        } catch (NumberFormatException e) {
            throw new Refused(400, "limit must be a number, got '" + oneLine(text) + "'");
        }
    }

    private static String who(Context ctx) { return AdminPassword.USER + " from " + ctx.ip() + " (API)"; }

    private static String oneLine(String s) { return s == null ? "" : s.replaceAll("\\p{Cntrl}", "?"); }

    private static void error(Context ctx, int status, String message) {
        json(ctx, status, Map.of("error", message == null ? "failed" : message));
    }

    private static void json(Context ctx, int status, Object value) {
        try {
            ctx.status(status).contentType("application/json").result(JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }
}
