package dev.netboot.web.admin;

import dev.netboot.disks.ClientDisks;
import dev.netboot.disks.DiskCatalog;
import dev.netboot.disks.DiskExports;
import dev.netboot.disks.FileCloner;
import dev.netboot.inventory.BootEvent;
import dev.netboot.inventory.Client;
import dev.netboot.inventory.Image;
import dev.netboot.inventory.Inventory;
import dev.netboot.web.HttpService;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin pages over real HTTP (Javalin), a real H2 inventory, real copy-on-write clones and a real
 * disk catalog; the same calls as the CLI underneath. The browser-driven test is {@code WebAdminBrowserIT}.
 */
class WebAdminTest {

    static final String PASSWORD = "correct horse";
    static final String A = "52:54:00:00:00:0a";
    static final String B = "52:54:00:00:00:0b";

    @TempDir Path dir;
    Inventory inventory;
    ClientDisks disks;
    DiskCatalog catalog;
    WebAdmin admin;
    /** What boot.menus.WaitingClients would say: PCs at their "no image yet" screen. */
    volatile Map<String, Instant> waitingNow = Map.of();
    HttpService http;
    final HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    java.util.function.Function<String, String> replication = address -> "not configured";

    @BeforeEach
    void setUp() throws Exception {
        inventory = Inventory.open(Inventory.defaultUrl(dir.resolve("db").toString()), "sa", "");
        catalog = new DiskCatalog(dir);
        disks = new ClientDisks(inventory, catalog, new FileCloner(dir.resolve("disks")), 1, Clock.systemUTC(), DiskExports.VIA_CATALOG_FILE);
        image("alpha", 16 << 20);
        image("beta", 16 << 20);
        admin = new WebAdmin(dir.resolve("webadmin"), new AdminPassword(PASSWORD, Optional.empty()), inventory, disks, catalog,
                () -> Optional.of(Set.of("1.0")), () -> waitingNow, address -> replication.apply(address), Clock.systemUTC(), ClientInstall.NONE);
        http = new HttpService(new InetSocketAddress("127.0.0.1", 0), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                List.of(admin.routes()::register, admin.api()::register)).start();
    }

    @AfterEach
    void tearDown() {
        http.close();
        inventory.close();
    }

