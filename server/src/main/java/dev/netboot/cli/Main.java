package dev.netboot.cli;

import picocli.CommandLine;

/** Entry point of the one runnable jar. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        // What this process creates (client disks, the inventory, images, the catalog) is nobody
        // else's to read: 0700 folders, 0600 files, whatever the shell's umask (usually 022) says.
        dev.netboot.posix.Umask.set(0077);
        // Netty 4.2 emits JFR events for buffer allocations; their first check starts JFR's machinery,
        // which took ~120 ms inside the first packet a fresh server answered (the first DHCP offer of
        // a boot: 115 ms against 1-3 ms for the next). Off unless asked for; set before Netty loads.
        if (System.getProperty("io.netty.jfr.enabled") == null) System.setProperty("io.netty.jfr.enabled", "false");
        // Netty's leak detector samples buffers with stack traces: a debugging aid that costs every
        // packet something. Off unless asked for with -Dio.netty.leakDetection.level=...
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        return new CommandLine(new NetbootCommand())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setUsageHelpAutoWidth(true)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    // A configuration a person got wrong gets one clear line, not a stack trace.
                    if (!(e instanceof dev.netboot.config.ConfigLoader.ConfigException)) throw e;
                    cmd.getErr().println("netboot: " + e.getMessage());
                    return 2;
                });
    }
}
