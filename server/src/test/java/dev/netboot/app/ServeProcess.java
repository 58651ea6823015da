package dev.netboot.app;

import dev.netboot.testlib.Namespace;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code netboot serve} that a two-server IT starts in a namespace of its own: the command, its output collected
 * line by line, and its end together with every child it started.
 */
final class ServeProcess {

    private ServeProcess() { }

    /** The JVM running the packaged jar (the test classpath when the jar is not built yet), with a 256 MiB heap. */
    static List<String> javaCommand() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path jar = Path.of("target", "netboot.jar").toAbsolutePath();
        if (Files.isRegularFile(jar)) return List.of(java, "-Xmx256m", "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString());
        return List.of(java, "-Xmx256m", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.netboot.cli.Main");
    }

    /**
     * Starts {@code netboot serve --set S ...} in {@code ns}; each line it prints is appended to {@code output} (a
     * synchronized list: readers copy it under its lock while this appends).
     */
    static Process serve(Namespace ns, List<String> sets, List<String> output) throws IOException {
        List<String> cmd = new ArrayList<>(javaCommand());
        cmd.add("serve");
        for (String s : sets) cmd.addAll(List.of("--set", s));
        Process p = ns.start(cmd.toArray(String[]::new));
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) output.add(line);
            } catch (IOException ignored) {
                // the process is gone
            }
        });
        return p;
    }

    /** bench/aoe-loadgen.c, the userspace AoE initiator the two-server ITs write with, built into a fresh temporary folder. */
    static Path buildLoadGenerator(String prefix) throws IOException, InterruptedException {
        Path loadgen = Files.createTempDirectory(prefix).resolve("aoe-loadgen");
        Path source = Path.of("..", "bench", "aoe-loadgen.c").toAbsolutePath().normalize();
        Process gcc = new ProcessBuilder("gcc", "-O2", "-o", loadgen.toString(), source.toString()).inheritIO().start();
        if (gcc.waitFor() != 0) throw new IOException("gcc " + source + " failed (exit " + gcc.exitValue() + ")");
        return loadgen;
    }

    /** kill -9 of the server and its children (ip netns exec's), waiting up to 10 s for it to be gone. */
    static void kill(Process process) {
        if (process == null) return;
        process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
