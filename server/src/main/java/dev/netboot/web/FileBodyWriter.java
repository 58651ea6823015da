package dev.netboot.web;

import dev.netboot.files.ServedFile;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

/**
 * Writes one byte range of a {@link ServedFile} as a response body with the servlet's non-blocking
 * output ({@link WriteListener}): a chunk is written only when the socket can take it, and while a
 * client reads slowly, or not at all, no thread waits for it. Blocking writes pinned one of Jetty's
 * 250 threads per slow reader, so 300 readers that stopped reading took every thread and the admin
 * and /metrics with them. A reader that takes nothing is dropped by the connector's idle timeout
 * ({@code http.writeTimeoutSeconds}), which fails the pending write and lands in {@link #onError}.
 *
 * <p>Chosen over a separate thread pool for the admin (the boot files would still starve each other)
 * and over virtual threads (the same blocking code, but each stalled reader still holds a thread and
 * its stack): the servlet API does this without any thread at all.
 */
final class FileBodyWriter implements WriteListener {

    /** Big enough for full-speed transfers on a LAN, small enough that 1000 stalled downloads hold 32 MiB. */
    static final int CHUNK = 32 * 1024;

    /** How a body ended: every byte handed to the connection, or the reason it stopped and the bytes sent until then. */
    record Outcome(long sent, Throwable failure) {
        boolean complete() { return failure == null; }
    }

    private final ServletOutputStream out;
    private final ServedFile file;
    private final String name;
    private final long first;
    private final long last;
    private final LongConsumer onSent;
    private final ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
    private final CompletableFuture<Outcome> done = new CompletableFuture<>();
    private long position;

    private FileBodyWriter(ServletOutputStream out, ServedFile file, String name, ByteRange range, LongConsumer onSent) {
        this.out = out;
        this.file = file;
        this.name = name;
        this.first = range.first();
        this.position = first;
        this.last = range.last();
        this.onSent = onSent;
    }

    /**
     * Starts writing; the request must be in async mode (Javalin's {@code ctx.future}). The future completes
     * (never exceptionally) once the last byte was taken or the transfer failed; the caller then closes the file.
     */
    static CompletableFuture<Outcome> start(ServletOutputStream out, ServedFile file, String name, ByteRange range, LongConsumer onSent) {
        FileBodyWriter writer = new FileBodyWriter(out, file, name, range, onSent);
        out.setWriteListener(writer); // the container calls onWritePossible as soon as the socket can take bytes
        return writer.done;
    }

    @Override
    public void onWritePossible() {
        try {
            // isReady() is false while the previous chunk is still waiting for the socket: then this method
            // returns and the container calls it again when the client has read enough.
            while (out.isReady()) {
                if (position > last) {
                    done.complete(new Outcome(sent(), null));
                    return;
                }
                buffer.clear().limit((int) Math.min(buffer.capacity(), last - position + 1));
                int n = file.read(position, buffer);
                if (n <= 0) throw new IOException(name + " ended early at byte " + position);
                out.write(buffer.array(), 0, n);
                position += n;
                onSent.accept(n);
            }
        } catch (IOException | RuntimeException e) {
            done.complete(new Outcome(sent(), e));
        }
    }

    @Override
    public void onError(Throwable failure) {
        done.complete(new Outcome(sent(), failure));
    }

    private long sent() { return position - first; }
}
