package dev.netboot.web;

import dev.netboot.app.BootServerLab;
import dev.netboot.testlib.CommandResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16 point 8: hundreds of clients that ask for a boot file and then read nothing used to pin one
 * Jetty thread each, so boot files, /metrics and the admin all timed out. The attacker ({@link SlowReaders})
 * and the legitimate clients (curl) run in the client namespace; the attacker uses addresses of its own so
 * the per-client cap does not simply turn it away and the writes themselves are what is tested.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpSlowReadersIT {

    private static final Duration T = Duration.ofSeconds(60);
    private static final int WRITE_TIMEOUT_SECONDS = 10;
    private static final int FILE_SIZE = 16 * 1024 * 1024; // far more than the socket buffers of a stalled connection hold
    private static final String PASSWORD = "flood-test-password";

    BootServerLab lab;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        lab = new BootServerLab(dir, List.of("http.writeTimeoutSeconds=" + WRITE_TIMEOUT_SECONDS, "web.adminPassword=" + PASSWORD));
        lab.bootFile("images/big-initrd", FILE_SIZE);
    }

    @AfterAll
    void stop() {
        if (lab != null) lab.close();
    }

    @Test
    void threeHundredStalledReadersLeaveTheAdminMetricsAndOtherClientsServed() throws Exception {
        Timed before = timedChecks();
        // 75 addresses x 4 connections: each address stays within http.maxTransfersPerClient.
        List<String> sources = new ArrayList<>();
        for (int i = 0; i < 75; i++) sources.add(lab.link.subnet().host(10 + i).getHostAddress());
        addAddresses(sources);
        try (Attacker attacker = new Attacker(4, sources)) {
            assertThat(attacker.line()).isEqualTo("sent 300");
            waitFor(() -> activeTransfers() >= 300, Duration.ofSeconds(5));

            Timed during = timedChecks();
            // The legitimate download is counted until the server has seen its last write complete, a moment after
            // curl has the file (CI once read 301): wait for it to leave, then the stalled 300 must all still be there.
            waitFor(() -> activeTransfers() <= 300, Duration.ofSeconds(5));
            double activeDuring = activeTransfers();
            System.out.printf("slow readers: before the flood %s; during (300 stalled readers) %s; server-side transfers running %.0f%n",
                    before, during, activeDuring);
            // (a) the admin and /metrics answer at once; (b) a legitimate client gets the file at full speed.
            assertThat(during.metrics).startsWith("200 ");
            assertThat(during.adminLogin).startsWith("401 ");
            assertThat(during.admin).startsWith("200 ");
            assertThat(during.download).startsWith("200 " + FILE_SIZE + " ");
            assertThat(during.slowest()).isLessThan(2.0);
            assertThat(activeDuring).isEqualTo(300);

            // (c) every stalled reader is dropped once it has taken nothing for http.writeTimeoutSeconds.
            long flood = System.nanoTime();
            waitFor(() -> activeTransfers() == 0, Duration.ofSeconds(WRITE_TIMEOUT_SECONDS + 20));
            double dropSeconds = (System.nanoTime() - flood) / 1e9;
            assertThat(activeTransfers()).isZero();
            assertThat(lab.counter("netboot.http.files", "result", "aborted")).isGreaterThanOrEqualTo(300);
            attacker.send("check");
            assertThat(attacker.line()).isEqualTo("closed 300 open 0");
            System.out.printf("slow readers: all 300 dropped %.1f s after the checks (write timeout %d s)%n", dropSeconds, WRITE_TIMEOUT_SECONDS);
        }
    }

    @Test
    void oneAddressGetsAtMostFourDownloadsAtOnce() throws Exception {
        String own = lab.link.peerAddress().getHostAddress();
        try (Attacker attacker = new Attacker(4, List.of(own))) {
            assertThat(attacker.line()).isEqualTo("sent 4");
            waitFor(() -> activeTransfers() >= 4, Duration.ofSeconds(5));
            CommandResult fifth = curl("-o", "/dev/null", "-D", "-", lab.httpUrl("images/big-initrd"));
            assertThat(fifth.stdout()).contains("HTTP/1.1 503", "Retry-After: 5");
            assertThat(lab.counter("netboot.http.files", "result", "busy")).isGreaterThanOrEqualTo(1);
            // HEAD sends no body and takes no slot; /metrics is not a boot file.
            assertThat(curl("-I", "-o", "/dev/null", "-w", "%{http_code}", lab.httpUrl("images/big-initrd")).stdout()).isEqualTo("200");
            assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", metricsUrl()).stdout()).isEqualTo("200");

            waitFor(() -> activeTransfers() == 0, Duration.ofSeconds(WRITE_TIMEOUT_SECONDS + 20));
            assertThat(curl("-o", "/dev/null", "-w", "%{http_code} %{size_download}", lab.httpUrl("images/big-initrd")).stdout())
                    .isEqualTo("200 " + FILE_SIZE);
        }
    }

    /** What a person and a PC see: "code [size] seconds" of /metrics, the admin without and with login, and a download. */
    private record Timed(String metrics, String adminLogin, String admin, String download) {
        double slowest() {
            return List.of(metrics, adminLogin, admin, download).stream()
                    .mapToDouble(s -> Double.parseDouble(s.substring(s.lastIndexOf(' ') + 1))).max().orElseThrow();
        }

        @Override
        public String toString() {
            return "metrics " + metrics + " s, admin login page " + adminLogin + " s, admin " + admin + " s, "
                    + FILE_SIZE + "-byte download " + download + " s";
        }
    }

    private Timed timedChecks() {
        String admin = "http://" + lab.server() + ":" + lab.httpPort() + "/admin/";
        return new Timed(
                curl("--max-time", "2", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", metricsUrl()).stdout(),
                curl("--max-time", "2", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", admin).stdout(),
                curl("--max-time", "2", "-u", "admin:" + PASSWORD, "-o", "/dev/null", "-w", "%{http_code} %{time_total}", admin).stdout(),
                curl("--max-time", "10", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}",
                        lab.httpUrl("images/big-initrd")).stdout());
    }

    private String metricsUrl() { return "http://" + lab.server() + ":" + lab.httpPort() + "/metrics"; }

    private CommandResult curl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS"));
        cmd.addAll(List.of(args));
        return lab.run(T, cmd.toArray(String[]::new));
    }

    private void addAddresses(List<String> addresses) {
        StringBuilder script = new StringBuilder();
        for (String a : addresses) {
            script.append("ip addr add ").append(a).append('/').append(lab.link.prefixLength())
                    .append(" dev ").append(lab.link.peerName()).append(" || exit 1\n");
        }
        lab.client.execOk(T, "sh", "-c", script.toString());
    }

    /** Boot-file downloads the server has running now; NaN if it does not count them. */
    private double activeTransfers() {
        var gauge = lab.appliance.registry().find("netboot.http.transfers.active").gauge();
        return gauge == null ? Double.NaN : gauge.value();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < end) Thread.sleep(100);
    }

    /** {@link SlowReaders} in its own JVM in the client namespace. */
    private final class Attacker implements AutoCloseable {
        private final Process process;
        private final BufferedReader out;
        private final PrintStream in;

        Attacker(int perSource, List<String> sources) throws Exception {
            Path classes = Path.of(SlowReaders.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", classes.toString(), SlowReaders.class.getName(),
                    lab.server(), Integer.toString(lab.httpPort()), "/boot/images/big-initrd", Integer.toString(perSource)));
            cmd.addAll(sources);
            process = lab.client.start(cmd.toArray(String[]::new));
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        String line() throws Exception {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(60, TimeUnit.SECONDS);
        }

        void send(String command) { in.println(command); }

        @Override
        public void close() throws InterruptedException {
            in.close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        }
    }
}
