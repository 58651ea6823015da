package dev.netboot.storage;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** {@link CommandRunner} on this machine through ProcessBuilder: no shell, stdin from /dev/null. */
public final class LocalCommandRunner implements CommandRunner {

    @Override
    public Result execute(List<String> argv, Duration timeout) throws IOException {
        if (argv.isEmpty()) throw new IllegalArgumentException("empty command");
        ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(new File("/dev/null"));
        // LVM tools warn on stderr about every inherited descriptor; the JVM has many, none matter.
        pb.environment().put("LVM_SUPPRESS_FD_WARNINGS", "1");
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        // Both pipes are drained concurrently so a chatty stderr cannot block the child on a full pipe.
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IOException(String.join(" ", argv) + " did not finish within " + timeout.toSeconds() + " s and was killed");
            }
            return new Result(p.exitValue(), out.get(), err.get());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", argv), e);
        } catch (ExecutionException e) {
            throw new IOException("reading the output of " + String.join(" ", argv), e.getCause());
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (in) {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.completeExceptionally(new UncheckedIOException(e));
            }
        });
        return f;
    }
}
