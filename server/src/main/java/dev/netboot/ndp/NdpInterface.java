package dev.netboot.ndp;

import dev.netboot.net.MacAddress;
import dev.netboot.metrics.RateLimitedLog;
import dev.netboot.packet.PacketSocket;
import dev.netboot.packet.SocketFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Answers router solicitations on one interface: one thread, one AF_PACKET socket for IPv6 whose
 * BPF filter lets only ICMPv6 type 133 through (other IPv6 traffic never leaves the kernel). The
 * thread never dies of bad input or a lost link: a malformed frame is counted and dropped, a failing
 * socket is reopened every second until the interface is back.
 */
final class NdpInterface implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NdpInterface.class);
    static final int RECEIVE_TIMEOUT_MILLIS = 500;
    /** IPv6 next header at 14 + 6; ICMPv6 type at 14 + 40 (no extension headers: hosts send RS without). */
    static final SocketFilter ROUTER_SOLICITATIONS = SocketFilter.matchingBytes(NdpCodec.ETHERTYPE_IPV6,
            new int[]{20, 54}, new int[]{NdpCodec.ICMPV6, NdpCodec.ROUTER_SOLICITATION});

    private final String name;
    private final NdpMetrics metrics;
    private final RouterSolicitationResponder responder = new RouterSolicitationResponder();
    private final RateLimitedLog malformedLog = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));
    private final RateLimitedLog sendErrors = new RateLimitedLog(log, TimeUnit.SECONDS.toNanos(10));
    private final Thread thread;
    private volatile PacketSocket socket;
    private volatile boolean running = true;
    private volatile MacAddress mac;
    private long nextMacCheck;
    private boolean down;

    NdpInterface(String name, NdpMetrics metrics) throws IOException {
        this.name = name;
        this.metrics = metrics;
        this.socket = open(name);
        this.mac = MacAddress.of(socket.mac());
        this.thread = Thread.ofPlatform().name("ndp-" + name).daemon().unstarted(this::loop);
    }

    private static PacketSocket open(String name) throws IOException {
        PacketSocket s = PacketSocket.open(name, NdpCodec.ETHERTYPE_IPV6, 256 << 10, RECEIVE_TIMEOUT_MILLIS);
        try {
            s.attachFilter(ROUTER_SOLICITATIONS);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    NdpInterface start() {
        thread.start();
        return this;
    }

    String name() { return name; }
    MacAddress mac() { return mac; }

    private void loop() {
        try (PacketSocket.Batch rx = new PacketSocket.Batch(8, 1518)) {
            while (running) {
                int n;
                try {
                    n = socket.receive(rx);
                } catch (IOException e) {
                    reopen(e);
                    continue;
                }
                if (down) {
                    log.info("router advertisements on {}: receiving again", name);
                    down = false;
                }
                followMac();
                if (n > 0) metrics.frames(n);
                for (int i = 0; i < n; i++) {
                    if (rx.outgoing(i)) continue;
                    handle(rx.received(i));
                }
            }
        } catch (RuntimeException e) {
            // A bug, not input: say so loudly; DHCP and the rest go on, iPXE only waits longer.
            if (running) log.error("router advertisements on {} stopped: {}", name, e.toString(), e);
        }
    }

    private void handle(ByteBuffer frame) {
        Optional<NdpMessage> decoded;
        try {
            decoded = NdpCodec.decode(frame);
        } catch (MalformedNdpException e) {
            metrics.malformed();
            String from = frame.limit() - frame.position() >= 12 ? MacAddress.read(frame, frame.position() + 6).toString() : "an unknown source";
            malformedLog.warn("dropped a malformed router solicitation from " + from + " on " + name + ": " + e.getMessage());
            return;
        }
        if (!(decoded.orElse(null) instanceof NdpMessage.RouterSolicitation rs)) return; // let through before the filter was attached
        RouterSolicitationResponder.Decision d = responder.handle(rs, mac, System.nanoTime());
        metrics.solicitation(d.verdict());
        if (d.advertisement().isEmpty()) return;
        try {
            socket.sendOne(ByteBuffer.wrap(NdpCodec.encode(d.advertisement().get())));
            metrics.sent();
        } catch (IOException e) {
            metrics.sendFailed();
            sendErrors.warn("router advertisement on " + name + " could not be sent: " + e.getMessage());
        }
    }

    /** The link went away (down, or the interface deleted and made again): a fresh socket once a second. */
    private void reopen(IOException cause) {
        if (!down) {
            log.warn("router advertisements on {}: {}; retrying every second", name, cause.getMessage());
            down = true;
        }
        while (running) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            try {
                PacketSocket fresh = open(name);
                PacketSocket old = socket;
                socket = fresh;
                old.close();
                mac = MacAddress.of(fresh.mac());
                return;
            } catch (IOException e) {
                // still gone: try again
            }
        }
    }

    /** A bridge's MAC follows its ports unless set: answer with the address the interface has now. */
    private void followMac() {
        long now = System.nanoTime();
        if (now - nextMacCheck < 0) return;
        nextMacCheck = now + TimeUnit.SECONDS.toNanos(1);
        try {
            MacAddress current = MacAddress.parse(Files.readString(Path.of("/sys/class/net", name, "address")).strip());
            if (!current.equals(mac)) {
                log.info("router advertisements on {}: the interface's MAC changed from {} to {}", name, mac, current);
                mac = current;
            }
        } catch (IOException | IllegalArgumentException e) {
            // gone for a moment: keep the address we have
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        socket.close();
    }
}
