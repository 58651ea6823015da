package dev.netboot.web;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The attacker of issue 16 point 8, as its own program so it runs inside a client namespace
 * ({@code ip netns exec ... java -cp test-classes dev.netboot.web.SlowReaders}): from each source address
 * it opens connections, asks for a large boot file and then reads nothing. A tiny receive buffer keeps
 * the TCP window shut, so the server's writes stall at once. JDK only, nothing from the project.
 *
 * <p>Arguments: {@code host port path connectionsPerSource source...}. Prints {@code sent N} once every
 * request is out, then obeys stdin: {@code check} reads what each connection still gives (with a short
 * timeout) and prints {@code closed C open O}: closed = the server ended it (EOF or reset), open = it
 * still waits for us to read. End of stdin closes everything and exits.
 */
public final class SlowReaders {

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        String path = args[2];
        int perSource = Integer.parseInt(args[3]);
        List<Socket> sockets = new ArrayList<>();
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: slow-reader\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        for (int i = 4; i < args.length; i++) {
            for (int k = 0; k < perSource; k++) {
                Socket s = new Socket();
                s.setReceiveBufferSize(4096); // before connect, so the advertised window stays small
                s.bind(new InetSocketAddress(InetAddress.getByName(args[i]), 0));
                s.connect(new InetSocketAddress(host, port), 10_000);
                s.getOutputStream().write(request);
                s.getOutputStream().flush();
                sockets.add(s);
            }
        }
        System.out.println("sent " + sockets.size());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.equals("check")) {
                int closed = 0, open = 0;
                byte[] sink = new byte[64 * 1024];
                for (Socket s : sockets) {
                    if (endedByServer(s, sink)) closed++;
                    else open++;
                }
                System.out.println("closed " + closed + " open " + open);
                System.out.flush();
            }
        }
        for (Socket s : sockets) s.close();
    }

    /** Reads what is left; true if the stream then ends (or was reset), false if it stays open. */
    private static boolean endedByServer(Socket s, byte[] sink) throws IOException {
        s.setSoTimeout(200);
        try {
            // A connection the server closed gives what was still queued for us, then ends; one it still serves
            // goes on until the file is done and then falls silent (keep-alive): the timeout.
            while (s.getInputStream().read(sink) >= 0) {
                // drain
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset by the server
        }
    }
}
