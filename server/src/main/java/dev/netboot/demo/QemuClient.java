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
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-nographic", "-m", Integer.toString(memoryMiB), "-no-reboot",
                "-boot", "n", "-machine", "accel=tcg", "-cpu", "max",
                "-netdev", "tap,id=n0,ifname=" + tap + ",script=no,downscript=no",
                "-device", "virtio-net-pci,netdev=n0,mac=" + mac));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(consoleLog.toFile())
                    .redirectInput(ProcessBuilder.Redirect.PIPE).start();
            return new QemuClient(p, consoleLog, mac);
        } catch (IOException e) {
            throw new IOException("cannot start qemu-system-x86_64 (Debian: apt-get install qemu-system-x86 ipxe-qemu): " + e.getMessage(), e);
        }
    }

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
