package dev.loriffm.tcp;

/**
 * What a TLS connection negotiated ({@link TcpConnection#tlsInfo()}).
 *
 * @param protocol      the protocol version, e.g. {@code "TLSv1.3"}
 * @param cipher        the cipher suite, e.g. {@code "TLS_AES_256_GCM_SHA384"}
 * @param alpn          the application protocol both sides agreed on, or {@code ""}
 * @param sessionReused whether the session was resumed instead of fully negotiated
 * @param peerSubject   the peer certificate's subject (RFC 2253, e.g. {@code "CN=localhost"}), or
 *                      {@code ""} if the peer sent none (a client without a certificate)
 * @param peerAltNames  the DNS names and IP addresses of the peer certificate's subject alternative names
 * @param peerChain     the subjects of the certificate chain the peer sent, as OpenSSL reports it
 */
public record TlsInfo(String protocol, String cipher, String alpn, boolean sessionReused, String peerSubject,
                      java.util.List<String> peerAltNames, java.util.List<String> peerChain) {
    /** Copies the lists. */
    public TlsInfo {
        peerAltNames = java.util.List.copyOf(peerAltNames);
        peerChain = java.util.List.copyOf(peerChain);
    }
}
