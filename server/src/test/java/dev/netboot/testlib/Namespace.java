package dev.netboot.testlib;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A network namespace of a {@link NetLab}; programs run in it see only the lab's links and its own loopback. */
public final class Namespace {

    private final NetLab lab;
    private final String name;

    Namespace(NetLab lab, String name) {
        this.lab = lab;
        this.name = name;
    }

    /** The name {@code ip netns} knows it by, e.g. {@code nbt-3fa9c-client}. */
    public String name() {
        return name;
    }

    /**
     * Runs {@code command} in this namespace and waits for it. On timeout the process tree is killed and a
     * {@link CommandException} reports the command and its output so far.
     */
    public CommandResult exec(Duration timeout, String... command) {
        return Commands.run(timeout, inside(command));
    }

    /** Like {@link #exec} but a non-zero exit code is a {@link CommandException} carrying stdout and stderr. */
    public CommandResult execOk(Duration timeout, String... command) {
        List<String> full = inside(command);
        return Commands.requireOk(full, Commands.run(timeout, full));
    }

    /**
     * Starts a background program (a server, a DHCP client, qemu) in this namespace; the lab stops it and its
     * children on close. stderr is merged into stdout: read {@link Process#getInputStream()} if the program
     * writes much, or it blocks once the pipe buffer (64 KiB) is full.
     */
    public Process start(String... command) {
        Process process = Commands.start(inside(command));
        lab.onClose("stop " + String.join(" ", command), () -> Commands.stop(process));
        return process;
    }

    /** {@code ip netns exec} also bind-mounts a matching /sys, so tools that read sysfs see this namespace. */
    List<String> inside(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return full;
    }

    @Override
    public String toString() {
        return name;
    }
}
