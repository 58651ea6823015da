package dev.netboot.web;

import dev.netboot.files.DirectoryFileProvider;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Boot files over HTTP on loopback: what a browser on the admin's origin may do with them, and what a refusal tells. */
class BootFileRoutesTest {

    @TempDir Path dir;
    HttpService http;
    final HttpClient client = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        Path root = Files.createDirectories(dir.resolve("boot"));
        Files.writeString(root.resolve("page.html"), "<script>fetch('/admin/')</script>");
        Files.writeString(root.resolve("boot.ipxe"), "#!ipxe\n");
        Files.writeString(dir.resolve("secret"), "host file");
        Files.createSymbolicLink(root.resolve("out"), dir.resolve("secret"));
        var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        BootFileRoutes routes = new BootFileRoutes(new DirectoryFileProvider(root, false), registry, new TransferSlots(4, 1000));
        http = new HttpService(new InetSocketAddress("127.0.0.1", 0), registry, List.of(routes::register)).start();
    }

    @AfterEach
    void stop() { http.close(); }

    HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anHtmlBootFileIsADownloadInASandboxNeverAPageOnTheAdminsOrigin() throws Exception {
        var r = get("/boot/page.html");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Disposition")).hasValue("attachment");
        assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(r.headers().firstValue("Content-Security-Policy")).get().asString().contains("sandbox");
    }

    @Test
    void iPxeScriptsStayInline() throws Exception {
        var r = get("/boot/boot.ipxe");
        assertThat(r.body()).isEqualTo("#!ipxe\n");
        assertThat(r.headers().firstValue("Content-Disposition")).isEmpty();
        assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    }

    @Test
    void aRefusalDoesNotTellTheClientWhereALinkLeads() throws Exception {
        var r = get("/boot/out");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).doesNotContain(dir.toString());
    }
}
