package dev.netboot.web;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;

import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The one HTTP port of the appliance (Javalin on Jetty): boot files, /metrics, and later the web admin.
 * Each concern registers its routes; this class only owns the server.
 */
public final class HttpService implements AutoCloseable {

    private final Javalin app;
    private volatile ServerConnector tlsConnector;

    /** The HTTPS port: where it listens and what it presents. */
    public record Tls(InetSocketAddress listen, TlsIdentity identity) {}

    /** Jetty's own default, kept for callers that do not configure it. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

    public HttpService(InetSocketAddress listen, PrometheusMeterRegistry registry, List<Consumer<JavalinConfig>> routes) {
        this(listen, DEFAULT_IDLE_TIMEOUT, Optional.empty(), registry, routes);
    }

    /**
     * @param idleTimeout a connection on which nothing moves for this long is closed; this is what drops a
     *                    client that stopped reading a boot file (its pending write fails), as well as idle
     *                    keep-alives and requests that trickle in ({@code http.writeTimeoutSeconds})
     * @param tls         when present, an HTTPS port beside the plain one; the plain port then serves only what
     *                    PXE clients and Prometheus fetch (boot files, /metrics) and sends everything else, the
     *                    admin and its password first of all, to HTTPS
     */
    public HttpService(InetSocketAddress listen, Duration idleTimeout, Optional<Tls> tls, PrometheusMeterRegistry registry,
                       List<Consumer<JavalinConfig>> routes) {
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.addConnector((server, http) -> {
                ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
                connector.setHost(listen.getHostString());
                connector.setPort(listen.getPort());
                connector.setIdleTimeout(idleTimeout.toMillis());
                return connector;
            });
            tls.ifPresent(t -> {
                config.jetty.addConnector((server, httpConfig) -> {
                    tlsConnector = tlsConnector(server, httpConfig, t);
                    tlsConnector.setIdleTimeout(idleTimeout.toMillis());
                    return tlsConnector;
                });
                config.routes.before(ctx -> {
                    if (ctx.req().isSecure() || ctx.path().startsWith(BootFileRoutes.PREFIX) || ctx.path().equals("/metrics")) return;
                    String host = java.net.URI.create("http://" + ctx.host()).getHost();
                    String target = "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + tlsPort() + ctx.path()
                            + (ctx.queryString() == null ? "" : "?" + ctx.queryString());
                    ctx.header("Location", target).status(308).result("use " + target + "\n");
                    ctx.skipRemainingHandlers();
                });
            });
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(registry.scrape()));
            routes.forEach(r -> r.accept(config));
        });
    }

    private static ServerConnector tlsConnector(Server server, HttpConfiguration plain, Tls tls) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(tls.identity().keyStore());
        ssl.setKeyStorePassword(new String(tls.identity().password()));
        ssl.setCertAlias(TlsIdentity.ALIAS);
        HttpConfiguration https = new HttpConfiguration(plain);
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false); // clients reach the appliance by IP address as often as by name
        https.addCustomizer(secure);
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
        connector.setHost(tls.listen().getHostString());
        connector.setPort(tls.listen().getPort());
        return connector;
    }

    public HttpService start() {
        app.start();
        return this;
    }

    /** The plain HTTP port (Javalin's own port() may name the HTTPS connector once there are two). */
    public int port() {
        for (var c : app.jettyServer().server().getConnectors()) {
            if (c instanceof ServerConnector sc && sc != tlsConnector) return sc.getLocalPort();
        }
        return app.port();
    }

    /** The HTTPS port (the one bound when 0 was asked for), or -1 without HTTPS. */
    public int tlsPort() {
        ServerConnector c = tlsConnector;
        return c == null ? -1 : c.getLocalPort();
    }

    @Override
    public void close() { app.stop(); }
}
