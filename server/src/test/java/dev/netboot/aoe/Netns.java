package dev.netboot.aoe;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace joined to the test's namespace by a veth pair. A stop-gap until the shared
 * testlib (NetLab) lands on main; it only shells out to iproute2.
 */
final class Netns implements AutoCloseable {

    final String name;
    final String hostIf;
    final String nsIf;

    Netns(String tag) throws IOException {
        String id = tag + (ProcessHandle.current().pid() % 10000);
        this.name = "nb-" + id;
        this.hostIf = "nbh" + id;
        this.nsIf = "nbn" + id;
        run("ip", "netns", "add", name);
        run("ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
        run("ip", "link", "set", nsIf, "netns", name);
        run("ip", "link", "set", hostIf, "up");
        run("ip", "-n", name, "link", "set", nsIf, "up");
        run("ip", "-n", name, "link", "set", "lo", "up");
    }

    String nsMac() throws IOException {
        String out = run("ip", "-n", name, "-br", "link", "show", nsIf).output();
        return out.trim().split("\\s+")[2];
    }

    void mtu(int mtu) throws IOException {
        run("ip", "link", "set", hostIf, "mtu", Integer.toString(mtu));
        run("ip", "-n", name, "link", "set", nsIf, "mtu", Integer.toString(mtu));
    }

    Result exec(long timeoutSeconds, String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return runAllowingFailure(timeoutSeconds, full.toArray(String[]::new));
    }

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

    static boolean haveRootAnd(String... tools) {
        if (!"root".equals(System.getProperty("user.name"))) return false;
        for (String t : tools) {
            try {
                if (runAllowingFailure(5, "sh", "-c", "command -v " + t).exitCode() != 0) return false;
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        try {
            runAllowingFailure(10, "ip", "link", "del", hostIf);
            runAllowingFailure(10, "ip", "netns", "del", name);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
