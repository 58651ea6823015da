package dev.netboot.aoe;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Runs commands on the host (apt-get, dpkg, ldd, debugfs) for the AoE tests; namespaces come from NetLab. */
final class HostCommands {

    private HostCommands() {}

    record Result(int exitCode, String output) {}

    static Result run(String... command) throws IOException {
        Result r = runAllowingFailure(30, command);
        if (r.exitCode() != 0) throw new IOException(String.join(" ", command) + " failed (" + r.exitCode() + "): " + r.output());
        return r;
    }

    static Result runAllowingFailure(long timeoutSeconds, String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
