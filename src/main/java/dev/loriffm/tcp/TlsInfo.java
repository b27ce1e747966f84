package dev.loriffm.tcp;

/**
 * What a TLS connection negotiated ({@link TcpConnection#tlsInfo()}).
 *
 * @param protocol      the protocol version, e.g. {@code "TLSv1.3"}
 * @param cipher        the cipher suite, e.g. {@code "TLS_AES_256_GCM_SHA384"}
 * @param alpn          the application protocol both sides agreed on, or {@code ""}
 * @param sessionReused whether the session was resumed instead of fully negotiated
 */
public record TlsInfo(String protocol, String cipher, String alpn, boolean sessionReused) { }
