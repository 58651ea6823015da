package dev.netboot.web;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;

/**
 * The one HTTP port of the appliance (Javalin on Jetty): boot files, /metrics, and later the web admin.
 * Each concern registers its routes; this class only owns the server.
 */
public final class HttpService implements AutoCloseable {

    private final Javalin app;

    public HttpService(InetSocketAddress listen, PrometheusMeterRegistry registry, List<Consumer<JavalinConfig>> routes) {
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.host = listen.getHostString();
            config.jetty.port = listen.getPort();
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(registry.scrape()));
            routes.forEach(r -> r.accept(config));
        });
    }

    public HttpService start() {
        app.start();
        return this;
    }

    public int port() { return app.port(); }

    @Override
    public void close() { app.stop(); }
}
