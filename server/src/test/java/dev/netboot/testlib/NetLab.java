package dev.netboot.testlib;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A throw-away network lab built from Linux network namespaces, veth pairs, bridges and taps, for integration
 * tests that need real clients on a real (virtual) wire. Needs root.
 *
 * <p>Every name the lab creates starts with the lab's name ({@code nbt-} plus five hex digits), and everything
 * it creates is undone by {@link #close()} in reverse order. A JVM shutdown hook closes labs a test forgot, and
 * the first lab of each JVM removes leftovers of runs that crashed before they could clean up.
 */
public final class NetLab implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NetLab.class);

    /**
     * Lab names: {@code nbt-3fa9c} is 9 characters, leaving room in the 15-character interface name limit. A
     * lab's namespaces continue with '-', its interfaces with v(eth), t(ap) or b(ridge) and a number.
     */
    private static final Pattern LAB_NAME = Pattern.compile("^nbt-[0-9a-f]{5}(?=$|[-vtb])");
    private static final int IFNAMSIZ = 15;
    private static final Pattern SHORT_NAME = Pattern.compile("[a-z0-9]{1,20}");
    private static final Pattern MAC = Pattern.compile("link/ether ([0-9a-f:]{17})");

    private static final Set<NetLab> open = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean jvmPrepared = new AtomicBoolean();

    private final String name;
    private final Deque<Step> undo = new ArrayDeque<>();
    private int nextInterface;
    private boolean closed;

    /** One way to undo something the lab did, described for the log if it fails. */
    private record Step(String description, Runnable action) {
    }

    private NetLab(String name) {
        this.name = name;
    }

    /**
     * Creates an empty lab. Fails (rather than skips) when not {@link #available()}: CI runs as root, so a
     * missing privilege is a broken setup that must not hide as a green build.
     */
    public static NetLab create() {
        if (!available()) {
            throw new IllegalStateException("NetLab needs root and a working `ip netns` (iproute2). "
                    + "Run the integration tests as root, e.g. `sudo ./mvnw verify`.");
        }
        if (jvmPrepared.compareAndSet(false, true)) {
            removeStale();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> open.forEach(NetLab::close), "netlab-cleanup"));
        }
        String name;
        do {
            name = "nbt-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 5);
        } while (!LabRegistry.claim(name));
        NetLab lab = new NetLab(name);
        open.add(lab);
        return lab;
    }

    /** Whether labs can be built here: we are root (uid 0) and {@code ip netns} works. */
    public static boolean available() {
        try {
            // /proc/self is owned by the effective uid of whoever looks at it.
            boolean root = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
            return root && Commands.run(Commands.SETUP_TIMEOUT, List.of("ip", "netns", "list")).ok();
        } catch (IOException | CommandException e) {
            return false;
        }
    }

    /**
     * Deletes namespaces and host links of labs whose owning process is gone (a crashed or killed test run).
     * Labs of other live JVMs, e.g. a parallel build, are left alone. Best effort: failures are logged.
     */
    public static void removeStale() {
        for (String link : words(Commands.runOk(Commands.SETUP_TIMEOUT, List.of("ip", "-o", "link")).stdout(), 1)) {
            // `ip -o link` prints "7: nbt-3fa9cv0a@if6: <...>"; the name ends before '@' or ':'.
            String ifname = link.split("[@:]", 2)[0];
            if (isStale(ifname)) {
                delete(ifname, List.of("ip", "link", "del", "dev", ifname));
            }
        }
        for (String ns : words(Commands.runOk(Commands.SETUP_TIMEOUT, List.of("ip", "netns", "list")).stdout(), 0)) {
            if (isStale(ns)) {
                // Processes of a crashed run (a server, qemu) would otherwise run on, keeping the namespace alive.
                Commands.run(Commands.SETUP_TIMEOUT, List.of("ip", "netns", "pids", ns)).stdout().lines()
                        .map(pid -> ProcessHandle.of(Long.parseLong(pid.strip())))
                        .flatMap(Optional::stream)
                        .forEach(ProcessHandle::destroyForcibly);
                delete(ns, List.of("ip", "netns", "del", ns));
            }
        }
        for (String lab : LabRegistry.claimed()) {
            if (!LabRegistry.isLive(lab)) {
                LabRegistry.release(lab);
            }
        }
    }

    /** The lab's name, a prefix of every namespace and interface name it creates. */
    public String name() {
        return name;
    }

    /** A new namespace {@code <lab>-<shortName>} with its loopback up. */
    public Namespace namespace(String shortName) {
        if (!SHORT_NAME.matcher(shortName).matches()) {
            throw new IllegalArgumentException("namespace short name must match " + SHORT_NAME + ": " + shortName);
        }
        String nsName = name + "-" + shortName;
        Commands.runOk(Commands.SETUP_TIMEOUT, List.of("ip", "netns", "add", nsName));
        onClose("delete namespace " + nsName,
                () -> Commands.runOk(Commands.SETUP_TIMEOUT, List.of("ip", "netns", "del", nsName)));
        Namespace ns = new Namespace(this, nsName);
        ip(ns, "link", "set", "dev", "lo", "up");
        return ns;
    }

    /**
     * A veth pair from {@code a} (null: the host namespace) to {@code b}, both ends up, addressed .1 and .2 in a
     * fresh /24 of 198.18.0.0/15.
     */
    public VethPair veth(Namespace a, Namespace b) {
        Subnet subnet = SubnetAllocator.next();
        return addVeth(a, b, subnet, subnet.host(1), subnet.host(2), null);
    }

    /** A tap interface, up but without carrier until a guest opens it, in {@code ns} (null: the host namespace). */
    public TapDevice tap(Namespace ns) {
        String tap = interfaceName("t" + nextInterfaceNumber());
        ip(ns, "tuntap", "add", "dev", tap, "mode", "tap");
        onClose("delete tap " + tap, () -> ip(ns, "link", "del", "dev", tap));
        ip(ns, "link", "set", "dev", tap, "up");
        return new TapDevice(ns, tap, mac(ns, tap));
    }

    /** A bridge in {@code ns} (null: the host namespace) holding .1 of a fresh /24 of 198.18.0.0/15. */
    public Bridge bridge(Namespace ns) {
        Subnet subnet = SubnetAllocator.next();
        String bridge = interfaceName("b" + nextInterfaceNumber());
        ip(ns, "link", "add", "name", bridge, "type", "bridge");
        onClose("delete bridge " + bridge, () -> ip(ns, "link", "del", "dev", bridge));
        ip(ns, "addr", "add", subnet.host(1).getHostAddress() + "/" + subnet.prefixLength(), "dev", bridge);
        ip(ns, "link", "set", "dev", bridge, "up");
        return new Bridge(this, ns, bridge, subnet);
    }

    /**
     * Drops each UDP packet entering or leaving {@code ns} with probability {@code percent}/100. Only lab
     * namespaces, never the host: the host's firewall is not ours to touch.
     */
    public PacketLoss dropRandomly(Namespace ns, int percent) {
        if (ns == null) {
            throw new IllegalArgumentException("packet loss only inside a lab namespace, never on the host");
        }
        return PacketLoss.install(ns, percent);
    }

    /** A UDP port that was free on the host a moment ago (another process may still take it). */
    public static int freeUdpPort() {
        try (DatagramSocket socket = new DatagramSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A TCP port that was free on the host a moment ago (another process may still take it). */
    public static int freeTcpPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Undoes everything in reverse order: background programs first, then links, then namespaces. Never throws,
     * so a failing cleanup step cannot mask the test's own failure; failed steps are logged together.
     */
    @Override
    public void close() {
        List<Step> steps;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            steps = new ArrayList<>(undo);
            undo.clear();
        }
        List<String> failures = new ArrayList<>();
        for (Step step : steps) {
            try {
                step.action().run();
            } catch (RuntimeException e) {
                failures.add(step.description() + ": " + e.getMessage());
            }
        }
        try {
            LabRegistry.release(name);
        } catch (RuntimeException e) {
            failures.add("release lab name: " + e.getMessage());
        }
        open.remove(this);
        if (!failures.isEmpty()) {
            log.warn("NetLab {}: {} cleanup step(s) failed:\n{}", name, failures.size(), String.join("\n", failures));
        }
    }

    @Override
    public String toString() {
        return name;
    }

    /**
     * Registers how to undo something just created. Call right after creating it, before configuring it, so
     * that a failure half-way through setup is still cleaned up.
     */
    void onClose(String description, Runnable action) {
        synchronized (this) {
            if (!closed) {
                undo.push(new Step(description, action));
                return;
            }
        }
        action.run();
        throw new IllegalStateException("NetLab " + name + " is already closed");
    }

    /** Runs {@code ip [-n ns] args...}, which must succeed. */
    void ip(Namespace ns, String... args) {
        Commands.runOk(Commands.SETUP_TIMEOUT, ipCommand(ns, args));
    }

    String mac(Namespace ns, String ifname) {
        String link = Commands.runOk(Commands.SETUP_TIMEOUT, ipCommand(ns, "-o", "link", "show", "dev", ifname)).stdout();
        Matcher m = MAC.matcher(link);
        if (!m.find()) {
            throw new IllegalStateException("no MAC address for " + ifname + " in: " + link);
        }
        return m.group(1);
    }

    /**
     * Creates a veth pair; end {@code a} gets {@code aAddress}, or is made a port of {@code aBridge} (whose
     * address then is the one the peer talks to) when that is not null.
     */
    VethPair addVeth(Namespace a, Namespace b, Subnet subnet, InetAddress aAddress, InetAddress bAddress,
                     Bridge aBridge) {
        if (b == null) {
            throw new IllegalArgumentException("the peer end of a veth pair must be in a lab namespace");
        }
        int n = nextInterfaceNumber();
        String aName = interfaceName("v" + n + "a");
        String bName = interfaceName("v" + n + "b");
        List<String> add = new ArrayList<>(List.of("ip", "link", "add", "name", aName));
        if (a != null) {
            add.addAll(List.of("netns", a.name()));
        }
        add.addAll(List.of("type", "veth", "peer", "name", bName, "netns", b.name()));
        Commands.runOk(Commands.SETUP_TIMEOUT, add);
        // Deleting either end deletes both.
        onClose("delete veth " + aName, () -> ip(a, "link", "del", "dev", aName));
        if (aBridge == null) {
            ip(a, "addr", "add", aAddress.getHostAddress() + "/" + subnet.prefixLength(), "dev", aName);
            ip(a, "link", "set", "dev", aName, "up");
        } else {
            aBridge.attach(aName);
        }
        ip(b, "addr", "add", bAddress.getHostAddress() + "/" + subnet.prefixLength(), "dev", bName);
        ip(b, "link", "set", "dev", bName, "up");
        InetAddress hostSideAddress = aBridge == null ? aAddress : aBridge.address();
        return new VethPair(this, a, b, aName, bName, subnet, hostSideAddress, bAddress);
    }

    private static List<String> ipCommand(Namespace ns, String... args) {
        List<String> command = new ArrayList<>(List.of("ip"));
        if (ns != null) {
            command.addAll(List.of("-n", ns.name()));
        }
        command.addAll(List.of(args));
        return command;
    }

    private synchronized int nextInterfaceNumber() {
        return nextInterface++;
    }

    private String interfaceName(String suffix) {
        String ifname = name + suffix;
        if (ifname.length() > IFNAMSIZ) {
            throw new IllegalStateException("interface name " + ifname + " exceeds " + IFNAMSIZ + " characters");
        }
        return ifname;
    }

    /** Word {@code index} (0-based, split on blanks) of every non-empty line. */
    private static List<String> words(String lines, int index) {
        return lines.lines().map(String::strip).filter(l -> !l.isEmpty())
                .map(l -> l.split("\\s+")).filter(w -> w.length > index).map(w -> w[index]).toList();
    }

    /** Whether {@code resource} carries a lab name that no live process claims. */
    private static boolean isStale(String resource) {
        Matcher lab = LAB_NAME.matcher(resource);
        return lab.find() && !LabRegistry.isLive(lab.group());
    }

    private static void delete(String resource, List<String> command) {
        CommandResult result = Commands.run(Commands.SETUP_TIMEOUT, command);
        if (result.ok()) {
            log.info("removed {} left behind by a crashed test run", resource);
        } else {
            // Typically the peer of a veth end deleted a moment ago; nothing left to do.
            log.debug("could not remove stale {}: {}", resource, result.stderr().strip());
        }
    }
}
