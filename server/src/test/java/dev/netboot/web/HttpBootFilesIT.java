package dev.netboot.web;

import dev.netboot.app.BootServerLab;
import dev.netboot.testlib.CommandResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The same boot files over HTTP, fetched with curl from a client namespace: what iPXE does with kernels and initrds. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpBootFilesIT {

    private static final Duration T = Duration.ofSeconds(60);
    BootServerLab lab;
    byte[] kernel;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        lab = new BootServerLab(dir, List.of());
        kernel = Files.readAllBytes(lab.bootFile("images/vmlinuz", 5_000_000));
        Files.writeString(lab.root.resolve("boot.ipxe"), "#!ipxe\nchain http://x/y\n");
        Files.writeString(dir.resolve("secret"), "no");
        Files.createSymbolicLink(lab.root.resolve("leak"), dir.resolve("secret"));
    }

    @AfterAll
    void stop() {
        if (lab != null) lab.close();
    }

    private CommandResult curl(String... args) {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "curl";
        cmd[1] = "-sS";
        System.arraycopy(args, 0, cmd, 2, args.length);
        return lab.run(T, cmd);
    }

    @Test
    void getServesTheWholeFile() throws Exception {
        Path out = lab.work.resolve("vmlinuz");
        CommandResult r = curl("--fail", "-o", out.toString(), "-w", "%{http_code} %{content_type} %{size_download}", lab.httpUrl("images/vmlinuz"));
        assertThat(r.stdout()).isEqualTo("200 application/octet-stream 5000000");
        assertThat(Files.readAllBytes(out)).isEqualTo(kernel);
        assertThat(curl("--fail", "-w", " %{content_type}", lab.httpUrl("boot.ipxe")).stdout()).startsWith("#!ipxe").endsWith("text/plain;charset=utf-8");
    }

    @Test
    void headGivesLengthWithoutBody() {
        CommandResult r = curl("-I", lab.httpUrl("images/vmlinuz"));
        assertThat(r.stdout()).contains("HTTP/1.1 200", "Content-Length: 5000000", "Accept-Ranges: bytes");
    }

    @Test
    void rangesAreExact() throws Exception {
        Path out = lab.work.resolve("part");
        CommandResult r = curl("-o", out.toString(), "-D", "-", "-r", "1000-1999", lab.httpUrl("images/vmlinuz"));
        assertThat(r.stdout()).contains("HTTP/1.1 206", "Content-Range: bytes 1000-1999/5000000", "Content-Length: 1000");
        assertThat(Files.readAllBytes(out)).isEqualTo(Arrays.copyOfRange(kernel, 1000, 2000));

        r = curl("-o", out.toString(), "-D", "-", "-H", "Range: bytes=-100", lab.httpUrl("images/vmlinuz"));
        assertThat(r.stdout()).contains("HTTP/1.1 206", "Content-Range: bytes 4999900-4999999/5000000");
        assertThat(Files.readAllBytes(out)).isEqualTo(Arrays.copyOfRange(kernel, 4_999_900, 5_000_000));

        r = curl("-o", "/dev/null", "-D", "-", "-H", "Range: bytes=6000000-", lab.httpUrl("images/vmlinuz"));
        assertThat(r.stdout()).contains("HTTP/1.1 416", "Content-Range: bytes */5000000");
    }

    @Test
    void resumedDownloadEqualsTheFile() throws Exception {
        Path out = lab.work.resolve("resumed");
        Files.write(out, Arrays.copyOf(kernel, 1_234_567));
        assertThat(curl("--fail", "-C", "-", "-o", out.toString(), lab.httpUrl("images/vmlinuz")).exitCode()).isZero();
        assertThat(Files.readAllBytes(out)).isEqualTo(kernel);
    }

    @Test
    void refusalsAndMissingFiles() {
        assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", lab.httpUrl("nothing-here")).stdout()).isEqualTo("404");
        assertThat(curl("-o", "/dev/null", "-w", "%{http_code}", lab.httpUrl("leak")).stdout()).isEqualTo("403");
        // Jetty itself rejects an escaping URI before it reaches us; what matters is that nothing is served.
        String escaped = curl("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", lab.httpUrl("../../../etc/passwd")).stdout();
        assertThat(escaped).isIn("400", "403", "404");
    }

    @Test
    void metricsAreServedForPrometheus() {
        String metrics = curl("--fail", "http://" + lab.server() + ":" + lab.httpPort() + "/metrics").stdout();
        assertThat(metrics).contains("netboot_tftp_transfers_total", "netboot_tftp_malformed_packets_total", "netboot_http_files_total");
    }
}
