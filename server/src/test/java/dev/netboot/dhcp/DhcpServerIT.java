package dev.netboot.dhcp;

import dev.netboot.net.Ipv4;
import dev.netboot.boot.BootFiles;
import dev.netboot.boot.RuleBootPolicy;
import dev.netboot.transport.Transport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Netty adapter on loopback: bad datagrams of every kind are dropped, counted by reason and
 * logged once (a flood must not flood the log), and the server goes on answering a good request
 * sent right after them.
 */
class DhcpServerIT {

    @Test
    void malformedDatagramsAreCountedAndTheServerKeepsAnswering() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Transport transport = Transport.best();
        EventLoopGroup group = transport.newGroup(1);
        Ipv4 local = Ipv4.parse("127.0.0.1");
        DhcpEngine engine = new DhcpEngine(new DhcpSettings(DhcpMode.FULL,
                List.of(new Pool(Ipv4.parse("127.0.0.0"), 8, Ipv4.parse("127.0.9.1"), Ipv4.parse("127.0.9.9"), Ipv4.ANY, List.of(), "", 600)),
                List.of(), Ipv4.ANY, Duration.ofSeconds(30), Duration.ofMinutes(10)),
                new RuleBootPolicy(new BootFiles("", "", "", "", ""), "", mac -> Optional.empty()), List.of());
        // What an operator would read: the server's own log lines.
        ch.qos.logback.classic.Logger serverLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(DhcpServer.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged = new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        serverLog.addAppender(logged);
        int port;
        try (DatagramSocket probe = new DatagramSocket(0)) {
            port = probe.getLocalPort();
        }
        // A client with an address asks by INFORM; the answer goes to ciaddr, on the client port
        // (a free one here rather than 68, which a parallel build may hold).
        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            DhcpServer server = new DhcpServer(engine, LeaseStore.NONE, ClientObserver.NONE, List.of(new ServedInterface("lo", local, 8, Bytes.EMPTY)), port, 0, false,
                    registry, transport, group, Clock.systemUTC()).clientPortForTests(client.getLocalPort()).start();
            try {
                client.setSoTimeout(5000);
                InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
                byte[] good = DhcpCodec.encode(DhcpMessage.request(42, Bytes.hex("020000000001"),
                        DhcpOptions.build(b -> b.messageType(MessageType.INFORM))).withCiaddr(local));
                byte[] badCookie = good.clone();
                badCookie[236] = 0;
                byte[] hlen = good.clone();
                hlen[2] = 17;
                byte[] overrun = Arrays.copyOf(good, 244);
                overrun[240] = 53;
                overrun[241] = 50;
                byte[] loop = DhcpCodec.encode(DhcpMessage.request(43, Bytes.hex("020000000001"),
                        DhcpOptions.build(b -> b.messageType(MessageType.DISCOVER).uint8(OptionCode.OVERLOAD, 1))));
                loop[108] = 52; loop[109] = 1; loop[110] = 1; loop[111] = (byte) 255;
                byte[] noType = DhcpCodec.encode(DhcpMessage.request(44, Bytes.hex("020000000001"), DhcpOptions.NONE));
                for (byte[] bad : List.of(Arrays.copyOf(good, 100), badCookie, hlen, overrun, loop, noType)) {
                    client.send(new DatagramPacket(bad, bad.length, to));
                }
                client.send(new DatagramPacket(good, good.length, to));
                DatagramPacket answer = new DatagramPacket(new byte[1500], 1500);
                client.receive(answer);
                DhcpMessage ack = DhcpCodec.decode(java.nio.ByteBuffer.wrap(answer.getData(), 0, answer.getLength()));
                assertThat(ack.xid()).isEqualTo(42);
                assertThat(ack.type()).isEqualTo(MessageType.ACK);
            } finally {
                server.close();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            serverLog.detachAppender(logged);
        }
        for (String reason : List.of("truncated", "bad-cookie", "bad-hlen", "option-overrun", "overload-loop")) {
            assertThat(registry.counter("netboot.dhcp.malformed.packets", "reason", reason).count()).as(reason).isEqualTo(1.0);
        }
        assertThat(registry.counter("netboot.dhcp.unanswered", "reason", "no-message-type").count()).isEqualTo(1.0);
        assertThat(registry.counter("netboot.dhcp.sent", "type", "ack").count()).isEqualTo(1.0);
        // Five malformed datagrams within 10 s: one warning (RateLimitedLog), the counters have the rest.
        assertThat(logged.list).filteredOn(e -> e.getFormattedMessage().startsWith("dropped a malformed DHCP datagram")).hasSize(1);
    }
}
