package dev.netboot.aoe;

import dev.netboot.net.MacAddress;
import dev.netboot.packet.PacketSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongConsumer;

/**
 * The second path to the primary: an AoE config query sent to the service MAC on the client network,
 * as a client's driver would send it, and whether the target behind it answers. The replication link
 * can break while the primary still serves its clients; this asks the clients' side of the question.
 * Thin adapter: one packet socket, one receive thread; what a silence means is decided elsewhere
 * ({@code replication.Failover}).
 */
public final class ConfigProbe implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConfigProbe.class);

    private final PacketSocket socket;
    private final MacAddress target;
    private final LongConsumer answered;
    private final ProbeToken token;
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param answered called (on the receive thread) with the tag of each answer from {@code target}: the
     *                 probe's sequence number, or 0 for the target's own unsolicited announcement
     */
    /** Proves to the primary that a config query is the peer's probe (an HMAC with the replication secret). */
    public interface ProbeToken {
        byte[] token(MacAddress from, int tag);
    }

    public ConfigProbe(String clientInterface, MacAddress target, ProbeToken token, LongConsumer answered) throws IOException {
        this.token = token;
        this.socket = PacketSocket.open(clientInterface, AoeCodec.ETHERTYPE, 1 << 20, 100);
        this.target = target;
        this.answered = answered;
        this.thread = Thread.ofPlatform().name("failover-probe-" + clientInterface).daemon().start(this::loop);
    }

    /** Sends one config query to the target (any shelf, any slot); its tag is {@code seq}. */
    public void probe(long seq) {
        AoeHeader h = new AoeHeader(AoeHeader.VERSION, false, false, 0, AoeHeader.ANY_SHELF, AoeHeader.ANY_SLOT, AoeCommand.QUERY_CONFIG, (int) seq);
        MacAddress me = MacAddress.of(socket.mac());
        AoeFrame f = new AoeFrame(target, me, h,
                new AoeMessage.QueryConfig(0, 0, 0, 0, AoeMessage.QueryConfig.READ, ByteBuffer.wrap(token.token(me, (int) seq))));
        try {
            socket.sendOne(AoeCodec.encode(f));
        } catch (IOException e) {
            // A silent probe: if the client network itself is down here, nothing is taken over without the
            // link also being lost, and then the probes count as silent (the operator sees this line).
            log.warn("failover probe on {} could not be sent: {}", socket.interfaceName(), e.getMessage());
        }
    }

    private void loop() {
        try (PacketSocket.Batch rx = new PacketSocket.Batch(16, 1600)) {
            while (running) {
                int n;
                try {
                    n = socket.receive(rx);
                } catch (IOException e) {
                    if (!running) return;
                    log.warn("failover probe on {}: {}", socket.interfaceName(), e.getMessage());
                    Thread.sleep(200);
                    continue;
                }
                for (int i = 0; i < n; i++) {
                    if (rx.outgoing(i)) continue;
                    try {
                        AoeFrame f = AoeCodec.decode(rx.received(i));
                        if (f.header().response() && f.source().equals(target) && f.header().command() == AoeCommand.QUERY_CONFIG)
                            answered.accept(f.header().tag() & 0xFFFF_FFFFL);
                    } catch (MalformedFrameException ignored) {
                        // not ours to judge: the AoE target counts malformed frames
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        socket.close();
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
