package dev.loriffm.tls;

/**
 * A TLS protocol version, for an {@link SslContext}'s lower and upper bound.
 *
 * <p>The default range is {@link #TLS_1_2} to {@link #TLS_1_3}. TLS 1.0 and 1.1 are obsolete
 * (RFC 8996) and only used when chosen explicitly; even then OpenSSL 3 refuses them at its default
 * security level, so a cipher list ending in {@code @SECLEVEL=0} is needed as well.
 */
public enum TlsVersion {
    /** TLS 1.0 (RFC 2246): obsolete, explicit choice only. */
    TLS_1_0("TLSv1"),
    /** TLS 1.1 (RFC 4346): obsolete, explicit choice only. */
    TLS_1_1("TLSv1.1"),
    /** TLS 1.2 (RFC 5246): the default minimum. */
    TLS_1_2("TLSv1.2"),
    /** TLS 1.3 (RFC 8446): the default maximum. */
    TLS_1_3("TLSv1.3");

    private final String protocolName;

    TlsVersion(String protocolName) {
        this.protocolName = protocolName;
    }

    /** {@return the name OpenSSL reports for a connection of this version, e.g. {@code "TLSv1.3"}} */
    public String protocolName() {
        return protocolName;
    }
}
