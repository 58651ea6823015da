package dev.netboot.web;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * The one HTTP port of the appliance (Javalin on Jetty): boot files, /metrics, and later the web admin.
 * Each concern registers its routes; this class only owns the server.
 */
public final class HttpService implements AutoCloseable {

    private final Javalin app;

    /** Jetty's own default, kept for callers that do not configure it. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

    public HttpService(InetSocketAddress listen, PrometheusMeterRegistry registry, List<Consumer<JavalinConfig>> routes) {
        this(listen, DEFAULT_IDLE_TIMEOUT, registry, routes);
    }

    /**
     * @param idleTimeout a connection on which nothing moves for this long is closed; this is what drops a
     *                    client that stopped reading a boot file (its pending write fails), as well as idle
     *                    keep-alives and requests that trickle in ({@code http.writeTimeoutSeconds})
     */
    public HttpService(InetSocketAddress listen, Duration idleTimeout, PrometheusMeterRegistry registry, List<Consumer<JavalinConfig>> routes) {
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.addConnector((server, http) -> {
                ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
                connector.setHost(listen.getHostString());
                connector.setPort(listen.getPort());
                connector.setIdleTimeout(idleTimeout.toMillis());
                return connector;
            });
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
