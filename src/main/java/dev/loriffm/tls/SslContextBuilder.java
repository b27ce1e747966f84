package dev.loriffm.tls;

import dev.loriffm.internal.tls.NativeSslContexts;
import dev.loriffm.internal.tls.TlsConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Collects the settings of an {@link SslContext}, from {@link SslContext#client()} or
 * {@link SslContext#server()}. Values that come from configuration (files, PEM text, cipher and
 * group lists, ALPN names, versions) are checked by {@link #build()}, which reports a typed
 * {@link SslContextError}; programming errors (a {@code null}, a negative depth, a server-only
 * setting on a client) throw at once.
 *
 * <p><b>Not thread-safe:</b> use a builder from one thread. It can build several contexts; each
 * build reads the settings as they are then. Passwords are copied when set, and kept by the
 * builder (never by the context) until it is garbage.
 */
public final class SslContextBuilder {
    /** The default {@link #verifyDepth(int)}: OpenSSL's own default. */
    public static final int DEFAULT_VERIFY_DEPTH = 100;

    private final boolean client;
    private TlsConfig.CertificateSource certificate;
    private final List<TlsConfig.TrustSource> trust = new ArrayList<>();
    private boolean verifyPeer;
    private boolean requirePeerCertificate;
    private boolean hostnameVerification;
    private int verifyDepth = DEFAULT_VERIFY_DEPTH;
    private TlsVersion minimumVersion = TlsVersion.TLS_1_2;
    private TlsVersion maximumVersion = TlsVersion.TLS_1_3;
    private String ciphers;
    private String cipherSuites;
    private String groups;
    private List<String> alpn;
    private boolean sessionResumption = true;

    SslContextBuilder(boolean client) {
        this.client = client;
        this.verifyPeer = client;
        this.hostnameVerification = client;
    }

    /**
     * Uses a certificate chain and an unencrypted private key from PEM files (replacing an earlier
     * choice). Required for servers; a client sends it when the server asks for a certificate.
     *
     * @param chainPem the leaf certificate first, then any intermediates
     * @param keyPem   the private key (PKCS#8 or traditional)
     * @return this builder
     */
    public SslContextBuilder certificateChain(Path chainPem, Path keyPem) {
        return certificateChain(chainPem, keyPem, null);
    }

    /**
     * Uses a certificate chain and an encrypted private key from PEM files.
     *
     * @param password the key's password (copied), or {@code null} if the key is not encrypted
     * @return this builder
     */
    public SslContextBuilder certificateChain(Path chainPem, Path keyPem, char[] password) {
        certificate = new TlsConfig.CertificateFiles(Objects.requireNonNull(chainPem), Objects.requireNonNull(keyPem),
                copy(password));
        return this;
    }

    /**
     * Uses a certificate chain and an unencrypted private key given as PEM text.
     *
     * @return this builder
     */
    public SslContextBuilder certificateChainPem(String chainPem, String keyPem) {
        return certificateChainPem(chainPem, keyPem, null);
    }

    /**
     * Uses a certificate chain and an encrypted private key given as PEM text.
     *
     * @param password the key's password (copied), or {@code null} if the key is not encrypted
     * @return this builder
     */
    public SslContextBuilder certificateChainPem(String chainPem, String keyPem, char[] password) {
        certificate = new TlsConfig.CertificatePem(Objects.requireNonNull(chainPem), Objects.requireNonNull(keyPem),
                copy(password));
        return this;
    }

    private static char[] copy(char[] password) {
        return password == null ? null : password.clone();
    }

    /**
     * Trusts the certificates of a PEM file, or of a directory in OpenSSL's hashed layout
     * ({@code openssl rehash}); adds to the other trust sources. A client given no trust source
     * trusts the system store.
     *
     * @return this builder
     */
    public SslContextBuilder trustedCertificates(Path pemFileOrDirectory) {
        trust.add(new TlsConfig.TrustLocation(Objects.requireNonNull(pemFileOrDirectory)));
        return this;
    }

    /**
     * Trusts the certificates in PEM text; adds to the other trust sources.
     *
     * @return this builder
     */
    public SslContextBuilder trustedCertificatesPem(String pem) {
        trust.add(new TlsConfig.TrustPem(Objects.requireNonNull(pem)));
        return this;
    }

    /**
     * Trusts the operating system's store, as OpenSSL finds it (its default locations, or the
     * {@code SSL_CERT_FILE} / {@code SSL_CERT_DIR} environment variables); adds to the others.
     *
     * @return this builder
     */
    public SslContextBuilder systemTrustStore() {
        trust.add(new TlsConfig.SystemTrust());
        return this;
    }

    /**
     * Whether to verify the peer's certificate chain. Clients verify by default and can only stop
     * through {@link #insecureNoVerification()}; a server passing {@code true} asks clients for a
     * certificate and verifies one if sent (see {@link #requireClientCertificate()}).
     *
     * @return this builder
     * @throws IllegalArgumentException for {@code false} on a client
     */
    public SslContextBuilder verifyPeer(boolean verify) {
        if (client && !verify) {
            throw new IllegalArgumentException("a client stops verifying only through insecureNoVerification()");
        }
        verifyPeer = verify;
        requirePeerCertificate &= verify;
        return this;
    }

    /**
     * Server: requires a client certificate that verifies; a handshake without one fails. The
     * certificate request names the CAs of trusted PEM files and PEM text (not those of hashed
     * directories or the system store), so that clients can pick a certificate.
     *
     * @return this builder
     * @throws IllegalStateException on a client builder
     */
    public SslContextBuilder requireClientCertificate() {
        if (client) {
            throw new IllegalStateException("requireClientCertificate() is a server setting");
        }
        verifyPeer = true;
        requirePeerCertificate = true;
        return this;
    }

    /**
     * Client: whether the server's certificate must name the host connected to (DNS name or IP
     * address in its subject alternative names). On by default.
     *
     * @return this builder
     * @throws IllegalStateException on a server builder
     */
    public SslContextBuilder hostnameVerification(boolean verify) {
        if (!client) {
            throw new IllegalStateException("hostnameVerification(boolean) is a client setting");
        }
        hostnameVerification = verify;
        return this;
    }

    /**
     * Turns off peer and host name verification. <b>Insecure:</b> the connection is encrypted but
     * the peer is not authenticated, so anyone on the path can impersonate it (a man in the
     * middle). For tests and for peers authenticated some other way only.
     *
     * @return this builder
     */
    public SslContextBuilder insecureNoVerification() {
        verifyPeer = false;
        requirePeerCertificate = false;
        hostnameVerification = false;
        return this;
    }

    /**
     * Sets how many intermediate certificates a peer's chain may have below a trust anchor;
     * default {@value #DEFAULT_VERIFY_DEPTH}.
     *
     * @return this builder
     * @throws IllegalArgumentException if {@code depth} is negative
     */
    public SslContextBuilder verifyDepth(int depth) {
        if (depth < 0) {
            throw new IllegalArgumentException("verify depth must not be negative: " + depth);
        }
        verifyDepth = depth;
        return this;
    }

    /**
     * Sets the lowest protocol version; default {@link TlsVersion#TLS_1_2}.
     *
     * @return this builder
     */
    public SslContextBuilder minimumVersion(TlsVersion version) {
        minimumVersion = Objects.requireNonNull(version);
        return this;
    }

    /**
     * Sets the highest protocol version; default {@link TlsVersion#TLS_1_3}.
     *
     * @return this builder
     */
    public SslContextBuilder maximumVersion(TlsVersion version) {
        maximumVersion = Objects.requireNonNull(version);
        return this;
    }

    /**
     * Sets the cipher list for TLS 1.2 and below, in OpenSSL's syntax
     * (e.g. {@code "ECDHE+AESGCM:ECDHE+CHACHA20"}); default OpenSSL's.
     *
     * @return this builder
     */
    public SslContextBuilder ciphers(String list) {
        ciphers = Objects.requireNonNull(list);
        return this;
    }

    /**
     * Sets the TLS 1.3 cipher suites, colon-separated
     * (e.g. {@code "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"}); default OpenSSL's.
     *
     * @return this builder
     */
    public SslContextBuilder cipherSuites(String list) {
        cipherSuites = Objects.requireNonNull(list);
        return this;
    }

    /**
     * Sets the key exchange groups in preference order (e.g. {@code "X25519:P-256"}); default OpenSSL's.
     *
     * @return this builder
     */
    public SslContextBuilder groups(String list) {
        groups = Objects.requireNonNull(list);
        return this;
    }

    /**
     * Uses ALPN: a client offers {@code protocols} in this order; a server picks the first of
     * {@code protocols} (its preference order) that the client offers, and goes on without ALPN
     * when there is none. Names are 1..255 UTF-8 bytes, e.g. {@code "h2"}, {@code "http/1.1"}.
     *
     * @return this builder
     */
    public SslContextBuilder alpn(List<String> protocols) {
        alpn = List.copyOf(protocols);
        return this;
    }

    /**
     * Whether sessions may be resumed (server: session cache and tickets; client: tickets and
     * sessions offered again). On by default.
     *
     * @return this builder
     */
    public SslContextBuilder sessionResumption(boolean on) {
        sessionResumption = on;
        return this;
    }

    /**
     * Checks every setting and loads it into a new native context, on the calling thread.
     *
     * @return {@link SslContextResult.Built} with a context the caller must close, or the
     *         {@link SslContextError} naming the first problem found
     */
    public SslContextResult build() {
        TlsConfig config = new TlsConfig(client, certificate, trust, verifyPeer, requirePeerCertificate,
                hostnameVerification, verifyDepth, minimumVersion, maximumVersion, ciphers, cipherSuites,
                groups, alpn, sessionResumption);
        return NativeSslContexts.create(config,
                nativeContext -> new SslContext(config.withoutCertificate(), nativeContext));
    }

    /**
     * Like {@link #build()}, for configuration that must work (startup code, tests).
     *
     * @return the new context; the caller must close it
     * @throws SslContextException carrying the {@link SslContextError} if it cannot be built
     */
    public SslContext buildOrThrow() {
        return switch (build()) {
            case SslContextResult.Built(SslContext context) -> context;
            case SslContextError error -> throw new SslContextException(error);
        };
    }
}