    private void image(String name, long size) throws Exception {
        Path disk = Files.createDirectories(dir.resolve("images/" + name)).resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(size);
            f.write('x');
        }
        inventory.addImage(new Image(0, name, disk.getParent().toString(), disk.toString(), "6.1.0-test", size, "the " + name + " image",
                "/src/" + name, Instant.now()));
    }

    // ---- HTTP plumbing ------------------------------------------------------------------------

    private URI uri(String path) { return URI.create("http://127.0.0.1:" + http.port() + path); }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).header("Authorization", basic("admin", PASSWORD)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, Map<String, String> form) throws Exception {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return client.send(HttpRequest.newBuilder(uri(path)).header("Authorization", basic("admin", PASSWORD))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A form as the page would send it: with the page's token. */
    private HttpResponse<String> submit(String path, String... fields) throws Exception {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("csrf", tokenOf(get(AdminRoutes.PREFIX + "/clone").body()));
        for (int i = 0; i < fields.length; i += 2) form.put(fields[i], fields[i + 1]);
        return post(path, form);
    }

    private static String tokenOf(String html) {
        var m = java.util.regex.Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(html);
        assertThat(m.find()).as("the page has a form token").isTrue();
        return m.group(1);
    }

    // ---- login --------------------------------------------------------------------------------

    @Test
    void everyAdminPageNeedsTheLogin() throws Exception {
        for (String path : List.of("/admin", "/admin/", "/admin/images", "/admin/disks", "/admin/clone", "/admin/clients/" + A, "/admin/nothing")) {
            HttpResponse<String> none = client.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(none.statusCode()).as(path).isEqualTo(401);
            assertThat(none.headers().firstValue("WWW-Authenticate")).as(path).hasValueSatisfying(v -> assertThat(v).startsWith("Basic "));
            assertThat(none.body()).contains("Login required").doesNotContain("<form");
        }
        for (String[] wrong : new String[][] {{"admin", "wrong"}, {"root", PASSWORD}, {"admin", ""}}) {
            var r = client.send(HttpRequest.newBuilder(uri("/admin/")).header("Authorization", basic(wrong[0], wrong[1])).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(String.join(":", wrong)).isEqualTo(401);
        }
        var garbage = client.send(HttpRequest.newBuilder(uri("/admin/")).header("Authorization", "Basic !!!").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(garbage.statusCode()).isEqualTo(401);
        assertThat(get("/admin/").statusCode()).isEqualTo(200);
        // Not the admin's: boot files and metrics stay open for iPXE and Prometheus.
        assertThat(client.send(HttpRequest.newBuilder(uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        assertThat(client.send(HttpRequest.newBuilder(uri("/administrator")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
    }

    @Test
    void guessingThePasswordIsStoppedAfterTenWrongLogins() throws Exception {
        for (int i = 0; i < 10; i++) {
            var r = client.send(HttpRequest.newBuilder(uri("/admin/")).header("Authorization", basic("admin", "guess" + i)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("guess " + i).isEqualTo(401);
        }
        var blocked = client.send(HttpRequest.newBuilder(uri("/admin/")).header("Authorization", basic("admin", PASSWORD)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(blocked.statusCode()).as("even the right password, for a minute").isEqualTo(429);
        assertThat(blocked.body()).contains("Too many wrong logins");
    }

    @Test
    void loginThrottleForgetsAfterItsWindowAndOnSuccess() {
        var clock = new java.util.concurrent.atomic.AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
        Clock ticking = new Clock() {
            @Override public java.time.ZoneId getZone() { return java.time.ZoneOffset.UTC; }
            @Override public Clock withZone(java.time.ZoneId zone) { return this; }
            @Override public Instant instant() { return clock.get(); }
        };
        LoginThrottle t = new LoginThrottle(3, Duration.ofMinutes(1), ticking);
        for (int i = 1; i <= 3; i++) assertThat(t.failed("10.0.0.9", "admin", null)).isEqualTo(i);
        assertThat(t.blocked("10.0.0.9", "admin", null)).isTrue();
        assertThat(t.blocked("10.0.0.8", "admin", null)).as("another PC").isFalse();
        clock.set(clock.get().plusSeconds(61));
        assertThat(t.blocked("10.0.0.9", "admin", null)).isFalse();
        assertThat(t.failed("10.0.0.9", "admin", null)).isEqualTo(1);
        t.succeeded("10.0.0.9", "admin", null);
        assertThat(t.failed("10.0.0.9", "admin", null)).isEqualTo(1);
    }

    @Test
    void aGuesserOnTheAdminsSharedAddressCannotLockOutTheAdminsBrowser() {
        LoginThrottle t = new LoginThrottle(3, Duration.ofMinutes(1), Clock.systemUTC());
        String device = t.succeeded("10.0.0.9", "admin", null);            // the admin logged in before, from behind the NAT
        for (int i = 0; i < 5; i++) t.failed("10.0.0.9", "admin", null);   // someone else behind the same NAT guesses
        assertThat(t.blocked("10.0.0.9", "admin", null)).as("the guesser").isTrue();
        assertThat(t.blocked("10.0.0.9", "admin", device)).as("the admin's browser").isFalse();
        for (int i = 0; i < 3; i++) t.failed("10.0.0.9", "admin", device);
        assertThat(t.blocked("10.0.0.9", "admin", device)).as("a stolen token guesses no further").isTrue();
    }

    @Test
    void tenThousandAddressesNeitherClearTheLockNorGetTenGuessesEach() {
        LoginThrottle t = new LoginThrottle(3, Duration.ofMinutes(1), Clock.systemUTC());
        for (int i = 0; i < 3; i++) t.failed("10.0.0.9", "admin", null);
        for (int i = 0; i < 10_001; i++) t.failed("fd00::" + Integer.toHexString(i), "admin", null);
        assertThat(t.blocked("10.0.0.9", "admin", null)).as("still locked after a flood of addresses").isTrue();
        assertThat(t.blocked("fd00::ffff:1", "admin", null)).as("a fresh address, once the account saw 30 wrong logins").isTrue();
        assertThat(t.tableSizes()).isLessThanOrEqualTo(LoginThrottle.MAX_PAIRS * 2 + LoginThrottle.MAX_DEVICES);
    }

    @Test
    void theBrowserThatLoggedInGetsADeviceCookie() throws Exception {
        var r = client.send(HttpRequest.newBuilder(uri("/admin/")).header("Authorization", basic("admin", PASSWORD)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Set-Cookie")).get().asString()
                .startsWith(AdminLogin.DEVICE_COOKIE + "=").contains("HttpOnly", "SameSite=Strict", "Path=/;");
    }

    @Test
    void noSpellingOfAnAdminPathGetsPastTheLogin() throws Exception {
        disks.assign(A, "alpha", false);
        for (String path : List.of("//admin/", "/admin//", "/admin/./images", "/boot/../admin/", "/admin/%2e/images", "/%61dmin/",
                "/ADMIN/", "/admin/clients/" + A + "/", "/admin;x=y/", "/admin/images;jsessionid=1")) {
            var r = client.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path + ": " + r.body()).isNotEqualTo(200).isBetween(400, 499);
            assertThat(r.body()).as(path).doesNotContain(A, "csrf");
        }
    }

    @Test
    void aPostWithoutTheTokenChangesNothing() throws Exception {
        for (Map<String, String> form : List.of(Map.of("mac", A, "image", "alpha"), Map.of("mac", A, "image", "alpha", "csrf", "forged"))) {
            HttpResponse<String> r = post("/admin/clone", form);
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.body()).contains("Form refused", "security token", "Nothing was changed");
        }
        assertThat(inventory.client(A)).isEmpty();
        assertThat(submit("/admin/clone", "mac", A, "image", "alpha").statusCode()).isEqualTo(303);
        assertThat(inventory.client(A)).isPresent();
    }

    // ---- pages --------------------------------------------------------------------------------

    @Test
    void theClientsPageListsADiscoveredClientWithItsAddressAndBoot() throws Exception {
        Instant at = Instant.parse("2026-11-25T10:15:30Z");
        inventory.clientSeen(B, "bios", "", "<script>alert(1)</script>", at);
        inventory.recordBootEvent(new BootEvent(B, at, "dhcp-boot", "10.0.0.7", "undionly.kpxe", ""));
        inventory.saveLeases(List.of(new dev.netboot.inventory.LeaseRecord(dev.netboot.net.Ipv4.parse("10.0.0.7"), "01:" + B, B, "",
                "BOUND", Instant.now().plusSeconds(600))), Instant.now());
        disks.assign(A, "alpha", false);

        String html = get("/admin/").body();

        assertThat(html).contains("<tr data-mac=\"" + B + "\">", ">" + Client.DISCOVERED + "<", "10.0.0.7", "2026-11-25 10:15:30 UTC");
        assertThat(html).as("a hostname from the network is text, never markup")
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;").doesNotContain("<script>");
        String rowA = html.substring(html.indexOf("data-mac=\"" + A + "\""));
        assertThat(rowA.substring(0, rowA.indexOf("</tr>"))).contains(">active<", ">alpha<", ">e1.0<", ">clone<");
    }

    @Test
    void pcsWaitingForAnImageAreMarkedAndLinkedToWhereOneIsAssigned() throws Exception {
        inventory.clientSeen(B, "bios", "", "", Instant.now());
        String unknown = "52:54:00:00:00:0c";
        waitingNow = new java.util.TreeMap<>(Map.of(B, Instant.now().minusSeconds(4), unknown, Instant.now()));

        String html = get("/admin/").body();

        assertThat(html).contains("Waiting for an image now", "<tr data-mac=\"" + B + "\" class=\"waiting-row\">",
                "href=\"/admin/clients/" + B + "\"", "href=\"/admin/clone?mac=" + unknown + "\"");
        String rowB = html.substring(html.indexOf("<tr data-mac=\"" + B + "\""));
        assertThat(rowB.substring(0, rowB.indexOf("</tr>"))).contains("waiting for an image");
        assertThat(get("/admin/clients/" + B).body()).contains("id=\"waiting\"", "no image assigned yet");
        assertThat(get("/admin/clone?mac=" + unknown).body()).contains("value=\"" + unknown + "\"");
        assertThat(get("/admin/clone?mac=%3Cb%3E").body()).doesNotContain("value=\"<b>\"").doesNotContain("&lt;b&gt;");

        waitingNow = Map.of();
        assertThat(get("/admin/").body()).doesNotContain("Waiting for an image now").doesNotContain("waiting-row");
        assertThat(get("/admin/clients/" + B).body()).doesNotContain("id=\"waiting\"");
    }

    @Test
    void cloneGivesTheMacAClientAndADisk() throws Exception {
        HttpResponse<String> r = submit("/admin/clone", "mac", "52-54-00-00-00-0A", "image", "beta");

        assertThat(r.statusCode()).isEqualTo(303);
        assertThat(r.headers().firstValue("Location")).hasValue("/admin/clients/" + A + "?done=assigned");
        assertThat(inventory.assignment(A)).hasValueSatisfying(a -> assertThat(a.imageName()).isEqualTo("beta"));
        Path disk = Path.of(inventory.diskOf(A).orElseThrow().path());
        assertThat(disk).exists();
        assertThat(catalog.list()).anySatisfy(e -> assertThat(e.allowedMacs()).containsExactly(A));
        assertThat(get("/admin/clients/" + A + "?done=assigned").body()).contains("Image beta assigned", "id=\"image\">beta<");
    }

    @Test
    void aBadMacIsSaidInWordsAndTheFormKeepsWhatWasTyped() throws Exception {
        HttpResponse<String> r = submit("/admin/clone", "mac", "52:54:00:zz", "image", "beta", "replace", "yes");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("not a MAC address: &#39;52:54:00:zz&#39;", "value=\"52:54:00:zz\"", "<option value=\"beta\" selected>",
                "name=\"replace\" value=\"yes\" checked").doesNotContain("Exception", "at dev.netboot");
        assertThat(inventory.clients()).isEmpty();

        HttpResponse<String> injected = submit("/admin/clone", "mac", "\"><script>alert(1)</script>", "image", "beta");
        assertThat(injected.statusCode()).isEqualTo(400);
        assertThat(injected.body()).as("what was typed goes back as text, inside the attribute")
                .contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"").doesNotContain("<script>");
    }

    @Test
    void anotherImageWithoutReplaceIsRefusedAndWithReplaceReplaces() throws Exception {
        disks.assign(A, "alpha", false);
        String before = inventory.diskOf(A).orElseThrow().path();

        HttpResponse<String> refused = submit("/admin/clients/" + A + "/assign", "image", "beta");
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.body()).contains("class=\"error\"", "cloned from image alpha", "discards what that client wrote",
                "(tick &quot;replace&quot; to do that)",
                "<option value=\"beta\" selected>").doesNotContain("Exception");
        assertThat(inventory.assignment(A).orElseThrow().imageName()).isEqualTo("alpha");

        HttpResponse<String> replaced = submit("/admin/clients/" + A + "/assign", "image", "beta", "replace", "yes");
        assertThat(replaced.statusCode()).isEqualTo(303);
        assertThat(inventory.assignment(A).orElseThrow().imageName()).isEqualTo("beta");
        assertThat(inventory.assignment(A).orElseThrow().aoeAddress()).as("the client keeps its AoE address").isEqualTo("1.0");
        assertThat(Path.of(before)).as("same disk name, new clone").exists();
    }

    @Test
    void flattenRunsInTheBackgroundAndThePageFollowsIt() throws Exception {
        disks.assign(A, "alpha", false);
        assertThat(get("/admin/clients/" + A).body()).contains("id=\"flatten\"");

        HttpResponse<String> r = submit("/admin/clients/" + A + "/flatten");
        assertThat(r.statusCode()).isEqualTo(303);
        admin.flattens().await(A, Duration.ofSeconds(30));

        String page = get("/admin/clients/" + A).body();
        assertThat(page).contains("id=\"flatten-status\"", "done: the disk is standalone", "id=\"disk-kind\">standalone<")
                .doesNotContain("http-equiv=\"refresh\"", "id=\"flatten\"");
        assertThat(inventory.diskOf(A).orElseThrow().kind()).isEqualTo("standalone");
        assertThat(Path.of(inventory.diskOf(A).orElseThrow().path() + ".cow")).doesNotExist();
    }

    @Test
    void aRunningFlattenRefreshesThePageAndBlocksOtherChanges() throws Exception {
        disks.assign(A, "alpha", false);
        // Hold the client's clone open for writing: the flatten waits for it to be released (as for a running server's export).
        try (var store = dev.netboot.storage.BlockStores.open(Path.of(inventory.diskOf(A).orElseThrow().path()), false, false)) {
            assertThat(store.size()).as("the clone is open for writing here").isPositive();
            assertThat(submit("/admin/clients/" + A + "/flatten").statusCode()).isEqualTo(303);
            Thread.sleep(300);
            String page = get("/admin/clients/" + A).body();
            assertThat(page).contains("<meta http-equiv=\"refresh\" content=\"2\">", "This page reloads itself", "id=\"busy\"")
                    .doesNotContain("id=\"flatten\"", "id=\"unassign\"", "id=\"assign\"", "id=\"remove\"");
            HttpResponse<String> unassign = submit("/admin/clients/" + A + "/unassign");
            assertThat(unassign.statusCode()).isEqualTo(409);
            assertThat(unassign.body()).contains("is being flattened");
        }
        admin.flattens().await(A, Duration.ofSeconds(30));
        assertThat(inventory.diskOf(A).orElseThrow().kind()).isEqualTo("standalone");
    }

    @Test
    void unassignAndRemoveDeleteTheDisk() throws Exception {
        disks.assign(A, "alpha", false);
        disks.assign(B, "alpha", false);
        Path diskA = Path.of(inventory.diskOf(A).orElseThrow().path());
        Path diskB = Path.of(inventory.diskOf(B).orElseThrow().path());

        assertThat(submit("/admin/clients/" + A + "/unassign").statusCode()).isEqualTo(303);
        assertThat(diskA).doesNotExist();
        assertThat(inventory.client(A)).isPresent();
        assertThat(inventory.assignment(A)).isEmpty();

        HttpResponse<String> removed = submit("/admin/clients/" + B + "/remove");
        assertThat(removed.statusCode()).isEqualTo(303);
        assertThat(diskB).doesNotExist();
        assertThat(inventory.client(B)).isEmpty();
        assertThat(get(removed.headers().firstValue("Location").orElseThrow()).body()).contains("Client " + B + " was removed.");
        assertThat(submit("/admin/clients/" + B + "/remove").statusCode()).isEqualTo(404);
        assertThat(get("/admin/clients/" + B).statusCode()).isEqualTo(404);
        assertThat(get("/admin/clients/not-a-mac").statusCode()).isEqualTo(400);
    }

    @Test
    void theDisksPageSaysWhatReplicationSaysOfEachDisk() throws Exception {
        disks.assign(A, "alpha", false);
        disks.assign(B, "alpha", false);
        replication = address -> address.equals("1.0") ? "primary, DEGRADED: written without the peer, 8 KiB out of sync; PEER NOT CONNECTED"
                : "primary, up to date; peer connected";
        String page = get("/admin/disks").body();
        String e10 = page.substring(page.indexOf("data-disk=\"e1.0\""));
        assertThat(e10.substring(0, e10.indexOf("</tr>"))).contains("DEGRADED: written without the peer, 8 KiB out of sync; PEER NOT CONNECTED");
        String e11 = page.substring(page.indexOf("data-disk=\"e1.1\""));
        assertThat(e11.substring(0, e11.indexOf("</tr>"))).contains("primary, up to date; peer connected");
    }

    @Test
    void imagesAndDisksPagesSayWhatIsThere() throws Exception {
        disks.assign(A, "alpha", false);
        disks.assign(B, "alpha", false);

        String images = get("/admin/images").body();
        String alpha = images.substring(images.indexOf("data-image=\"alpha\""));
        assertThat(alpha.substring(0, alpha.indexOf("</tr>"))).contains("6.1.0-test", "16.0 MiB", "the alpha image", "class=\"number\">2<");
        String beta = images.substring(images.indexOf("data-image=\"beta\""));
        assertThat(beta.substring(0, beta.indexOf("</tr>"))).contains("class=\"number\">0<");

        String page = get("/admin/disks").body();
        String e10 = page.substring(page.indexOf("data-disk=\"e1.0\""));
        e10 = e10.substring(0, e10.indexOf("</tr>"));
        assertThat(e10).contains(inventory.diskOf(A).orElseThrow().path(), "16.0 MiB", A, "<td>yes</td>", "not configured");
        assertThat(e10).as("a fresh clone takes a few KiB, not its 16 MiB").containsPattern("<td>\\d+(\\.\\d)? KiB</td>");
        assertThat(e10).contains("<td>every interface</td>");
        String e11 = page.substring(page.indexOf("data-disk=\"e1.1\""));
        assertThat(e11.substring(0, e11.indexOf("</tr>"))).contains("<td>no</td>", B);

        // bound to VLAN interfaces (netboot disk export --interface)
        var entry = catalog.find(dev.netboot.aoe.TargetAddress.parse("1.1")).orElseThrow();
        catalog.replace(entry.onInterfaces(List.of("eth0.20", "eth1")));
        String bound = get("/admin/disks").body();
        bound = bound.substring(bound.indexOf("data-disk=\"e1.1\""));
        assertThat(bound.substring(0, bound.indexOf("</tr>"))).contains("<td>eth0.20, eth1</td>");
        assertThat(page).contains("<th>Interfaces</th>");
    }

    @Test
    void anOperatorsTemplateReplacesThePackagedOne() throws Exception {
        Files.createDirectories(dir.resolve("webadmin"));
        Files.writeString(dir.resolve("webadmin/images.ftlh"), """
                <#import "layout.ftlh" as l><@l.page title="Our images"><#list page.images as i><p class="ours">${i.name}!</p></#list></@l.page>""");
        String html = get("/admin/images").body();
        assertThat(html).contains("<title>Our images · netboot admin</title>", "<p class=\"ours\">alpha!</p>");

        Files.writeString(dir.resolve("webadmin/disks.ftlh"), "<#list page.nope as x></#list>");
        HttpResponse<String> broken = get("/admin/disks");
        assertThat(broken.statusCode()).isEqualTo(500);
        assertThat(broken.body()).contains("disks.ftlh", dir.resolve("webadmin/disks.ftlh").toString()).doesNotContain("\tat ");
    }

    // ---- the JSON API (same queries and actions as the pages) ------------------------------------

    private HttpResponse<String> api(String method, String path, String contentType, String body) throws Exception {
        var b = HttpRequest.newBuilder(uri(AdminApi.PREFIX + path)).header("Authorization", basic("admin", PASSWORD));
        if (contentType != null) b.header("Content-Type", contentType);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static com.fasterxml.jackson.databind.JsonNode json(HttpResponse<String> r) throws Exception {
        assertThat(r.headers().firstValue("Content-Type")).as(r.body()).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
    }

    @Test
    void theApiNeedsTheLoginAndAnswersInJson() throws Exception {
        for (String path : List.of("/clients", "/images", "/disks", "/clients/" + A + "/boots")) {
            var none = client.send(HttpRequest.newBuilder(uri(AdminApi.PREFIX + path)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(none.statusCode()).as(path).isEqualTo(401);
            assertThat(json(none).path("error").asText()).contains("login required");
            assertThat(none.headers().firstValue("WWW-Authenticate")).isPresent();
        }
        var wrong = client.send(HttpRequest.newBuilder(uri(AdminApi.PREFIX + "/clients")).header("Authorization", basic("admin", "nope"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(wrong.statusCode()).isEqualTo(401);
    }

    @Test
    void assignOverTheApiIsTheCliAssignAndEveryReadShowsIt() throws Exception {
        inventory.addClient(A, "pc-a", null);
        var assigned = api("POST", "/clients/" + A + "/assign", "application/json", "{\"image\": \"alpha\"}");
        assertThat(assigned.statusCode()).as(assigned.body()).isEqualTo(200);
        assertThat(json(assigned).path("image").asText()).isEqualTo("alpha");
        String disk = json(assigned).path("disk").asText();
        assertThat(inventory.assignment(A)).get().extracting(a -> a.aoeAddress()).isEqualTo(disk);

        var one = json(api("GET", "/clients/" + A.toUpperCase(), null, null));
        assertThat(one.path("mac").asText()).isEqualTo(A);
        assertThat(one.path("hostname").asText()).isEqualTo("pc-a");
        var list = json(api("GET", "/clients", null, null));
        assertThat(list.path("clients").findValuesAsText("mac")).containsExactly(A);
        var disks = json(api("GET", "/disks", null, null));
        assertThat(disks.findValuesAsText("address")).contains(disk);
        assertThat(disks.get(0).path("allowedMacs").get(0).asText()).isEqualTo(A);
        assertThat(disks.get(0).path("exported").isBoolean()).isTrue();
        var images = json(api("GET", "/images", null, null));
        assertThat(images.findValuesAsText("name")).containsExactly("alpha", "beta");
        assertThat(images.get(0).path("clients").asInt()).isEqualTo(1);
        assertThat(images.get(0).path("sizeBytes").asLong()).isEqualTo(16 << 20);

        // Again without replace: refused with the CLI's reason, in JSON, nothing changed.
        var again = api("POST", "/clients/" + A + "/assign", "application/json", "{\"image\": \"beta\"}");
        assertThat(again.statusCode()).isIn(400, 409);
        assertThat(json(again).path("error").asText()).isNotBlank();
        assertThat(inventory.assignment(A).orElseThrow().imageName()).isEqualTo("alpha");

        var removed = api("DELETE", "/clients/" + A, null, null);
        assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);
        assertThat(inventory.client(A)).isEmpty();
        assertThat(api("GET", "/clients/" + A, null, null).statusCode()).isEqualTo(404);
        assertThat(api("DELETE", "/clients/" + A, null, null).statusCode()).isEqualTo(404);
    }

    @Test
    void aChangeThatIsNotJsonOrNotWellFormedIsRefusedAndChangesNothing() throws Exception {
        inventory.addClient(A, null, null);
        // What a hostile page can make a logged-in browser send: a form post. No CORS preflight, so it must be refused here.
        var form = api("POST", "/clients/" + A + "/assign", "application/x-www-form-urlencoded", "image=alpha");
        assertThat(form.statusCode()).isEqualTo(415);
        var text = api("POST", "/clients/" + A + "/assign", "text/plain", "{\"image\": \"alpha\"}");
        assertThat(text.statusCode()).isEqualTo(415);
        var broken = api("POST", "/clients/" + A + "/assign", "application/json", "{\"image\": ");
        assertThat(broken.statusCode()).isEqualTo(400);
        assertThat(json(broken).path("error").asText()).contains("not JSON");
        var noImage = api("POST", "/clients/" + A + "/assign", "application/json", "{\"image\": \"gamma\"}");
        assertThat(noImage.statusCode()).isEqualTo(400);
        assertThat(api("GET", "/clients/not-a-mac", null, null).statusCode()).isEqualTo(400);
        assertThat(inventory.assignment(A)).isEmpty();
        assertThat(catalog.list()).isEmpty();
    }

    @Test
    void aClientsBootsAreTimelinesOfItsStepsNewestFirstAndItsPageFollowsABootLive() throws Exception {
        inventory.addClient(B, null, null);
        Instant t0 = Instant.now().minusSeconds(600);
        String[][] first = {{"0", "dhcp-discover", ""}, {"0", "dhcp-boot", "undionly.kpxe"}, {"1", "tftp", "undionly.kpxe"},
                {"5", "http", "images/alpha/vmlinuz"}, {"7", "http", "images/alpha/initrd.img"}, {"11", "aoe-discover", "e1.0"}};
        for (String[] e : first) inventory.recordBootEvent(new BootEvent(B, t0.plusSeconds(Long.parseLong(e[0])), e[1], "10.0.0.7", e[2], ""));
        // a second power-on, going on now
        Instant now = Instant.now().minusSeconds(2);
        inventory.recordBootEvent(new BootEvent(B, now, "dhcp-discover", "", "", ""));
        inventory.recordBootEvent(new BootEvent(B, now.plusMillis(1500), "tftp", "10.0.0.7", "undionly.kpxe", ""));

        var r = json(api("GET", "/clients/" + B + "/boots", null, null));
        assertThat(r.path("booting").asBoolean()).isTrue();
        var boots = r.path("boots");
        assertThat(boots.size()).isEqualTo(2);
        assertThat(boots.get(0).path("reachedDisk").asBoolean()).isFalse();
        assertThat(boots.get(0).path("steps").get(1).path("sinceStartMillis").asLong()).isEqualTo(1500);
        assertThat(boots.get(1).path("reachedDisk").asBoolean()).isTrue();
        assertThat(boots.get(1).path("tookMillis").asLong()).isEqualTo(11_000);
        assertThat(boots.get(1).path("steps").findValuesAsText("kind"))
                .containsExactly("dhcp-discover", "dhcp-boot", "tftp", "http", "http", "aoe-discover");

        var page = get("/admin/clients/" + B);
        assertThat(page.body()).contains("http-equiv=\"refresh\"", "booting now", "reached its disk", "+11.0 s", "images/alpha/initrd.img");
    }
}
