package dev.netboot.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@link CommandRunner} that runs argv inside a qemu guest, through the command server its init
 * runs on the second serial port (see {@link LvmGuest#COMMAND_SERVER}).
 *
 * <p>Request, one line: {@code ID SECONDS BASE64}, the base64 of the arguments joined by the unit
 * separator 0x1f (the guest splits on it with IFS, so arguments keep spaces, quotes and newlines and
 * nothing is parsed as shell syntax). Answer: {@code @@NB-OUT ID}, base64 stdout, {@code @@NB-ERR ID},
 * base64 stderr, {@code @@NB-RC ID CODE}. Lines of other ids (a reply that came after its timeout)
 * are skipped.
 */
public final class GuestCommandRunner implements CommandRunner, AutoCloseable {

    static final String READY = "@@NB-READY";
    private static final String EOF = "@@NB-EOF";

    private final SocketChannel channel;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private int nextId = 1;

    GuestCommandRunner(SocketChannel channel) {
        this.channel = channel;
        Thread.ofVirtual().name("guest-serial-reader").start(this::readLines);
    }

    private void readLines() {
        StringBuilder line = new StringBuilder();
        try (InputStream in = Channels.newInputStream(channel)) {
            int b;
            while ((b = in.read()) >= 0) {
                if (b == '\n') {
                    lines.add(line.toString());
                    line.setLength(0);
                } else if (b != '\r') {
                    line.append((char) b);
                }
            }
        } catch (IOException e) {
            // closed: the EOF marker below tells a waiting caller
        }
        lines.add(EOF);
    }

    /** Waits until the guest's command server has announced itself. */
    void awaitReady(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = poll(deadline, "the guest's command server to start");
            if (line.equals(READY)) return;
        }
    }

    @Override
    public synchronized Result execute(List<String> argv, Duration timeout) throws IOException {
        if (argv.isEmpty()) throw new IllegalArgumentException("empty command");
        for (String a : argv)
            if (a.indexOf('\u001f') >= 0 || a.indexOf('\0') >= 0) throw new IllegalArgumentException("argument with 0x1f or NUL: " + a);
        int id = nextId++;
        long seconds = Math.max(1, (timeout.toMillis() + 999) / 1000);
        String payload = Base64.getEncoder().encodeToString(String.join("\u001f", argv).getBytes(StandardCharsets.UTF_8));
        ByteBuffer request = ByteBuffer.wrap((id + " " + seconds + " " + payload + "\n").getBytes(StandardCharsets.US_ASCII));
        while (request.hasRemaining()) channel.write(request);

        // The guest kills the command after `seconds`; allow it time to report that too.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds + 15);
        String what = String.join(" ", argv);
        StringBuilder out = new StringBuilder(), err = new StringBuilder();
        StringBuilder current = null;
        while (true) {
            String line = poll(deadline, what);
            if (line.equals("@@NB-OUT " + id)) current = out;
            else if (line.equals("@@NB-ERR " + id)) current = err;
            else if (line.startsWith("@@NB-RC " + id + " ")) {
                int rc = Integer.parseInt(line.substring(("@@NB-RC " + id + " ").length()).trim());
                return new Result(rc, decode(out), decode(err));
            } else if (line.startsWith("@@")) current = null; // another id's reply
            else if (current != null) current.append(line);
        }
    }

    private String poll(long deadlineNanos, String what) throws IOException {
        try {
            String line = lines.poll(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) throw new IOException("no answer from the guest in time for: " + what);
            if (line.equals(EOF)) {
                lines.add(EOF);
                throw new IOException("the guest's serial port closed while waiting for: " + what);
            }
            return line;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for: " + what, e);
        }
    }

    private static String decode(StringBuilder base64) {
        return new String(Base64.getMimeDecoder().decode(base64.toString()), StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
