package dev.netboot.web;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin and API over HTTPS on loopback, checked by curl against the certificate, and by its fingerprint with openssl. */
class HttpsTest {

    @TempDir Path dir;
    HttpService http;

    @AfterEach
    void stop() { if (http != null) http.close(); }

    HttpService start(TlsIdentity identity) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        http = new HttpService(new InetSocketAddress("127.0.0.1", 0), HttpService.DEFAULT_IDLE_TIMEOUT,
                Optional.of(new HttpService.Tls(new InetSocketAddress("127.0.0.1", 0), identity)), registry,
                List.of(config -> config.routes.get("/admin/", ctx -> ctx.result("the admin page"))));
        return http.start();
    }

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
        return out;
    }

    @Test
    void aGeneratedSelfSignedCertificateServesTheAdminAndCurlTrustsItsFile() throws Exception {
        TlsIdentity identity = TlsIdentity.selfSigned(dir);
        Path cert = dir.resolve(TlsIdentity.CERT_FILE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(TlsIdentity.KEY_FILE)))).isEqualTo("rw-------");
        start(identity);

        String body = run("curl", "-sS", "--fail", "--cacert", cert.toString(), "https://127.0.0.1:" + http.tlsPort() + "/admin/");
        assertThat(body).isEqualTo("the admin page");

        // The fingerprint the log prints is the one openssl sees on the wire.
        String served = run("sh", "-c", "openssl s_client -connect 127.0.0.1:" + http.tlsPort() + " </dev/null 2>/dev/null"
                + " | openssl x509 -noout -fingerprint -sha256");
        assertThat(served.strip()).endsWith("=" + identity.fingerprint());
        assertThat(TlsIdentity.selfSigned(dir).fingerprint()).as("generated once, then kept").isEqualTo(identity.fingerprint());
    }

    @Test
    void thePlainPortSendsTheAdminToHttpsButStillServesBootFiles() throws Exception {
        start(TlsIdentity.selfSigned(dir));
        List<String> headers = new ArrayList<>(List.of(run("curl", "-sS", "-o", "/dev/null", "-D", "-",
                "http://127.0.0.1:" + http.port() + "/admin/?x=1").split("\r\n")));
        assertThat(headers.getFirst()).contains("308");
        assertThat(headers).contains("Location: https://127.0.0.1:" + http.tlsPort() + "/admin/?x=1");
        assertThat(run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:" + http.port() + "/metrics")).isEqualTo("200");
    }

    @Test
    void anOperatorsPemKeyAndCertificateAreUsed() throws Exception {
        Path key = dir.resolve("site.key");
        Path cert = dir.resolve("site.crt");
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", key.toString(), "-out", cert.toString(),
                "-subj", "/CN=netboot.example", "-addext", "subjectAltName=IP:127.0.0.1");
        start(TlsIdentity.fromPem(cert, key));
        assertThat(run("curl", "-sS", "--fail", "--cacert", cert.toString(), "https://127.0.0.1:" + http.tlsPort() + "/admin/"))
                .isEqualTo("the admin page");
    }
}
