package dev.netboot.aoe;

import dev.netboot.testlib.CommandException;
import dev.netboot.testlib.CommandResult;
import dev.netboot.testlib.Commands;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * Host commands (apt-get, dpkg, ldd, debugfs) for the AoE tests, through {@link Commands}, with their two
 * outputs as one text and a timeout reported as exit code -1 (what the guest-image cache expects).
 */
final class HostCommands {

    private HostCommands() {}

    record Result(int exitCode, String output) {}

    static Result run(String... command) throws IOException {
        Result r = runAllowingFailure(30, command);
        if (r.exitCode() != 0) throw new IOException(String.join(" ", command) + " failed (" + r.exitCode() + "): " + r.output());
        return r;
    }

    static Result runAllowingFailure(long timeoutSeconds, String... command) throws IOException {
        try {
            CommandResult r = Commands.run(Duration.ofSeconds(timeoutSeconds), List.of(command));
            return new Result(r.exitCode(), r.stdout() + r.stderr());
        } catch (CommandException e) {
            return new Result(-1, e.getMessage());
        }
    }
}
