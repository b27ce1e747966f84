package dev.loriffm.internal.tls;

import dev.loriffm.tls.TlsVersion;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Everything an {@code SslContext} is built from, as the builder collected it: not yet checked
 * (that is {@link ConfigChecks}' job), and never changed afterwards.
 *
 * <p>Immutable apart from the password arrays, which are the builder's copies and never exposed.
 * Thread-safe once built.
 *
 * @param client                 a client context ({@code TLS_client_method}) or a server one
 * @param certificate            the certificate chain and key, or {@code null} for none
 * @param trust                  the trust sources, in the order given (may be empty)
 * @param verifyPeer             verify the peer's certificate (servers: ask clients for one)
 * @param requirePeerCertificate servers: fail a handshake without a client certificate
 * @param hostnameVerification   clients: the server certificate must name the host connected to
 * @param verifyDepth            the most intermediate certificates allowed in a peer's chain
 * @param minimumVersion         the lowest protocol version
 * @param maximumVersion         the highest protocol version
 * @param ciphers                the TLS 1.2-and-below cipher list, or {@code null} for OpenSSL's default
 * @param cipherSuites           the TLS 1.3 cipher suites, or {@code null} for OpenSSL's default
 * @param groups                 the key exchange groups, or {@code null} for OpenSSL's default
 * @param alpn                   the ALPN protocols, or {@code null} for no ALPN
 * @param sessionResumption      session cache and tickets on
 */
public record TlsConfig(boolean client, CertificateSource certificate, List<TrustSource> trust,
                        boolean verifyPeer, boolean requirePeerCertificate, boolean hostnameVerification,
                        int verifyDepth, TlsVersion minimumVersion, TlsVersion maximumVersion,
                        String ciphers, String cipherSuites, String groups, List<String> alpn,
                        boolean sessionResumption) {

    /** @throws NullPointerException if a list or version is null */
    public TlsConfig {
        trust = List.copyOf(trust);
        alpn = alpn == null ? null : List.copyOf(alpn);
        Objects.requireNonNull(minimumVersion);
        Objects.requireNonNull(maximumVersion);
    }

    /**
     * {@return this configuration without its certificate source} A built context keeps only this
     * copy, so that neither the key's password nor a private key given as PEM text outlives the build.
     */
    public TlsConfig withoutCertificate() {
        return new TlsConfig(client, null, trust, verifyPeer, requirePeerCertificate, hostnameVerification,
                verifyDepth, minimumVersion, maximumVersion, ciphers, cipherSuites, groups, alpn, sessionResumption);
    }

    /** Where the certificate chain and private key come from. */
    public sealed interface CertificateSource {
        /** {@return the key's password, or {@code null} if it is not encrypted} */
        char[] password();
    }

    /**
     * PEM files.
     *
     * @param chain    the leaf certificate first, then intermediates
     * @param key      the private key, PKCS#8 (encrypted or not) or traditional
     * @param password the key's password, or {@code null}
     */
    public record CertificateFiles(Path chain, Path key, char[] password) implements CertificateSource { }

    /**
     * PEM text.
     *
     * @param chain    the leaf certificate first, then intermediates
     * @param key      the private key
     * @param password the key's password, or {@code null}
     */
    public record CertificatePem(String chain, String key, char[] password) implements CertificateSource { }

    /** Where trusted certificates come from. */
    public sealed interface TrustSource { }

    /**
     * A PEM file of certificates, or a directory in OpenSSL's hashed layout.
     *
     * @param path the file or directory
     */
    public record TrustLocation(Path path) implements TrustSource { }

    /**
     * PEM text holding one or more certificates.
     *
     * @param pem the certificates
     */
    public record TrustPem(String pem) implements TrustSource { }

    /** The operating system's trust store, as OpenSSL finds it. */
    public record SystemTrust() implements TrustSource { }
}
