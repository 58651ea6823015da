package dev.netboot.images;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The system tools an import uses (GNU tar keeps owners, modes, device nodes and xattrs of a root
 * filesystem, which no Java archive library restores; e2fsprogs builds and reads ext4). Run with an
 * argument vector, never a shell, so names cannot inject anything.
 */
final class Tools {

    private Tools() {}

    static String run(Duration timeout, List<String> argv) throws IOException {
        Path err = Files.createTempFile("netboot-tool", ".err");
        try {
            Process p = new ProcessBuilder(argv).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            byte[] out;
            try (var in = p.getInputStream()) {
                out = in.readAllBytes();
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException(argv.getFirst() + " did not finish within " + timeout.toSeconds() + " s: " + String.join(" ", argv));
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", argv) + " failed (exit " + p.exitValue() + "): "
                        + Files.readString(err, StandardCharsets.UTF_8).strip());
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + argv.getFirst(), e);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("error=2,")) {
                throw new IOException(argv.getFirst() + " is not installed (Debian: " + packageOf(argv.getFirst()) + ")", e);
            }
            throw e;
        } finally {
            Files.deleteIfExists(err);
        }
    }

    private static String packageOf(String tool) {
        return switch (tool) {
            case "mke2fs", "debugfs", "e2fsck" -> "apt-get install e2fsprogs";
            case "tar" -> "apt-get install tar";
            default -> "install " + tool;
        };
    }
}
