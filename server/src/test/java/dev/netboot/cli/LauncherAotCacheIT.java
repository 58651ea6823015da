package dev.netboot.cli;

import dev.netboot.app.BootFileExercise;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The repository's launcher ({@code ./netboot}, README's run command and bench/boot.sh's) with the JDK's AOT
 * cache: it makes the cache with the training run, the server it starts maps it, and a cache the JVM cannot use
 * (damaged, or made for another jar) never keeps the server from starting and serving. Also the start-up TFTP
 * warm-up: it happens, and it is not counted as served transfers. Loopback only; the cache goes to a
 * temporary folder (NETBOOT_AOT_CACHE), never the build's.
 */
class LauncherAotCacheIT {

    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopServers() throws InterruptedException {
        for (Process p : started) {
            p.destroy();   // SIGTERM to the JVM itself: the launcher execs it
            if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
        }
    }

    @Test
    void launcherMakesAndPassesTheCacheAndAnUnusableCacheNeverStopsTheServer() throws Exception {
        Path cache = tmp.resolve("cache").resolve("netboot.aot");
        Files.createDirectories(cache.getParent());
        Path root = Files.createDirectories(tmp.resolve("boot"));
        byte[] kernel = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(kernel);
        Files.write(root.resolve("vmlinuz"), kernel);

        // 1. `./netboot aot-cache` runs the training run and leaves the cache with its stamp.
        Process make = launcher(Map.of("NETBOOT_AOT_CACHE", cache.toString()), tmp.resolve("make.log"), "aot-cache");
        assertThat(make.waitFor(180, java.util.concurrent.TimeUnit.SECONDS)).as("training finished").isTrue();
        String makeLog = Files.readString(tmp.resolve("make.log"));
        assertThat(make.exitValue()).as(makeLog).isZero();
        assertThat(cache).as(makeLog).isNotEmptyFile();
        assertThat(cache.resolveSibling("netboot.aot.stamp")).isNotEmptyFile();
        assertThat(Files.readString(cache.resolveSibling("netboot.aot.log"))).contains("netboot aot-train: served");

        // 2. `./netboot serve` starts the JVM with it (the JVM maps the file), warms up TFTP, serves.
        Server good = serve(cache, "good", root);
        assertThat(good.commandLine()).contains("-XX:AOTCache=" + cache);
        assertThat(Files.readString(Path.of("/proc", Long.toString(good.process.pid()), "maps"))).as("the JVM mapped the cache").contains(cache.toString());
        assertThat(good.log()).contains("TFTP warmed up: served 32768 blocks");
        assertThat(BootFileExercise.tftpRead(good.tftp, "vmlinuz", 1024)).isEqualTo(kernel.length);
        assertThat(completedTransfers(good)).as("the warm-up's transfers are not counted as served").isEqualTo(1.0);
        good.stop();

        // 3. The same cache damaged (the stamp still matches, so the launcher passes it): the JVM warns and runs without it.
        try (var f = java.nio.channels.FileChannel.open(cache, java.nio.file.StandardOpenOption.WRITE)) {
            f.write(java.nio.ByteBuffer.wrap(new byte[4096]), 0);
        }
        Server damaged = serve(cache, "damaged", root);
        assertThat(damaged.commandLine()).contains("-XX:AOTCache=" + cache);
        assertThat(damaged.log()).contains("[aot]");
        assertThat(BootFileExercise.tftpRead(damaged.tftp, "vmlinuz", 1428)).isEqualTo(kernel.length);
        damaged.stop();

        // 4. A cache of another jar or JVM (the stamp differs): `config show` (no training outside serve) runs
        //    without it, and NETBOOT_AOT=off never passes one.
        Files.writeString(cache.resolveSibling("netboot.aot.stamp"), "another JVM|| 1 2\n");
        Process show = launcher(Map.of("NETBOOT_AOT_CACHE", cache.toString(), "NETBOOT_JAVA_OPTS", "-Xlog:aot=info"), tmp.resolve("show.log"),
                "config", "show", "--set", "dataDir=" + tmp.resolve("data-show"));
        assertThat(show.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        String showLog = Files.readString(tmp.resolve("show.log"));
        assertThat(show.exitValue()).as(showLog).isZero();
        assertThat(showLog).contains("tftpWarmUpBlocks: 32768").as("no cache opened").doesNotContain(cache.toString());
        Server off = serve(cache, "off", root, "NETBOOT_AOT", "off");
        assertThat(off.commandLine()).doesNotContain("AOTCache");
        assertThat(BootFileExercise.tftpRead(off.tftp, "vmlinuz", 1024)).isEqualTo(kernel.length);
    }

    private Process launcher(Map<String, String> env, Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(REPO.resolve("netboot").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("NETBOOT_NO_BUILD", "1");   // the jar failsafe just packaged, never a rebuild inside a test
        pb.environment().remove("NETBOOT_JAVA_OPTS");
        pb.environment().remove("NETBOOT_AOT");
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private Server serve(Path cache, String name, Path root, String... env) throws Exception {
        int tftpPort, httpPort;
        try (DatagramSocket u = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress()); ServerSocket t = new ServerSocket(0)) {
            tftpPort = u.getLocalPort();
            httpPort = t.getLocalPort();
        }
        Map<String, String> environment = new java.util.HashMap<>(Map.of("NETBOOT_AOT_CACHE", cache.toString()));
        for (int i = 0; i < env.length; i += 2) environment.put(env[i], env[i + 1]);
        Path log = tmp.resolve(name + ".log");
        Process p = launcher(environment, log, "serve", "--set", "dataDir=" + tmp.resolve("data-" + name), "--set", "files.root=" + root,
                "--set", "tftp.address=127.0.0.1", "--set", "tftp.port=" + tftpPort, "--set", "http.address=127.0.0.1",
                "--set", "http.port=" + httpPort, "--set", "dhcp.mode=off", "--set", "boot.loadersRoot=" + tmp.resolve("no-loaders"));
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!Files.readString(log).contains("netboot is running")) {
            assertThat(p.isAlive()).as(name + " server exited: " + Files.readString(log)).isTrue();
            assertThat(System.nanoTime()).as(name + " server not up after 120 s: " + Files.readString(log)).isLessThan(deadline);
            Thread.sleep(100);
        }
        return new Server(p, log, new InetSocketAddress("127.0.0.1", tftpPort), httpPort);
    }

    private static double completedTransfers(Server s) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.httpPort + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = Pattern.compile("(?m)^netboot_tftp_transfers_total\\{[^}]*result=\"completed\"[^}]*} (\\S+)$").matcher(metrics);
            assertThat(m.find()).as(metrics).isTrue();
            return Double.parseDouble(m.group(1));
        }
    }

    private record Server(Process process, Path logFile, InetSocketAddress tftp, int httpPort) {
        String commandLine() throws IOException {
            return Files.readString(Path.of("/proc", Long.toString(process.pid()), "cmdline")).replace('\0', ' ');
        }

        String log() throws IOException { return Files.readString(logFile); }

        void stop() throws InterruptedException {
            process.destroy();
            process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
