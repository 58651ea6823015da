package dev.netboot.replication;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * TLS on the replication link (Netty's {@code SslHandler}, the JDK's TLS 1.3): this node's key and
 * certificate, and the peer's certificate pinned by its SHA-256 fingerprint. Both sides present a
 * certificate (the accepting side requires one), so each checks the other's against its pin; there is
 * no CA and no host name check: the pin is the trust. The frames' HMAC with the shared secret stays,
 * so a wrong pin on one side or a stolen certificate without the secret still gets nothing applied.
 *
 * @param peerFingerprint SHA-256 of the peer's certificate, hex with or without colons, any case
 */
public record ReplicationTls(PrivateKey key, List<X509Certificate> chain, String peerFingerprint) {

    public ReplicationTls {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) throw new IllegalArgumentException("no certificate");
        // Empty: nothing is pinned yet (a first start prints this node's fingerprint), so every peer is refused.
        if (!normalize(peerFingerprint).isEmpty() && !normalize(peerFingerprint).matches("[0-9a-f]{64}"))
            throw new IllegalArgumentException("replication.peerFingerprint must be the peer's SHA-256 certificate fingerprint (64 hex digits), got '" + peerFingerprint + "'");
    }

    /** This node's certificate fingerprint, as the peer's {@code replication.peerFingerprint} must name it. */
    public String fingerprint() { return fingerprint(chain.getFirst()); }

    /** SHA-256 over the DER certificate, colon-separated upper-case hex (as {@code openssl x509 -fingerprint -sha256}). */
    public static String fingerprint(X509Certificate certificate) {
        try {
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static String normalize(String fingerprint) {
        return fingerprint == null ? "" : fingerprint.replace(":", "").strip().toLowerCase(Locale.ROOT);
    }

    /** The accepting side: presents our certificate, requires the peer's. */
    SslContext server() throws SSLException {
        return SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new)).clientAuth(ClientAuth.REQUIRE)
                .trustManager(new Pinned()).protocols("TLSv1.3").build();
    }

    /** The dialling side: presents our certificate too. */
    SslContext client() throws SSLException {
        return SslContextBuilder.forClient().keyManager(key, chain.toArray(X509Certificate[]::new))
                .trustManager(new Pinned()).protocols("TLSv1.3").build();
    }

    /** Why a peer's certificate is refused, or null when it is the pinned one. */
    String refusal(X509Certificate[] peerChain) {
        if (peerChain == null || peerChain.length == 0) return "the peer presented no certificate";
        String got = fingerprint(peerChain[0]);
        if (normalize(peerFingerprint).isEmpty())
            return "replication.peerFingerprint is not set: the peer presents " + got + "; set it there if that is the peer's (its log prints its own at start)";
        if (normalize(got).equals(normalize(peerFingerprint))) return null;
        return "the peer's certificate has SHA-256 fingerprint " + got + ", not replication.peerFingerprint " + peerFingerprint;
    }

    /** Trusts exactly the pinned certificate, whichever side it is on. */
    private final class Pinned extends X509ExtendedTrustManager {
        private void check(X509Certificate[] chain) throws CertificateException {
            String why = refusal(chain);
            if (why != null) throw new CertificateException(why);
        }

        @Override public void checkClientTrusted(X509Certificate[] c, String a) throws CertificateException { check(c); }
        @Override public void checkServerTrusted(X509Certificate[] c, String a) throws CertificateException { check(c); }
        @Override public void checkClientTrusted(X509Certificate[] c, String a, Socket s) throws CertificateException { check(c); }
        @Override public void checkServerTrusted(X509Certificate[] c, String a, Socket s) throws CertificateException { check(c); }
        @Override public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) throws CertificateException { check(c); }
        @Override public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) throws CertificateException { check(c); }
        @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
    }
}
