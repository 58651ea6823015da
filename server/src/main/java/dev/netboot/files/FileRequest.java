package dev.netboot.files;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One request for a boot file, with who asked and how, so a provider can answer per client.
 *
 * @param path     the path exactly as the client sent it
 * @param client   the client's address
 * @param protocol "tftp" or "http"
 * @param server   this server's address and port the request came in on (HTTP: what the client connected to), null when unknown
 */
public record FileRequest(String path, InetSocketAddress client, String protocol, InetSocketAddress server) {

    public FileRequest(String path, InetSocketAddress client, String protocol) {
        this(path, client, protocol, null);
    }

    /** Where HTTP serves the boot root ({@code http://server:port/boot/...}); TFTP serves it at its top. */
    public static final String HTTP_PREFIX = "/boot/";

    public FileRequest {
        Objects.requireNonNull(path);
        Objects.requireNonNull(protocol);
    }
}
