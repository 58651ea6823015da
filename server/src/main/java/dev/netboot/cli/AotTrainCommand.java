package dev.netboot.cli;

import dev.netboot.app.Appliance;
import dev.netboot.app.BootFileExercise;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * The JDK's AOT training run (JEP 483/514/515): the launcher runs
 * {@code java -XX:AOTCacheOutput=netboot.aot -jar netboot.jar aot-train} once per jar, and every later
 * start takes {@code -XX:AOTCache=netboot.aot}: the classes a boot needs come loaded and linked, and the
 * JIT starts from the method profiles of this run instead of gathering them while the first PCs wait.
 * A throwaway server on loopback (temporary data and boot folders, ephemeral ports, no DHCP or AoE) serves
 * a kernel-sized file in lockstep over TFTP with the block sizes loaders ask for, and over HTTP, as PCs do.
 * Nothing here touches the operator's data directory or network.
 */
@Command(name = "aot-train", hidden = true,
        description = "Serve boot files to ourselves over loopback for the JVM's AOT cache training run (the launcher runs it; no settings read)")
final class AotTrainCommand implements Callable<Integer> {

    /** A kernel's size: GRUB, PXELINUX and shim fetch one of these and an initrd block by block. */
    static final int KERNEL_BYTES = 14 * 1024 * 1024;

    @Option(names = "--rounds", description = "How many times each fetch is repeated (default: ${DEFAULT-VALUE})")
    int rounds = 1;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        Path work = Files.createTempDirectory("netboot-aot-train");
        try {
            Path root = Files.createDirectories(work.resolve("boot"));
            byte[] kernel = new byte[KERNEL_BYTES];
            new Random(1).nextBytes(kernel);
            Files.write(root.resolve("vmlinuz"), kernel);
            Files.write(root.resolve("initrd.img"), java.util.Arrays.copyOf(kernel, 1_200_000));
            NetbootConfig config = ConfigLoader.load(Optional.empty(), List.of(
                    "dataDir=" + work.resolve("data"), "files.root=" + root,
                    "tftp.address=127.0.0.1", "tftp.port=0", "http.address=127.0.0.1", "http.port=0",
                    "dhcp.mode=off", "boot.loadersRoot=" + work.resolve("no-loaders")));
            long bytes = 0;
            try (Appliance appliance = new Appliance(config).start();
                 HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                InetSocketAddress tftp = new InetSocketAddress("127.0.0.1", appliance.tftpAddress().getPort());
                URI boot = URI.create("http://127.0.0.1:" + appliance.httpPort() + "/boot/");
                for (int r = 0; r < rounds; r++) {
                    // blksize 1024 (PXELINUX, shim, OVMF), 1428 (GRUB on a 1500-byte MTU: ours caps to the path MTU).
                    for (int blksize : new int[] {1024, 1428}) {
                        bytes += BootFileExercise.tftpRead(tftp, "vmlinuz", blksize);
                        bytes += BootFileExercise.tftpRead(tftp, "initrd.img", blksize);
                    }
                    bytes += BootFileExercise.httpGet(http, boot.resolve("vmlinuz"), null);
                    bytes += BootFileExercise.httpGet(http, boot.resolve("initrd.img"), null);
                    bytes += BootFileExercise.httpGet(http, boot.resolve("vmlinuz"), "bytes=0-65535");
                }
                BootFileExercise.httpGet(http, boot.resolve("../metrics"), null);
            }
            PrintWriter out = new PrintWriter(System.err, true);
            out.printf("netboot aot-train: served %d MiB over TFTP and HTTP in %.1f s%n", bytes >> 20, (System.nanoTime() - t0) / 1e9);
            return 0;
        } finally {
            deleteTree(work);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
