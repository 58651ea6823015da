package dev.netboot.storage;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * Runs a program with an argument vector, never through a shell, so no argument is ever parsed as
 * shell syntax. {@link LocalCommandRunner} runs it on this machine; tests run the same argv inside a
 * qemu guest, which is how the LVM store is tested on a host without device-mapper.
 */
public interface CommandRunner {

    /** What a finished command left behind. */
    record Result(int exitCode, String stdout, String stderr) {}

    /**
     * Runs {@code argv} and returns whatever exit code it ends with. A command still running after
     * {@code timeout} is killed and reported as an IOException.
     */
    Result execute(List<String> argv, Duration timeout) throws IOException;

    /** Runs {@code argv}; a non-zero exit becomes a {@link CommandFailedException} carrying its stderr. */
    default Result run(List<String> argv, Duration timeout) throws IOException {
        Result r = execute(argv, timeout);
        if (r.exitCode() != 0) throw new CommandFailedException(argv, r.exitCode(), r.stderr());
        return r;
    }

    /** A command that ran and exited non-zero: the message names the command and quotes its stderr. */
    final class CommandFailedException extends IOException {
        private final List<String> argv;
        private final int exitCode;
        private final String stderr;

        public CommandFailedException(List<String> argv, int exitCode, String stderr) {
            super(String.join(" ", argv) + " failed (exit " + exitCode + "): " + stderr.strip());
            this.argv = List.copyOf(argv);
            this.exitCode = exitCode;
            this.stderr = stderr;
        }

        public List<String> argv() { return argv; }
        public int exitCode() { return exitCode; }
        public String stderr() { return stderr; }
    }
}
