package dev.netboot.testlib;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Runs external programs (ip, nft, apt-get, test tools) with a hard timeout and captured output: the one way
 * every test runs a host command. Output is pumped while the program runs, so a chatty one never blocks on a
 * full pipe and the timeout always fires.
 */
public final class Commands {

    /** Generous for ip/nft, which finish in milliseconds; a hang there means something is badly wrong. */
    public static final Duration SETUP_TIMEOUT = Duration.ofSeconds(20);

    /** How long a background program gets to exit after SIGTERM before it is killed. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(3);

    /** Output pumps may outlive the process if a grandchild still holds the pipe; don't wait for them forever. */
    private static final Duration PUMP_JOIN = Duration.ofSeconds(2);

    private Commands() {
    }

    public static CommandResult run(Duration timeout, List<String> command) {
        return run(timeout, command, "");
    }

    /** Runs {@code command} with {@code stdin} as its standard input; kills the whole process tree on timeout. */
    public static CommandResult run(Duration timeout, List<String> command, String stdin) {
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new CommandException("cannot start: " + String.join(" ", command), e);
        }
        // Pumping on separate threads keeps a chatty program from blocking on a full pipe, and lets us
        // report partial output if it times out.
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        Thread outPump = pump(process.getInputStream(), out);
        Thread errPump = pump(process.getErrorStream(), err);
        try {
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // The program exited or closed stdin without reading it; its exit code tells the story.
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                stopTree(process.toHandle(), Duration.ZERO);
                join(outPump, errPump);
                throw new CommandException("timed out after " + timeout + ": " + String.join(" ", command)
                        + describeOutput(utf8(out), utf8(err)));
            }
            join(outPump, errPump);
        } catch (InterruptedException e) {
            stopTree(process.toHandle(), Duration.ZERO);
            Thread.currentThread().interrupt();
            throw new CommandException("interrupted: " + String.join(" ", command), e);
        }
        return new CommandResult(process.exitValue(), utf8(out), utf8(err));
    }

    public static CommandResult runOk(Duration timeout, List<String> command) {
        return requireOk(command, run(timeout, command));
    }

    public static CommandResult runOk(Duration timeout, List<String> command, String stdin) {
        return requireOk(command, run(timeout, command, stdin));
    }

    public static CommandResult requireOk(List<String> command, CommandResult result) {
        if (!result.ok()) {
            throw new CommandException("exit code " + result.exitCode() + ": " + String.join(" ", command)
                    + describeOutput(result.stdout(), result.stderr()));
        }
        return result;
    }

    /** Starts a background program; stderr is merged into stdout so one pipe tells its whole story. */
    public static Process start(List<String> command) {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new CommandException("cannot start: " + String.join(" ", command), e);
        }
    }

    /** SIGTERM to the process and its descendants, then SIGKILL to whatever is still alive after the grace period. */
    public static void stop(Process process) {
        stopTree(process.toHandle(), STOP_GRACE);
    }

    private static void stopTree(ProcessHandle root, Duration grace) {
        // Snapshot descendants first: once the root dies they are re-parented and no longer findable from it.
        List<ProcessHandle> tree = Stream.concat(root.descendants(), Stream.of(root)).toList();
        if (!grace.isZero()) {
            tree.forEach(ProcessHandle::destroy);
            long deadline = System.nanoTime() + grace.toNanos();
            for (ProcessHandle handle : tree) {
                awaitExit(handle, Math.max(0, deadline - System.nanoTime()));
            }
        }
        tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        tree.forEach(handle -> awaitExit(handle, STOP_GRACE.toNanos()));
    }

    private static void awaitExit(ProcessHandle handle, long nanos) {
        try {
            handle.onExit().get(nanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // Still alive (or not ours to wait for); the caller escalates or gives up.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread pump(InputStream from, OutputStream to) {
        return Thread.ofVirtual().start(() -> {
            try (from) {
                from.transferTo(to);
            } catch (IOException ignored) {
                // Pipe closed because the process was killed: what arrived so far is all there is.
            }
        });
    }

    private static void join(Thread... pumps) throws InterruptedException {
        for (Thread pump : pumps) {
            pump.join(PUMP_JOIN);
        }
    }

    private static String utf8(ByteArrayOutputStream bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static String describeOutput(String stdout, String stderr) {
        return "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
    }
}
