package dev.netboot.tftp;

import dev.netboot.files.DirectoryFileProvider;
import dev.netboot.transport.Transport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The TFTP server on loopback, its clients plain UDP sockets that ask and then never ACK (transfers stay open). */
class TftpServerLimitsTest {

    @TempDir Path root;
    EventLoopGroup group;
    TftpServer server;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final List<DatagramSocket> sockets = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        Files.write(root.resolve("big"), new byte[1 << 20]);
        Files.writeString(root.resolve("text.cfg"), "line one\nline two\r\n");
        Transport transport = Transport.best();
        group = transport.newGroup(1);
        var retransmit = new RetransmitPolicy(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(8), Duration.ofSeconds(30));
        server = new TftpServer(new TftpSettings(new InetSocketAddress("127.0.0.1", 0), 16, 1468, 1000, 2, retransmit),
                new DirectoryFileProvider(root, false), registry, transport, group).start();
    }

    @AfterEach
    void stop() {
        sockets.forEach(DatagramSocket::close);
        if (server != null) server.close();
        if (group != null) group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Sends an RRQ from a new port of {@code from} and returns the server's first answer. */
    TftpPacket ask(String from, String file, String mode) throws Exception {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(from), 0));
        sockets.add(socket);
        socket.setSoTimeout(5000);
        ByteBuffer rrq = TftpCodec.encode(new TftpPacket.ReadRequest(file, mode, Map.of()));
        socket.send(new DatagramPacket(rrq.array(), rrq.arrayOffset() + rrq.position(), rrq.remaining(), server.localAddress()));
        DatagramPacket answer = new DatagramPacket(new byte[2048], 2048);
        socket.receive(answer);
        return TftpCodec.decode(ByteBuffer.wrap(answer.getData(), 0, answer.getLength()));
    }

    @Test
    void oneHostCannotTakeEveryTransferSlot() throws Exception {
        assertThat(ask("127.0.0.1", "big", "octet")).isInstanceOf(TftpPacket.Data.class);
        assertThat(ask("127.0.0.1", "big", "octet")).isInstanceOf(TftpPacket.Data.class);

        TftpPacket third = ask("127.0.0.1", "big", "octet");
        assertThat(third).isInstanceOf(TftpPacket.Error.class);
        assertThat(((TftpPacket.Error) third).message()).contains("busy", "your address");

        assertThat(ask("127.0.0.2", "big", "octet")).as("another host is still served").isInstanceOf(TftpPacket.Data.class);
    }

    /**
     * shim asks for three optional files on every boot and PXELINUX searches its configs: a missing file is
     * counted and logged at DEBUG, at INFO once a minute with the count, never as a warning per request.
     */
    @Test
    void missingFilesAreCountedAndLoggedQuietly() throws Exception {
        var logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(TftpServer.class);
        var logged = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        var level = logger.getLevel();
        logged.start();
        logger.addAppender(logged);
        logger.setLevel(ch.qos.logback.classic.Level.DEBUG);
        try {
            for (String probe : List.of("revocations_sku.efi", "revocations_sbat.efi", "shim_certificate_0.efi")) {
                TftpPacket answer = ask("127.0.0.1", probe, "octet");
                assertThat(answer).isInstanceOf(TftpPacket.Error.class);
                assertThat(((TftpPacket.Error) answer).code()).isEqualTo(TftpError.FILE_NOT_FOUND);
            }
        } finally {
            logger.detachAppender(logged);
            logger.setLevel(level);
        }
        assertThat(logged.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getLevel).doesNotContain(ch.qos.logback.classic.Level.WARN);
        assertThat(logged.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.DEBUG).hasSize(3);
        assertThat(logged.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.INFO).hasSize(1)
                .first().extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).asString().contains("revocations_sku.efi");
        assertThat(registry.get("netboot.tftp.transfers").tag("result", "not-found").counter().count()).isEqualTo(3);
        assertThat(registry.get("netboot.tftp.transfers").tag("result", "refused").counter().count()).isZero();
    }

    @Test
    void aRefusedRequestGivesItsSlotBack() throws Exception {
        for (int i = 0; i < 5; i++) assertThat(ask("127.0.0.1", "missing", "octet")).isInstanceOf(TftpPacket.Error.class);
        assertThat(ask("127.0.0.1", "big", "octet")).isInstanceOf(TftpPacket.Data.class);
        assertThat(ask("127.0.0.1", "big", "octet")).isInstanceOf(TftpPacket.Data.class);
    }

    @Test
    void errorMessagesDoNotRevealPathsOnTheServer() throws Exception {
        Files.writeString(root.resolveSibling(root.getFileName() + "-secret"), "host file");
        Files.createSymbolicLink(root.resolve("out"), root.resolveSibling(root.getFileName() + "-secret"));
        for (String name : List.of("missing", "out", "sub/missing")) {
            TftpPacket answer = ask("127.0.0.1", name, "octet");
            assertThat(answer).isInstanceOf(TftpPacket.Error.class);
            assertThat(((TftpPacket.Error) answer).message()).as(name).doesNotContain(root.toString()).doesNotContain("/tmp");
        }
    }

    @Test
    void netasciiIsConvertedOnTheWay() throws Exception {
        TftpPacket first = ask("127.0.0.1", "text.cfg", "netascii");
        assertThat(first).isInstanceOf(TftpPacket.Data.class);
        ByteBuffer payload = ((TftpPacket.Data) first).payload();
        byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        assertThat(new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)).isEqualTo("line one\r\nline two\r\0\r\n");
    }
}
