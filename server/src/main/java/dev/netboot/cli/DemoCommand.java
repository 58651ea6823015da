package dev.netboot.cli;

import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;
import dev.netboot.demo.DemoNetwork;
import dev.netboot.demo.QemuClient;
import dev.netboot.images.ImageLibrary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Show a network boot on this machine: builds the demo image (images/demo/build.sh), a private bridge",
                "with tap devices, runs the appliance on it and powers on diskless qemu PCs that boot from it;",
                "you watch the first one's console. Everything is removed afterwards. Needs root, qemu-system-x86 and ipxe-qemu."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--clients", description = "How many PCs boot at once (default ${DEFAULT-VALUE})")
    int clients = 1;

    @Option(names = "--shell", description = "Stay in the first PC's shell (type 'exit' to power it off) instead of powering off after the boot")
    boolean shell;

    @Option(names = "--keep", paramLabel = "DIR", description = "Keep the demo's data directory here (default: a temporary one, deleted)")
    Path keep;

    @Option(names = "--quiet", description = "Do not show the console; print only the timings (for benchmarks)")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("netboot demo: needs root (it creates a bridge and tap devices)");
            return 2;
        }
        Path script = findRecipe();
        Path data = keep != null ? Files.createDirectories(keep) : Files.createTempDirectory("netboot-demo");
        Path rootfs = data.resolve("demo-rootfs");
        say("building the demo image with " + script + " ...");
        Process build = new ProcessBuilder(script.toString(), rootfs.toString()).inheritIO().start();
        if (build.waitFor() != 0) {
            System.err.println("netboot demo: " + script + " failed");
            return 1;
        }
        List<QemuClient> pcs = new ArrayList<>();
        try (DemoNetwork net = DemoNetwork.create("nbdemo0")) {
            Thread cleanup = new Thread(() -> {
                pcs.forEach(QemuClient::close);
                net.close();
            });
            Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C removes the bridge and taps too
            int httpPort;
            try (ServerSocket s = new ServerSocket(0)) {
                httpPort = s.getLocalPort();
            }
            String p = net.prefix();
            List<String> settings = List.of("dataDir=" + data, "networkInterface=" + net.bridge(),
                    "dhcp.mode=full", "dhcp.probeForeignServer=false",
                    "dhcp.pools=[{subnet: " + p + "0/24, range: " + p + "100-" + p + "199, leaseSeconds: 600}]",
                    "tftp.enabled=false", "http.address=" + net.serverAddress(), "http.port=" + httpPort,
                    "boot.ipxeScriptUrl=http://${server}:" + httpPort + dev.netboot.files.FileRequest.HTTP_PREFIX + "boot.ipxe",
                    "aoe.interfaces=[" + net.bridge() + "]", "aoe.catalogPollMillis=200", "disks.defaultImage=demo",
                    "menus.kernelArgs=console=ttyS0 panic=-1" + (shell ? "" : " netboot.demo=poweroff"));
            try (Appliance appliance = new Appliance(ConfigLoader.load(Optional.empty(), settings)).start()) {
                new ImageLibrary(appliance.inventory(), data, Clock.systemUTC())
                        .importImage("demo", rootfs, OptionalLong.empty(), "netboot demo image", ProgressBar.onStderr());
                say("powering on " + clients + " diskless PC(s) on " + net.bridge() + "; server " + net.serverAddress()
                        + (quiet ? "" : "; the first one's console follows"));
                long start = System.nanoTime();
                for (int i = 0; i < clients; i++) {
                    String tap = net.addTap();
                    String mac = String.format("52:54:00:de:00:%02x", i + 1);
                    pcs.add(QemuClient.start(tap, mac, data.resolve("console-" + (i + 1) + ".log"), 256,
                            i == 0 && !quiet ? System.out : null));
                }
                if (shell) Thread.ofPlatform().daemon().start(() -> pipeKeyboard(pcs.getFirst()));
                // Watch all consoles at once, so each PC's time is when its own marker appeared.
                java.util.Map<QemuClient, String> timings = new java.util.LinkedHashMap<>();
                long deadline = start + Duration.ofMinutes(10).toNanos();
                while (timings.size() < pcs.size() && System.nanoTime() < deadline) {
                    for (QemuClient pc : pcs) {
                        if (timings.containsKey(pc)) continue;
                        String console = pc.console();
                        double seconds = (System.nanoTime() - start) / 1e9;
                        if (console.contains("NETBOOT-DEMO-BOOTED")) timings.put(pc, String.format("booted in %.1f s", seconds));
                        else if (console.contains("netboot: FAILED") || !pc.isAlive()) {
                            timings.put(pc, "did NOT boot (console: " + data.resolve("console-" + (pcs.indexOf(pc) + 1) + ".log") + ")");
                            pc.close(); // the initrd gave up and waits in a shell: nothing more will happen
                        }
                    }
                    Thread.sleep(100);
                }
                for (QemuClient pc : pcs) pc.awaitPowerOff(shell ? Duration.ofDays(1) : Duration.ofMinutes(2));
                say("power-on to the image's init:");
                for (QemuClient pc : pcs) say("  " + pc.mac() + ": " + timings.getOrDefault(pc, "did NOT boot within 10 minutes"));
                return timings.values().stream().filter(t -> t.startsWith("booted in")).count() == pcs.size() ? 0 : 1;
            } finally {
                pcs.forEach(QemuClient::close);
                Runtime.getRuntime().removeShutdownHook(cleanup);
            }
        } finally {
            if (keep == null) deleteQuietly(data);
            else say("demo data kept in " + data);
        }
    }

    private static void pipeKeyboard(QemuClient pc) {
        try {
            System.in.transferTo(pc.keyboard());
        } catch (IOException ignored) {
            // the PC powered off
        }
    }

    /** images/demo/build.sh from the current folder or from the project the jar was built in. */
    private static Path findRecipe() throws IOException {
        List<Path> candidates = new ArrayList<>(List.of(Path.of("images/demo/build.sh")));
        try {
            Path jar = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            candidates.add(jar.getParent().getParent().getParent().resolve("images/demo/build.sh"));
        } catch (Exception ignored) {
            // no jar location: the current folder only
        }
        for (Path c : candidates) if (Files.isExecutable(c)) return c.toAbsolutePath();
        throw new IOException("cannot find images/demo/build.sh: run 'netboot demo' from the project folder");
    }

    private void say(String line) { System.err.println("netboot demo: " + line); }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a temporary folder
        }
    }
}
