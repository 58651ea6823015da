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
    /** When each piece of console output arrived: {console length after it, System.nanoTime()}, in order. */
    private final List<long[]> arrivals;
    private final long startedNanos = System.nanoTime();

    private QemuClient(Process process, Path console, String mac, List<long[]> arrivals) {
        this.process = process;
        this.console = console;
        this.mac = mac;
        this.arrivals = arrivals;
    }

    /** Powers on a client with NIC {@code mac} on {@code tap}; the console (serial + iPXE's) goes to {@code consoleLog}. */
    public static QemuClient start(String tap, String mac, Path consoleLog, int memoryMiB) throws IOException {
        return start(tap, mac, consoleLog, memoryMiB, null);
    }

    /** As above, and the console is echoed to {@code echo} as it comes (a person watching the demo). */
    public static QemuClient start(String tap, String mac, Path consoleLog, int memoryMiB, java.io.OutputStream echo) throws IOException {
        return start(tap, mac, consoleLog, memoryMiB, echo, Firmware.BIOS_IPXE);
    }

    /**
     * As above, with this firmware. A UEFI PC gets its own copy of the firmware's variable store next to
     * the console log ({@code <log>.vars.fd}): the firmware writes its boot options there.
     */
    public static QemuClient start(String tap, String mac, Path consoleLog, int memoryMiB, java.io.OutputStream echo,
                                   Firmware firmware) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-nographic", "-m", Integer.toString(memoryMiB), "-no-reboot",
                "-cpu", "max",
                "-netdev", "tap,id=n0,ifname=" + tap + ",script=no,downscript=no"));
        cmd.addAll(firmware.qemuArgs(mac, consoleLog.resolveSibling(consoleLog.getFileName() + ".vars.fd")));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            var log = Files.newOutputStream(consoleLog);
            List<long[]> arrivals = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread.ofPlatform().daemon().name("qemu-console-" + mac).start(() -> copyConsole(p, log, echo, arrivals));
            return new QemuClient(p, consoleLog, mac, arrivals);
        } catch (IOException e) {
            throw new IOException("cannot start qemu-system-x86_64 (Debian: apt-get install qemu-system-x86 ipxe-qemu): " + e.getMessage(), e);
        }
    }

    private static void copyConsole(Process p, java.io.OutputStream log, java.io.OutputStream echo, List<long[]> arrivals) {
        byte[] buf = new byte[4096];
        long length = 0;
        try (var in = p.getInputStream(); log) {
            for (int n; (n = in.read(buf)) > 0; ) {
                log.write(buf, 0, n);
                log.flush();
                length += n;
                arrivals.add(new long[]{length, System.nanoTime()});
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

    /**
     * Seconds from when {@code first} appeared on the console to when {@code then} appeared after it
     * (each as it arrived from qemu, not when someone looked); empty while either is missing. E.g. iPXE's
     * {@code "Configuring (net0"} to {@code " ok"}: how long it took to configure its NIC.
     */
    public java.util.OptionalDouble secondsBetween(String first, String then) throws IOException {
        // Latin-1 keeps one char per byte, so string indexes are console offsets.
        String text = Files.exists(console) ? new String(Files.readAllBytes(console), StandardCharsets.ISO_8859_1) : "";
        int a = text.indexOf(first);
        int b = a < 0 ? -1 : text.indexOf(then, a + first.length());
        if (b < 0) return java.util.OptionalDouble.empty();
        long from = arrivedAt(a + first.length()), to = arrivedAt(b + then.length());
        if (from < 0 || to < 0) return java.util.OptionalDouble.empty();
        return java.util.OptionalDouble.of((to - from) / 1e9);
    }

    /** Seconds from power-on to when {@code text} appeared on the console; empty while it has not. */
    public java.util.OptionalDouble secondsUntil(String text) throws IOException {
        String all = Files.exists(console) ? new String(Files.readAllBytes(console), StandardCharsets.ISO_8859_1) : "";
        int at = all.indexOf(text);
        long when = at < 0 ? -1 : arrivedAt(at + text.length());
        return when < 0 ? java.util.OptionalDouble.empty() : java.util.OptionalDouble.of((when - startedNanos) / 1e9);
    }

    /** When the console grew past {@code offset} bytes, or -1 if not yet. */
    private long arrivedAt(long offset) {
        synchronized (arrivals) {
            for (long[] a : arrivals) if (a[0] >= offset) return a[1];
        }
        return -1;
    }

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
