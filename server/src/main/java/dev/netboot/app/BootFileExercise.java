package dev.netboot.app;

import dev.netboot.tftp.MalformedPacketException;
import dev.netboot.tftp.TftpCodec;
import dev.netboot.tftp.TftpError;
import dev.netboot.tftp.TftpPacket;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fetches boot files from our own server over loopback the way PCs fetch them: TFTP in lockstep
 * (one block per round trip, as GRUB, PXELINUX and shim do) and HTTP GETs (iPXE, UEFI HTTP boot).
 * It exists so the JVM's AOT training run ({@code netboot aot-train}) runs the very code paths a
 * booting PC runs, per block, thousands of times: the profiles the cache keeps are those of a boot.
 * Blocking and simple on purpose: it is the client, not the thing being measured.
 */
public final class BootFileExercise {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private BootFileExercise() {}

    /** Reads {@code file} over TFTP with {@code blksize}, acknowledging each block; returns the bytes received. */
    public static long tftpRead(InetSocketAddress server, String file, int blksize) throws IOException {
        try (DatagramChannel ch = openClient(server)) {
            Map<String, String> options = new LinkedHashMap<>();
            options.put("tsize", "0");
            options.put("blksize", Integer.toString(blksize));
            ch.send(TftpCodec.encode(new TftpPacket.ReadRequest(file, "octet", options)), server);
            ByteBuffer in = ByteBuffer.allocate(blksize + 4);
            int size = 512;   // until the OACK says otherwise (a server may refuse the option)
            int expect = 1;
            long received = 0;
            var stream = ch.socket();
            while (true) {
                in.clear();
                java.net.DatagramPacket p = new java.net.DatagramPacket(in.array(), in.capacity());
                try {
                    stream.receive(p);
                } catch (SocketTimeoutException e) {
                    throw new IOException("no answer from " + server + " for " + file + " after " + received + " bytes", e);
                }
                TftpPacket packet = decode(p);
                InetSocketAddress peer = (InetSocketAddress) p.getSocketAddress();
                switch (packet) {
                    case TftpPacket.OptionAck oack -> {
                        size = Integer.parseInt(oack.options().getOrDefault("blksize", "512"));
                        ch.send(TftpCodec.encode(new TftpPacket.Ack(0)), peer);
                    }
                    case TftpPacket.Data data -> {
                        ch.send(TftpCodec.encode(new TftpPacket.Ack(data.block())), peer);
                        if (data.block() == (expect & 0xFFFF)) {
                            received += data.length();
                            expect++;
                            if (data.length() < size) return received;
                        }
                    }
                    case TftpPacket.Error error -> throw new IOException("TFTP error for " + file + ": " + error.code() + " " + error.message());
                    default -> throw new IOException("unexpected " + packet + " for " + file);
                }
            }
        }
    }

    /**
     * Asks for {@code file}'s size the way UEFI PXE firmware does before it fetches it: a request with tsize,
     * then ERROR 8 in answer to the OACK. Returns the size the server told.
     */
    public static long tftpSizeQuery(InetSocketAddress server, String file) throws IOException {
        try (DatagramChannel ch = openClient(server)) {
            ch.send(TftpCodec.encode(new TftpPacket.ReadRequest(file, "octet", Map.of("tsize", "0"))), server);
            byte[] in = new byte[2048];
            java.net.DatagramPacket p = new java.net.DatagramPacket(in, in.length);
            try {
                ch.socket().receive(p);
            } catch (SocketTimeoutException e) {
                throw new IOException("no answer from " + server + " to a size query for " + file, e);
            }
            TftpPacket packet = decode(p);
            if (!(packet instanceof TftpPacket.OptionAck oack) || !oack.options().containsKey("tsize")) {
                throw new IOException("no tsize in the answer for " + file + ": " + packet);
            }
            ch.send(TftpCodec.encode(new TftpPacket.Error(TftpError.OPTION_REFUSED, "User aborted the transfer")), p.getSocketAddress());
            return Long.parseLong(oack.options().get("tsize"));
        }
    }

    /** A client socket beside the server's address, with the exercise's receive timeout. */
    private static DatagramChannel openClient(InetSocketAddress server) throws IOException {
        DatagramChannel ch = DatagramChannel.open();
        try {
            ch.bind(new InetSocketAddress(server.getAddress(), 0));
            ch.socket().setSoTimeout((int) TIMEOUT.toMillis());
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static TftpPacket decode(java.net.DatagramPacket p) throws IOException {
        try {
            return TftpCodec.decode(ByteBuffer.wrap(p.getData(), 0, p.getLength()));
        } catch (MalformedPacketException e) {
            throw new IOException("malformed packet from " + p.getSocketAddress(), e);
        }
    }

    /** GETs {@code uri} (with {@code range}, e.g. "bytes=0-1023", when not null) and returns the body's length. */
    public static long httpGet(HttpClient client, URI uri, String range) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(TIMEOUT);
        if (range != null) request.header("Range", range);
        HttpResponse<InputStream> response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            if (response.statusCode() / 100 != 2) throw new IOException("HTTP " + response.statusCode() + " for " + uri);
            byte[] buffer = new byte[64 * 1024];
            long n = 0;
            for (int r; (r = body.read(buffer)) >= 0; ) n += r;
            return n;
        }
    }
}
