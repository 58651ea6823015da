package dev.netboot.web;

import dev.netboot.files.FileProvider;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.files.ServedFile;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * The boot files of the {@link FileProvider} over HTTP under {@value #PREFIX}: what iPXE fetches
 * kernels and initrds with (far faster than TFTP). GET and HEAD, Content-Length, one byte range.
 * Bodies are written without holding a thread ({@link FileBodyWriter}), and a client gets at most
 * {@link TransferSlots} downloads at once, so slow or stalled readers cannot take the port from the
 * admin, /metrics and the other clients.
 */
public final class BootFileRoutes {

    public static final String PREFIX = FileRequest.HTTP_PREFIX;
    private static final Logger log = LoggerFactory.getLogger(BootFileRoutes.class);
    /** What a refused client is told to wait; a PC's boot loader retries or its user does. */
    static final int RETRY_AFTER_SECONDS = 5;

    private final FileProvider files;
    private final Counter served;
    private final Counter refused;
    private final Counter busy;
    private final Counter aborted;
    private final Counter bytes;
    private final TransferSlots slots;

    public BootFileRoutes(FileProvider files, MeterRegistry registry, TransferSlots slots) {
        this.files = files;
        this.slots = slots;
        this.served = Counter.builder("netboot.http.files").tag("result", "served").register(registry);
        this.refused = Counter.builder("netboot.http.files").tag("result", "refused").register(registry);
        this.busy = Counter.builder("netboot.http.files").tag("result", "busy").register(registry);
        this.aborted = Counter.builder("netboot.http.files").tag("result", "aborted").register(registry);
        this.bytes = Counter.builder("netboot.http.sent").baseUnit("bytes").register(registry);
        Gauge.builder("netboot.http.transfers.active", slots, TransferSlots::active)
                .description("Boot-file downloads running").register(registry);
    }

    public void register(JavalinConfig config) {
        config.routes.get(PREFIX + "<path>", ctx -> serve(ctx, true));
        config.routes.head(PREFIX + "<path>", ctx -> serve(ctx, false));
    }

    private void serve(Context ctx, boolean withBody) throws IOException {
        String path = ctx.pathParam("path");
        // Boot files share the admin's origin: whatever a file holds, a browser must not run it there
        // (an uploaded page.html would otherwise script the admin with the operator's login).
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Content-Security-Policy", "sandbox; default-src 'none'");
        InetSocketAddress client = new InetSocketAddress(ctx.req().getRemoteAddr(), ctx.req().getRemotePort());
        // Only GET holds a slot (HEAD sends no body); taken before the file is opened, which may build an initrd.
        TransferSlots.Slot slot = null;
        if (withBody) {
            switch (slots.take(client.getAddress())) {
                case TransferSlots.Granted g -> slot = g.slot();
                case TransferSlots.Busy b -> {
                    busy.increment();
                    if (b.firstTime()) log.warn("HTTP: refused '{}' to {} with 503 (and again, silently, until one finishes): {}", path, client, b.reason());
                    ctx.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", Integer.toString(RETRY_AFTER_SECONDS))
                            .result("busy: " + b.reason() + "\n");
                    return;
                }
            }
        }
        try {
            serve(ctx, path, client, withBody, slot);
        } catch (IOException | RuntimeException e) {
            if (slot != null) slot.close();
            throw e;
        }
    }

    private void serve(Context ctx, String path, InetSocketAddress client, boolean withBody, TransferSlots.Slot slot) throws IOException {
        switch (files.open(new FileRequest(path, client, "http", new InetSocketAddress(ctx.req().getLocalAddr(), ctx.req().getLocalPort())))) {
            case Lookup.NotFound notFound -> {
                if (slot != null) slot.close();
                refused.increment();
                log.warn("HTTP: no '{}' for {}: {}", path, client, notFound.reason());
                ctx.status(HttpStatus.NOT_FOUND).contentType("text/plain; charset=utf-8").result("not found\n");
            }
            case Lookup.Refused r -> {
                if (slot != null) slot.close();
                refused.increment();
                log.warn("HTTP: refused '{}' to {}: {}", path, client, r.reason());
                // The reason (it may name a path on this host) is for the log, not for the client.
                ctx.status(HttpStatus.FORBIDDEN).contentType("text/plain; charset=utf-8").result("refused\n");
            }
            case Lookup.Found found -> {
                ServedFile file = found.file();
                ByteRange body;
                try {
                    body = send(ctx, file, found.name(), withBody);
                } catch (IOException | RuntimeException e) {
                    file.close();
                    throw e;
                }
                if (body == null) {
                    file.close();
                    if (slot != null) slot.close();
                    served.increment();
                    log.info("HTTP: served {} to {} ({} {})", found.name(), client, ctx.method(), ctx.status());
                    return;
                }
                // Javalin completes the response when this future does; no thread waits in between.
                ctx.future(() -> sendBody(ctx, file, found.name(), body, client, slot));
            }
        }
    }

    /** Starts the body; the file and the slot are released when it ends, however it ends. */
    private CompletableFuture<FileBodyWriter.Outcome> sendBody(Context ctx, ServedFile file, String name, ByteRange body,
                                                             InetSocketAddress client, TransferSlots.Slot slot) {
        HttpStatus status = ctx.status();
        CompletableFuture<FileBodyWriter.Outcome> writing;
        try {
            writing = FileBodyWriter.start(ctx.res().getOutputStream(), file, name, body, bytes::increment);
        } catch (IOException | RuntimeException e) {
            writing = CompletableFuture.completedFuture(new FileBodyWriter.Outcome(0, e));
        }
        return writing.whenComplete((outcome, unexpected) -> {
            file.close();
            if (slot != null) slot.close();
            if (outcome != null && outcome.complete()) {
                served.increment();
                log.info("HTTP: served {} to {} ({} {})", name, client, ctx.method(), status);
            } else {
                aborted.increment();
                Throwable why = outcome != null ? outcome.failure() : unexpected;
                log.info("HTTP: {} to {} stopped after {} of {} bytes: {}", name, client,
                        outcome != null ? outcome.sent() : 0, body.length(), describe(why));
            }
        });
    }

    /** "idle for 30000 ms" or "Connection reset by peer" rather than a class name and a stack trace: a client going away is normal. */
    private static String describe(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String message = root.getMessage();
        String kind = root instanceof java.util.concurrent.TimeoutException ? "took nothing for too long (http.writeTimeoutSeconds)"
                : "the connection ended";
        return message == null || message.isBlank() ? kind : kind + " (" + message + ")";
    }

    /** Writes the headers of {@code file}; returns the byte range to send as the body, or null when there is none. */
    private ByteRange send(Context ctx, ServedFile file, String name, boolean withBody) throws IOException {
        long size = file.size();
        ctx.header("Accept-Ranges", "bytes");
        ctx.contentType(ContentTypes.of(name));
        if (ContentTypes.rendersInABrowser(name)) ctx.header("Content-Disposition", "attachment");
        ByteRange range;
        switch (ByteRange.parse(ctx.header("Range"), size)) {
            case ByteRange.Unsatisfiable u -> {
                ctx.status(HttpStatus.RANGE_NOT_SATISFIABLE).header("Content-Range", "bytes */" + size);
                return null;
            }
            case ByteRange.Partial p -> {
                range = p.range();
                ctx.status(HttpStatus.PARTIAL_CONTENT).header("Content-Range", "bytes " + range.first() + "-" + range.last() + "/" + size);
            }
            case ByteRange.Whole w -> range = new ByteRange(0, size - 1);
        }
        ctx.header("Content-Length", Long.toString(range.length()));
        if (!withBody || range.length() <= 0) return null;
        return range;
    }
}
