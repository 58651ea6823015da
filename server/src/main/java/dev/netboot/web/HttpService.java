package dev.netboot.web;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import java.net.InetSocketAddress;
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

    public HttpService(InetSocketAddress listen, PrometheusMeterRegistry registry, List<Consumer<JavalinConfig>> routes) {
        this(listen, Optional.empty(), registry, routes);
    }

    /**
     * @param tls when present, an HTTPS port beside the plain one; the plain port then serves only what
     *            PXE clients and Prometheus fetch (boot files, /metrics) and sends everything else, the
     *            admin and its password first of all, to HTTPS
     */
    public HttpService(InetSocketAddress listen, Optional<Tls> tls, PrometheusMeterRegistry registry, List<Consumer<JavalinConfig>> routes) {
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.host = listen.getHostString();
            config.jetty.port = listen.getPort();
            tls.ifPresent(t -> {
                // Jetty then gets no default connector from Javalin: the plain one is added here too.
                config.jetty.addConnector((server, httpConfig) -> {
                    ServerConnector plain = new ServerConnector(server, new HttpConnectionFactory(httpConfig));
                    plain.setHost(listen.getHostString());
                    plain.setPort(listen.getPort());
                    return plain;
                });
                config.jetty.addConnector((server, httpConfig) -> tlsConnector = tlsConnector(server, httpConfig, t));
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
