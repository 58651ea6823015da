package dev.netboot.testlib;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Proves the lab primitives on the real kernel; needs root, like every *IT that uses {@link NetLab}. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class NetLabIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    /** Inside a fresh namespace every port is free. */
    private static final int SINK_PORT = 4000;

    /**
     * A UDP receiver to run inside a namespace, where the test JVM's own sockets cannot go. It prints "ready"
     * once bound, then one line per datagram, and exits after a quiet second. Plain Java (source launcher), so
     * it needs nothing beyond the JDK that runs the tests.
     */
    private static final String SINK = """
            import java.net.*;
            class UdpSink {
                public static void main(String[] args) throws Exception {
                    try (var socket = new DatagramSocket(new InetSocketAddress(args[0], Integer.parseInt(args[1])))) {
                        socket.setSoTimeout(1000);
                        System.out.println("ready");
                        var packet = new DatagramPacket(new byte[1500], 1500);
                        while (true) {
                            try {
                                socket.receive(packet);
                            } catch (SocketTimeoutException quiet) {
                                return;
                            }
                            System.out.println(new String(packet.getData(), 0, packet.getLength()).strip());
                        }
                    }
                }
            }
            """;

    @TempDir
    Path tmp;

    @Test
    void namespaceSendsUdpToTheJvmOverAVethPair() throws IOException {
        try (NetLab lab = NetLab.create()) {
            Namespace client = lab.namespace("client");
            VethPair link = lab.veth(null, client).mtu(1400);

            assertThat(List.of(link.hostSideName(), link.peerName())).allSatisfy(n -> assertThat(n).hasSizeLessThan(16));
            assertThat(link.subnet().toString()).startsWith("198.1").endsWith(".0/24");
            assertThat(link.hostSideMac()).matches("[0-9a-f:]{17}").isNotEqualTo(link.peerMac());
            assertThat(client.execOk(TIMEOUT, "ip", "-o", "link", "show", "dev", link.peerName()).stdout())
                    .contains("mtu 1400", link.peerMac());

            try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(link.hostSideAddress(), 0))) {
                sendFrom(client, link.hostSideAddress(), server.getLocalPort(), "hi");
                DatagramPacket packet = receive(server);
                assertThat(new String(packet.getData(), 0, packet.getLength(), UTF_8)).isEqualTo("hi\n");
                assertThat(packet.getAddress()).isEqualTo(link.peerAddress());
            }
        }
    }

    @Test
    void twoNamespacesExchangeUdpOverAVethPair() throws IOException {
        try (NetLab lab = NetLab.create()) {
            Namespace server = lab.namespace("server");
            Namespace client = lab.namespace("client");
            VethPair link = lab.veth(server, client);

            BufferedReader sink = startSink(server, link.hostSideAddress());
            sendFrom(client, link.hostSideAddress(), SINK_PORT, "hi");
            assertThat(sink.readLine()).isEqualTo("hi");
        }
    }

    @Test
    void bridgeJoinsATapAndANamespaceOnOneSegment() throws IOException {
        try (NetLab lab = NetLab.create()) {
            Bridge bridge = lab.bridge(null);
            TapDevice tap = lab.tap(null);
            bridge.attach(tap.name());
            Namespace client = lab.namespace("client");
            VethPair link = bridge.connect(client);

            assertThat(Commands.runOk(TIMEOUT, List.of("ip", "-o", "link", "show", "dev", tap.name())).stdout())
                    .contains("master " + bridge.name());
            assertThat(link.hostSideAddress()).isEqualTo(bridge.address());
            assertThat(link.peerAddress()).isEqualTo(bridge.subnet().host(2));
            try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(bridge.address(), 0))) {
                sendFrom(client, bridge.address(), server.getLocalPort(), "via bridge");
                assertThat(receive(server).getAddress()).isEqualTo(link.peerAddress());
            }
        }
    }

    @Test
    void dropRandomlyLosesAboutTheRequestedShareInBothDirections() throws IOException {
        try (NetLab lab = NetLab.create()) {
            Namespace lossy = lab.namespace("lossy");
            VethPair link = lab.veth(null, lossy);
            try (DatagramSocket server = new DatagramSocket(new InetSocketAddress(link.hostSideAddress(), 0))) {
                // Without loss first: resolves ARP both ways, so no datagram below waits in a neighbour queue.
                sendFrom(lossy, link.hostSideAddress(), server.getLocalPort(), "warm-up");
                receive(server);
                PacketLoss loss = lab.dropRandomly(lossy, 50);

                // Outbound: the binomial spread of 200 tries at 50% is about 7, so 60..140 never flakes.
                lossy.execOk(TIMEOUT, "bash", "-c", "for i in $(seq 200); do echo $i > /dev/udp/%s/%d; done 2>/dev/null; true"
                        .formatted(link.hostSideAddress().getHostAddress(), server.getLocalPort()));
                assertThat(countUntilQuiet(server)).isBetween(60, 140);

                // Inbound.
                BufferedReader sink = startSink(lossy, link.peerAddress());
                for (int i = 0; i < 200; i++) {
                    byte[] payload = Integer.toString(i).getBytes(UTF_8);
                    server.send(new DatagramPacket(payload, payload.length, link.peerAddress(), SINK_PORT));
                }
                assertThat(sink.lines().count()).isBetween(60L, 140L);

                loss.remove();
                lossy.execOk(TIMEOUT, "bash", "-c", "for i in $(seq 20); do echo $i > /dev/udp/%s/%d; done"
                        .formatted(link.hostSideAddress().getHostAddress(), server.getLocalPort()));
                assertThat(countUntilQuiet(server)).isEqualTo(20);
            }
        }
    }

    @Test
    void execTimeoutKillsTheProcessTreeAndReportsPartialOutput() {
        try (NetLab lab = NetLab.create()) {
            Namespace ns = lab.namespace("slow");
            // "echo never" keeps bash from exec'ing sleep, so there really is a tree to kill.
            assertThatThrownBy(() -> ns.exec(Duration.ofMillis(500), "bash", "-c", "echo started; sleep 30; echo never"))
                    .isInstanceOf(CommandException.class)
                    .hasMessageContaining("timed out")
                    .hasMessageContaining("sleep 30")
                    .hasMessageContaining("started");
            assertThat(Commands.runOk(TIMEOUT, List.of("ip", "netns", "pids", ns.name())).stdout()).isBlank();
            assertThatThrownBy(() -> ns.execOk(TIMEOUT, "bash", "-c", "echo out; echo err >&2; exit 3"))
                    .hasMessageContaining("exit code 3").hasMessageContaining("out").hasMessageContaining("err");
        }
    }

    @Test
    void closeRemovesEverythingEvenWhenTheTestBodyThrows() {
        AtomicReference<String> labName = new AtomicReference<>();
        AtomicReference<Process> daemon = new AtomicReference<>();
        assertThatThrownBy(() -> {
            try (NetLab lab = NetLab.create()) {
                labName.set(lab.name());
                Namespace a = lab.namespace("a");
                Namespace b = lab.namespace("b");
                lab.veth(null, a);
                lab.veth(a, b);
                Bridge hostBridge = lab.bridge(null);
                hostBridge.attach(lab.tap(null).name());
                hostBridge.connect(b);
                lab.bridge(a).attach(lab.tap(a).name());
                lab.dropRandomly(b, 10);
                daemon.set(a.start("sleep", "600"));
                assertThat(hostListing()).contains(lab.name());
                throw new IllegalStateException("test body failed");
            }
        }).hasMessage("test body failed");

        assertThat(daemon.get().isAlive()).isFalse();
        assertThat(hostListing()).doesNotContain(labName.get());
    }

    @Test
    void removeStaleDeletesLeftoversOfDeadRuns() throws InterruptedException {
        // What a run killed with SIGKILL leaves behind: resources with a lab prefix that no live process claims.
        String dead = "nbt-dead0";
        Commands.runOk(TIMEOUT, List.of("ip", "netns", "add", dead + "-x"));
        Commands.runOk(TIMEOUT, List.of("ip", "link", "add", dead + "v0a", "type", "veth", "peer", "name", dead + "v0b"));
        Process orphan = Commands.start(List.of("ip", "netns", "exec", dead + "-x", "sleep", "600"));

        NetLab.removeStale();

        assertThat(hostListing()).doesNotContain(dead);
        assertThat(orphan.waitFor(5, TimeUnit.SECONDS)).as("process left in the stale namespace is killed").isTrue();
    }

    @Test
    void freePortsCanBeBound() throws IOException {
        try (DatagramSocket udp = new DatagramSocket(NetLab.freeUdpPort());
             ServerSocket tcp = new ServerSocket(NetLab.freeTcpPort())) {
            assertThat(udp.getLocalPort()).isPositive();
            assertThat(tcp.getLocalPort()).isPositive();
        }
    }

    /** bash is on every Debian machine and can send UDP through its /dev/udp redirection. */
    private static void sendFrom(Namespace ns, InetAddress to, int port, String text) {
        ns.execOk(TIMEOUT, "bash", "-c", "echo '%s' > /dev/udp/%s/%d".formatted(text, to.getHostAddress(), port));
    }

    private static DatagramPacket receive(DatagramSocket socket) throws IOException {
        socket.setSoTimeout(5000);
        DatagramPacket packet = new DatagramPacket(new byte[1500], 1500);
        socket.receive(packet);
        return packet;
    }

    private static int countUntilQuiet(DatagramSocket socket) throws IOException {
        socket.setSoTimeout(500);
        DatagramPacket packet = new DatagramPacket(new byte[1500], 1500);
        int count = 0;
        while (true) {
            try {
                socket.receive(packet);
                count++;
            } catch (SocketTimeoutException quiet) {
                return count;
            }
        }
    }

    /** Starts {@link #SINK} on {@code address} in {@code ns}; returns its output positioned after "ready". */
    private BufferedReader startSink(Namespace ns, InetAddress address) throws IOException {
        Path source = Files.writeString(tmp.resolve("UdpSink.java"), SINK);
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process sink = ns.start(java, source.toString(), address.getHostAddress(), Integer.toString(SINK_PORT));
        BufferedReader output = new BufferedReader(new InputStreamReader(sink.getInputStream(), UTF_8));
        String line;
        do {
            line = output.readLine();
            assertThat(line).as("UdpSink exited before it was ready").isNotNull();
        } while (!line.equals("ready"));
        return output;
    }

    private static String hostListing() {
        return Commands.runOk(TIMEOUT, List.of("ip", "netns", "list")).stdout()
                + Commands.runOk(TIMEOUT, List.of("ip", "-o", "link")).stdout();
    }
}
