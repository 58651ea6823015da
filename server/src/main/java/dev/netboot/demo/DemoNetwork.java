package dev.netboot.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo's network: a bridge with an address of a private /24 nothing on this host uses yet, and tap
 * devices on it for the clients. Nothing leaves the host: no uplink is attached. Removed on close.
 */
public final class DemoNetwork implements AutoCloseable {

    private final String bridge;
    private final String prefix;
    private final List<String> taps = new ArrayList<>();

    private DemoNetwork(String bridge, String prefix) {
        this.bridge = bridge;
        this.prefix = prefix;
    }

    public static DemoNetwork create(String bridge) throws IOException {
        String routes = ip("-4", "route", "show") + ip("-4", "addr", "show");
        String prefix = null;
        for (int third = 213; third < 250 && prefix == null; third++) {
            if (!routes.contains("10.213." + third + ".")) prefix = "10.213." + third + ".";
        }
        if (prefix == null) throw new IOException("no free 10.213.x.0/24 network for the demo");
        // An explicit address: a bridge otherwise takes its lowest port's MAC, so it would change under the
        // AoE target when the first tap joins, and clients would talk to an address nobody answers.
        ip("link", "add", bridge, "address", "02:6e:62:00:00:01", "type", "bridge");
        DemoNetwork net = new DemoNetwork(bridge, prefix);
        try {
            ip("addr", "add", prefix + "1/24", "dev", bridge);
            ip("link", "set", bridge, "up");
        } catch (IOException e) {
            net.close();
            throw e;
        }
        return net;
    }

    public String bridge() { return bridge; }
    public String serverAddress() { return prefix + "1"; }
    public String prefix() { return prefix; }

    public String addTap() throws IOException {
        String tap = bridge + "t" + taps.size();
        ip("tuntap", "add", "dev", tap, "mode", "tap");
        taps.add(tap);
        ip("link", "set", tap, "master", bridge);
        ip("link", "set", tap, "up");
        return tap;
    }

    @Override
    public void close() {
        for (String tap : taps) quietly("link", "del", tap);
        quietly("link", "del", bridge);
    }

    private static void quietly(String... args) {
        try {
            ip(args);
        } catch (IOException ignored) {
            // already gone
        }
    }

    static String ip(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed: " + out.strip() + " (the demo needs root)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return out;
    }
}
