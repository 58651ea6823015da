package dev.netboot.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A diskless PC for demos, tests and benchmarks: qemu with Debian's iPXE ROM network-booting from a tap
 * device, its serial console in a file. TCG, not KVM: KVM hangs guests on some hosts, and a netboot
 * client spends its time waiting for the network anyway.
 */
public final class QemuClient implements AutoCloseable {

    private final Process process;
    private final Path console;
    private final String mac;

    private QemuClient(Process process, Path console, String mac) {
        this.process = process;
        this.console = console;
        this.mac = mac;
    }

    /** Powers on a client with NIC {@code mac} on {@code tap}; the console (serial + iPXE's) goes to {@code consoleLog}. */
    public static QemuClient start(String tap, String mac, Path consoleLog, int memoryMiB) throws IOException {
        return start(tap, mac, consoleLog, memoryMiB, null);
    }

    /** As above, and the console is echoed to {@code echo} as it comes (a person watching the demo). */
    public static QemuClient start(String tap, String mac, Path consoleLog, int memoryMiB, java.io.OutputStream echo) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-nographic", "-m", Integer.toString(memoryMiB), "-no-reboot",
                "-boot", "n", "-machine", "accel=tcg", "-cpu", "max",
                "-netdev", "tap,id=n0,ifname=" + tap + ",script=no,downscript=no",
                "-device", "virtio-net-pci,netdev=n0,mac=" + mac));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            var log = Files.newOutputStream(consoleLog);
            Thread.ofPlatform().daemon().name("qemu-console-" + mac).start(() -> copyConsole(p, log, echo));
            return new QemuClient(p, consoleLog, mac);
        } catch (IOException e) {
            throw new IOException("cannot start qemu-system-x86_64 (Debian: apt-get install qemu-system-x86 ipxe-qemu): " + e.getMessage(), e);
        }
    }

    private static void copyConsole(Process p, java.io.OutputStream log, java.io.OutputStream echo) {
        byte[] buf = new byte[4096];
        try (var in = p.getInputStream(); log) {
            for (int n; (n = in.read(buf)) > 0; ) {
                log.write(buf, 0, n);
                log.flush();
                if (echo != null) {
                    echo.write(buf, 0, n);
                    echo.flush();
                }
            }
        } catch (IOException e) {
            // qemu went away: the console simply ends
        }
    }

    /** Types on the client's serial console. */
    public java.io.OutputStream keyboard() { return process.getOutputStream(); }

    public String mac() { return mac; }

    public String console() throws IOException {
        return Files.exists(console) ? new String(Files.readAllBytes(console), StandardCharsets.UTF_8) : "";
    }

    public boolean isAlive() { return process.isAlive(); }

    /** Waits until the console satisfies {@code done} or the machine powers off; false on timeout. */
    public boolean await(Duration timeout, Predicate<String> done) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (done.test(console())) return true;
            if (!process.isAlive()) return done.test(console());
            Thread.sleep(200);
        }
        return false;
    }

    /** Waits for the machine to power off by itself. */
    public boolean awaitPowerOff(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Pulls the plug. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
