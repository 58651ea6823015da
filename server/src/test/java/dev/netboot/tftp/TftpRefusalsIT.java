package dev.netboot.tftp;

import dev.netboot.app.BootServerLab;
import dev.netboot.testlib.CommandResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Everything the server must refuse, each with the right TFTP error code and without serving a byte,
 * and garbage that must not disturb it. Real clients where a real client can make the request;
 * raw datagrams for what no client sends on purpose (foreign TIDs, broken packets).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TftpRefusalsIT {

    private static final Duration T = Duration.ofSeconds(30);
    BootServerLab lab;
    Path outside;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        lab = new BootServerLab(dir, List.of());
        lab.bootFile("ok", 3000);
        outside = Files.writeString(dir.resolve("secret"), "not for clients");
        Files.createSymbolicLink(lab.root.resolve("leak"), outside);
    }

    @AfterAll
    void stop() {
        if (lab != null) lab.close();
    }

    private double errors(TftpError code) {
        return lab.counter("netboot.tftp.errors.sent", "code", Integer.toString(code.code()));
    }

    private CommandResult tftpHpa(String command) {
        // -l: literal file names, else tftp-hpa reads "C:\\x" as host "C" and file "\\x".
        return lab.run(T, "tftp", "-l", "-m", "binary", lab.server(), Integer.toString(lab.tftpPort()), "-c", "get", command, "/dev/null");
    }

    @Test
    void pathsOutsideTheRootAreAccessViolations() {
        double before = errors(TftpError.ACCESS_VIOLATION);
        for (String path : List.of("../../etc/passwd", "/etc/passwd", "..\\..\\etc\\passwd", "\\etc\\passwd", "C:\\Windows\\win.ini", "boot/../../x")) {
            assertThat(tftpHpa(path).stdout()).as(path).contains("Error code 2");
        }
        // curl would normalize "../" away; --path-as-is sends it as typed. 69 = CURLE_TFTP_PERM.
        assertThat(lab.run(T, "curl", "-sS", "--path-as-is", "-o", "/dev/null", lab.tftpUrl("../etc/passwd")).exitCode()).isEqualTo(69);
        assertThat(lab.run(T, "curl", "-sS", "-o", "/dev/null", lab.tftpUrl("leak")).exitCode()).as("symlink to outside").isEqualTo(69);
        assertThat(errors(TftpError.ACCESS_VIOLATION) - before).isEqualTo(8);
    }

    @Test
    void writesAreRefusedAsAccessViolation() throws Exception {
        Path upload = Files.writeString(lab.work.resolve("upload"), "data");
        CommandResult put = lab.run(T, "tftp", lab.server(), Integer.toString(lab.tftpPort()), "-c", "put", upload.toString(), "uploaded");
        assertThat(put.stdout()).contains("Error code 2", "read-only");
        assertThat(lab.root.resolve("uploaded")).doesNotExist();
    }

    @Test
    void missingFileIsNotFound() {
        double before = errors(TftpError.FILE_NOT_FOUND);
        assertThat(lab.run(T, "curl", "-sS", "-o", "/dev/null", lab.tftpUrl("no-such-file")).exitCode()).isEqualTo(68);
        assertThat(tftpHpa("no/such/file").stdout()).contains("Error code 1");
        assertThat(errors(TftpError.FILE_NOT_FOUND) - before).isEqualTo(2);
    }

    @Test
    void optionValuesOutOfRangeAreRefusedWithCode8() {
        double before = errors(TftpError.OPTION_REFUSED);
        for (String option : List.of("blksize 7", "windowsize 0", "timeout 300")) {
            CommandResult r = lab.run(T, "atftp", "--get", "-r", "ok", "-l", "/dev/null", "--option", option, lab.server(), Integer.toString(lab.tftpPort()));
            assertThat(r.exitCode()).isNotZero();
            assertThat(r.stdout() + r.stderr()).contains("error received from server");
        }
        assertThat(errors(TftpError.OPTION_REFUSED) - before).isEqualTo(3);
    }

    @Test
    void unknownModeIsIllegalOperation() throws Exception {
        try (DatagramSocket socket = socket()) {
            send(socket, new TftpPacket.ReadRequest("ok", "mail", Map.of()), lab.tftpPort());
            assertThat(receive(socket)).isEqualTo(new TftpPacket.Error(TftpError.ILLEGAL_OPERATION, "transfer mode 'mail' is not supported (use octet)"));
        }
    }

    @Test
    void packetFromAForeignPortGetsUnknownTidAndTheTransferGoesOn() throws Exception {
        try (DatagramSocket client = socket(); DatagramSocket intruder = socket()) {
            send(client, new TftpPacket.ReadRequest("ok", "octet", Map.of()), lab.tftpPort());
            DatagramPacket first = new DatagramPacket(new byte[600], 600);
            client.receive(first);
            int transferPort = first.getPort();
            assertThat(transferPort).as("each transfer has its own port").isNotEqualTo(lab.tftpPort());
            send(intruder, new TftpPacket.Ack(1), transferPort);
            assertThat(receive(intruder)).isInstanceOf(TftpPacket.Error.class)
                    .extracting(p -> ((TftpPacket.Error) p).code()).isEqualTo(TftpError.UNKNOWN_TID);
            // The real client is unaffected: it acknowledges block 1 and gets block 2.
            send(client, new TftpPacket.Ack(1), transferPort);
            assertThat(receive(client)).isInstanceOf(TftpPacket.Data.class).extracting(p -> ((TftpPacket.Data) p).block()).isEqualTo(2);
        }
    }

    @Test
    void malformedPacketsAreCountedAndAnsweredOrDroppedAndServiceGoesOn() throws Exception {
        double malformedBefore = lab.counter("netboot.tftp.malformed.packets");
        byte[][] garbage = {
                {},                                          // empty datagram
                {0},                                         // shorter than an opcode
                {0, 1, 'a', 'b', 'c'},                       // RRQ filename without NUL
                {0, 1, 'f', 0, 'o', 'c', 't', 'e', 't'},     // mode without NUL
                {0, 9, 1, 2, 3},                             // unknown opcode
                {0, 1, 'f', 0, 'o', 'c', 't', 'e', 't', 0, 'b', 'l', 'k', 's', 'i', 'z', 'e', 0},  // option without value
                {0, 2},                                      // truncated WRQ
                {0, 1, 0, 'o', 'c', 't', 'e', 't', 0},        // empty filename
        };
        try (DatagramSocket socket = socket()) {
            for (byte[] datagram : garbage) {
                socket.send(new DatagramPacket(datagram, datagram.length, new InetSocketAddress(lab.serverAddress(), lab.tftpPort())));
            }
            int answered = 0;
            try {
                while (true) {
                    TftpPacket reply = receive(socket);
                    assertThat(reply).isInstanceOf(TftpPacket.Error.class);
                    answered++;
                }
            } catch (SocketTimeoutException drained) {
                // no more replies
            }
            assertThat(answered).isPositive();
        }
        assertThat(lab.counter("netboot.tftp.malformed.packets") - malformedBefore).isEqualTo(garbage.length);
        // And the server still serves a real client.
        assertThat(lab.run(T, "curl", "-sS", "-o", "/dev/null", lab.tftpUrl("ok")).exitCode()).isZero();
    }

    private DatagramSocket socket() throws Exception {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(lab.serverAddress(), 0));
        socket.setSoTimeout(2000);
        return socket;
    }

    private void send(DatagramSocket socket, TftpPacket packet, int port) throws Exception {
        ByteBuffer b = TftpCodec.encode(packet);
        socket.send(new DatagramPacket(b.array(), b.remaining(), new InetSocketAddress(lab.serverAddress(), port)));
    }

    private TftpPacket receive(DatagramSocket socket) throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[70000], 70000);
        socket.receive(p);
        return TftpCodec.decode(ByteBuffer.wrap(p.getData(), 0, p.getLength()));
    }
}
