package dev.netboot.web;

import dev.netboot.files.FileProvider;
import dev.netboot.files.FileRequest;
import dev.netboot.files.Lookup;
import dev.netboot.files.ServedFile;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The boot files of the {@link FileProvider} over HTTP under {@value #PREFIX}: what iPXE fetches
 * kernels and initrds with (far faster than TFTP). GET and HEAD, Content-Length, one byte range.
 */
public final class BootFileRoutes {

    public static final String PREFIX = "/boot/";
    private static final Logger log = LoggerFactory.getLogger(BootFileRoutes.class);

    private final FileProvider files;
    private final Counter served;
    private final Counter refused;
    private final Counter bytes;

    public BootFileRoutes(FileProvider files, MeterRegistry registry) {
        this.files = files;
        this.served = Counter.builder("netboot.http.files").tag("result", "served").register(registry);
        this.refused = Counter.builder("netboot.http.files").tag("result", "refused").register(registry);
        this.bytes = Counter.builder("netboot.http.sent").baseUnit("bytes").register(registry);
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
        switch (files.open(new FileRequest(path, client, "http"))) {
            case Lookup.NotFound notFound -> {
                refused.increment();
                log.warn("HTTP: no '{}' for {}: {}", path, client, notFound.reason());
                ctx.status(HttpStatus.NOT_FOUND).contentType("text/plain; charset=utf-8").result("not found\n");
            }
            case Lookup.Refused r -> {
                refused.increment();
                log.warn("HTTP: refused '{}' to {}: {}", path, client, r.reason());
                // The reason (it may name a path on this host) is for the log, not for the client.
                ctx.status(HttpStatus.FORBIDDEN).contentType("text/plain; charset=utf-8").result("refused\n");
            }
            case Lookup.Found found -> {
                try (ServedFile file = found.file()) {
                    send(ctx, file, found.name(), withBody);
                }
                served.increment();
                log.info("HTTP: served {} to {} ({} {})", found.name(), client, ctx.method(), ctx.status());
            }
        }
    }

    private void send(Context ctx, ServedFile file, String name, boolean withBody) throws IOException {
        long size = file.size();
        ctx.header("Accept-Ranges", "bytes");
        ctx.contentType(ContentTypes.of(name));
        if (ContentTypes.rendersInABrowser(name)) ctx.header("Content-Disposition", "attachment");
        ByteRange range;
        switch (ByteRange.parse(ctx.header("Range"), size)) {
            case ByteRange.Unsatisfiable u -> {
                ctx.status(HttpStatus.RANGE_NOT_SATISFIABLE).header("Content-Range", "bytes */" + size);
                return;
            }
            case ByteRange.Partial p -> {
                range = p.range();
                ctx.status(HttpStatus.PARTIAL_CONTENT).header("Content-Range", "bytes " + range.first() + "-" + range.last() + "/" + size);
            }
            case ByteRange.Whole w -> range = new ByteRange(0, size - 1);
        }
        ctx.header("Content-Length", Long.toString(range.length()));
        if (!withBody || range.length() <= 0) return;
        OutputStream out = ctx.res().getOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        for (long position = range.first(); position <= range.last(); ) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), range.last() - position + 1));
            int n = file.read(position, buffer);
            if (n <= 0) throw new IOException(name + " ended early at byte " + position);
            out.write(buffer.array(), 0, n);
            position += n;
            bytes.increment(n);
        }
        out.flush();
    }
}
