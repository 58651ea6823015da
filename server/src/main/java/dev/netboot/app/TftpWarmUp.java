package dev.netboot.app;

import dev.netboot.files.DirectoryFileProvider;
import dev.netboot.tftp.TftpServer;
import dev.netboot.tftp.TftpSettings;
import dev.netboot.transport.Transport;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Before the TFTP service opens, serves a file to ourselves over loopback in lockstep
 * ({@code tuning.tftpWarmUpBlocks} blocks), so the JIT compiles the per-block path before a PC needs it.
 * Why: GRUB, PXELINUX and shim fetch a kernel one block per round trip, and on a fresh JVM the first
 * 14 MiB cost 3-4× the CPU per block of a warm one (interpreted code, then C2 compiling on the CPUs the
 * PCs share; bench/tftp-cpu.sh COLD=1). A restarted server and a room of PCs switched on at once is the
 * case: they would all fetch from the cold path. The warm-up runs the real server class with the same
 * settings, the same file class (a mapped file from {@link DirectoryFileProvider}) and the same event
 * loops, on a port of its own with its own metrics, so nothing of it shows in the served counts.
 * It never stops the start: a failure (no loopback in a namespace) is one log line.
 */
final class TftpWarmUp {

    /** Blocks per warm-up transfer (2 MiB at blksize 1024): many transfers, so their set-up and end are warmed too. */
    private static final int BLOCKS_PER_FILE = 2048;

    private TftpWarmUp() {}

    /** Serves about {@code blocks} blocks; returns how long it took. */
    static Duration run(int blocks, TftpSettings settings, Transport transport, EventLoopGroup group, Path scratchParent)
            throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Path dir = Files.createTempDirectory(scratchParent, "tftp-warm-up");
        try {
            Files.write(dir.resolve("warm-up"), new byte[BLOCKS_PER_FILE * 1024 + 100]);
            InetAddress loopback = InetAddress.getLoopbackAddress();
            TftpSettings local = new TftpSettings(new InetSocketAddress(loopback, 0), settings.maxWindowSize(), settings.maxBlockSize(),
                    settings.maxTransfers(), settings.maxTransfersPerClient(), settings.retransmit(), settings.gso());
            PrometheusMeterRegistry ownMetrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            // Its "served warm-up to 127.0.0.1" lines would read like clients; nothing else is served yet.
            var transferLog = org.slf4j.LoggerFactory.getLogger(TftpServer.class) instanceof ch.qos.logback.classic.Logger l ? l : null;
            ch.qos.logback.classic.Level level = transferLog == null ? null : transferLog.getLevel();
            if (transferLog != null) transferLog.setLevel(ch.qos.logback.classic.Level.WARN);
            try (TftpServer server = new TftpServer(local, new DirectoryFileProvider(dir, false), ownMetrics, transport, group).start()) {
                InetSocketAddress to = new InetSocketAddress(loopback, server.localAddress().getPort());
                // Block sizes loaders ask for: 1024 (PXELINUX, shim, EDK2), 1428 (GRUB on a 1500-byte MTU).
                for (int served = 0, i = 0; served < blocks; i++) {
                    int blksize = i % 2 == 0 ? 1024 : 1428;
                    served += (int) (BootFileExercise.tftpRead(to, "warm-up", blksize) / blksize) + 1;
                }
            } finally {
                if (transferLog != null) transferLog.setLevel(level);
                ownMetrics.close();
            }
        } finally {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
        return Duration.ofNanos(System.nanoTime() - t0);
    }
}
