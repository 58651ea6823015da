package dev.netboot.web;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The key and certificate the HTTPS port presents: the operator's PEM files, or a self-signed one
 * generated once into the data directory (key mode 0600) whose SHA-256 fingerprint the log prints,
 * so a browser's warning can be checked against it, or {@code curl --cacert} pinned to it.
 * PEM reading and certificate building are BouncyCastle's; keys and signatures the JDK's own.
 *
 * @param keyStore an in-memory PKCS#12 store holding the key under {@link #ALIAS}
 * @param password that store's (random) password
 * @param fingerprint SHA-256 of the leaf certificate, colon-separated hex
 * @param source where the key and certificate came from, for the log
 */
public record TlsIdentity(KeyStore keyStore, char[] password, String fingerprint, String source) {

    public static final String ALIAS = "netboot";
    static final String CERT_FILE = "https-cert.pem";
    static final String KEY_FILE = "https-key.pem";

    /** The operator's certificate (chain, leaf first) and private key, both PEM. */
    public static TlsIdentity fromPem(Path certificate, Path key) throws IOException {
        List<X509Certificate> chain = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(certificate, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(r)) {
            for (Object o; (o = pem.readObject()) != null; ) {
                if (o instanceof X509CertificateHolder h) chain.add(new JcaX509CertificateConverter().getCertificate(h));
            }
        } catch (GeneralSecurityException e) {
            throw new IOException(certificate + ": not a readable certificate: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) throw new IOException(certificate + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        PrivateKey privateKey;
        try (Reader r = Files.newBufferedReader(key, StandardCharsets.US_ASCII); PEMParser pem = new PEMParser(r)) {
            Object o = pem.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            privateKey = switch (o) {
                case PEMKeyPair pair -> converter.getPrivateKey(pair.getPrivateKeyInfo()); // its public half may be absent
                case PrivateKeyInfo info -> converter.getPrivateKey(info);
                case null, default -> throw new IOException(key + " holds no unencrypted PEM private key (BEGIN PRIVATE KEY, EC or RSA)");
            };
        }
        return of(privateKey, chain, certificate + " and " + key);
    }

    /**
     * The generated identity under {@code dir}: made on first use (EC P-256, ten years, this host's
     * names and addresses as subject alternative names), read back afterwards.
     */
    public static TlsIdentity selfSigned(Path dir) throws IOException {
        return selfSigned(dir.resolve(CERT_FILE), dir.resolve(KEY_FILE));
    }

    /** The same under other file names (e.g. the replication link's own certificate). */
    public static TlsIdentity selfSigned(Path cert, Path key) throws IOException {
        if (!Files.exists(cert) || !Files.exists(key)) generate(cert, key);
        TlsIdentity loaded = fromPem(cert, key);
        return new TlsIdentity(loaded.keyStore, loaded.password, loaded.fingerprint, "self-signed " + cert);
    }

    private static void generate(Path cert, Path key) throws IOException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = generator.generateKeyPair();
            String host = InetAddress.getLocalHost().getHostName();
            X500Name subject = new X500Name("CN=" + host.replaceAll("[,=+<>#;\"\\\\]", "_") + ",O=netboot self-signed");
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, new SecureRandom()),
                    Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(3650))), subject, pair.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names(host).toArray(GeneralName[]::new)));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            X509CertificateHolder holder = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
            Files.createDirectories(cert.getParent());
            Path tmpKey = Files.createTempFile(key.getParent(), ".https-key", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmpKey, pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null)), StandardCharsets.US_ASCII);
            Files.move(tmpKey, key, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(cert, pem(holder), StandardCharsets.US_ASCII);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot generate the HTTPS key and certificate: " + e.getMessage(), e);
        }
    }

    /** localhost, this host's name, and every address of every interface that is up. */
    private static List<GeneralName> names(String host) throws IOException {
        Set<String> dns = new LinkedHashSet<>(List.of("localhost", host));
        Set<String> ips = new LinkedHashSet<>(List.of("127.0.0.1", "::1"));
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nif.isUp()) continue;
            for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                if (!a.isLinkLocalAddress()) ips.add(a.getHostAddress().replaceFirst("%.*$", ""));
            }
        }
        List<GeneralName> names = new ArrayList<>();
        dns.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
        ips.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
        return names;
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }

    private static TlsIdentity of(PrivateKey key, List<X509Certificate> chain, String source) throws IOException {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            byte[] random = new byte[18];
            new SecureRandom().nextBytes(random);
            char[] password = java.util.Base64.getEncoder().encodeToString(random).toCharArray();
            store.setKeyEntry(ALIAS, key, password, chain.toArray(Certificate[]::new));
            return new TlsIdentity(store, password, fingerprint(chain.getFirst()), source);
        } catch (GeneralSecurityException e) {
            throw new IOException("the key in " + source + " does not go with its certificate: " + e.getMessage(), e);
        }
    }

    /** SHA-256 over the DER certificate, as browsers and {@code openssl x509 -fingerprint -sha256} show it. */
    public static String fingerprint(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
