package dev.loriffm.tls;

import dev.loriffm.internal.tls.NativeSslContext;
import dev.loriffm.internal.tls.SslContextAccess;
import dev.loriffm.internal.tls.TlsConfig;

import java.util.List;
import java.util.Optional;

/**
 * TLS configuration shared by many connections: certificate and key, trusted certificates, peer
 * and host name verification, protocol versions, ciphers, ALPN and session resumption, loaded into
 * OpenSSL once. Built by {@link #client()} or {@link #server()}; every input is checked at build
 * time, so a context that exists never fails on a loop for a configuration reason.
 *
 * <p>Secure by default: clients verify the server's certificate chain (against the system trust
 * store unless trusted certificates are given) and its host name; TLS 1.2 is the lowest version;
 * renegotiation and compression are off; a peer that closes without close_notify is reported as
 * truncation, never as a clean end.
 *
 * <p><b>Thread-safe</b> and immutable: connections on any loop may share it. {@link #close()}
 * releases the native context once no connection uses it any more; connections already using it
 * finish normally, new ones cannot start with a closed context.
 */
public final class SslContext implements AutoCloseable {
    static {
        SslContextAccess.register(context -> context.nativeContext);
    }

    private final TlsConfig config;
    private final NativeSslContext nativeContext;

    SslContext(TlsConfig config, NativeSslContext nativeContext) {
        this.config = config;
        this.nativeContext = nativeContext;
    }

    /** {@return a builder for a client context: it verifies the server's certificate and host name} */
    public static SslContextBuilder client() {
        return new SslContextBuilder(true);
    }

    /** {@return a builder for a server context: it needs a certificate chain and key, and by default
     * asks clients for no certificate} */
    public static SslContextBuilder server() {
        return new SslContextBuilder(false);
    }

    /** {@return whether this is a client context} */
    public boolean isClient() {
        return config.client();
    }

    /** {@return whether the peer's certificate chain is verified (for a server: requested from clients)} */
    public boolean verifyPeer() {
        return config.verifyPeer();
    }

    /** {@return whether a server fails a handshake in which the client sends no certificate} */
    public boolean requiresClientCertificate() {
        return config.requirePeerCertificate();
    }

    /** {@return whether a client checks that the server's certificate names the host it connects to} */
    public boolean hostnameVerification() {
        return config.hostnameVerification();
    }

    /** {@return the most intermediate certificates allowed between a peer's certificate and a trust anchor} */
    public int verifyDepth() {
        return config.verifyDepth();
    }

    /** {@return the lowest protocol version allowed} */
    public TlsVersion minimumVersion() {
        return config.minimumVersion();
    }

    /** {@return the highest protocol version allowed} */
    public TlsVersion maximumVersion() {
        return config.maximumVersion();
    }

    /** {@return the cipher list for TLS 1.2 and below, if one was set (else OpenSSL's default)} */
    public Optional<String> ciphers() {
        return Optional.ofNullable(config.ciphers());
    }

    /** {@return the TLS 1.3 cipher suites, if set (else OpenSSL's default)} */
    public Optional<String> cipherSuites() {
        return Optional.ofNullable(config.cipherSuites());
    }

    /** {@return the key exchange groups, if set (else OpenSSL's default)} */
    public Optional<String> groups() {
        return Optional.ofNullable(config.groups());
    }

    /**
     * {@return the ALPN protocols: a client offers them in this order; a server accepts the first
     * of them, in this order, that the client offers} Empty when ALPN is not used.
     */
    public List<String> alpn() {
        return config.alpn() == null ? List.of() : config.alpn();
    }

    /** {@return whether sessions may be resumed (session cache and tickets)} */
    public boolean sessionResumption() {
        return config.sessionResumption();
    }

    /** {@return whether {@link #close()} was called} */
    public boolean isClosed() {
        return nativeContext.isClosed();
    }

    /**
     * Closes the context: no new connection may use it, and its native resources are released as
     * soon as no connection uses it. Idempotent; callable from any thread.
     */
    @Override
    public void close() {
        nativeContext.close();
    }

    @Override
    public String toString() {
        return "SslContext[" + (config.client() ? "client" : "server")
                + ", " + config.minimumVersion() + ".." + config.maximumVersion()
                + (config.verifyPeer() ? ", verifyPeer" : ", no peer verification")
                + (config.requirePeerCertificate() ? ", requireClientCertificate" : "")
                + (config.hostnameVerification() ? ", hostnameVerification" : "")
                + (config.alpn() == null ? "" : ", alpn=" + config.alpn())
                + (config.sessionResumption() ? "" : ", no resumption")
                + (isClosed() ? ", closed" : "") + "]";
    }
}
