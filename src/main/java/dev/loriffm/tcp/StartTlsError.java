package dev.loriffm.tcp;

/** Why {@link TcpConnection#startTls} did not start an upgrade; the connection is unchanged. */
public enum StartTlsError implements StartTlsResult {
    /** The connection is not open (connecting, closing or closed). */
    NOT_CONNECTED,
    /** The connection already uses TLS, or is upgrading. */
    ALREADY_TLS,
    /**
     * Not safe now: the connection is muted, received bytes are still unprocessed, or writes are
     * pending. Bytes received before the upgrade must never be read as if they came over TLS
     * (CVE-2021-23222).
     */
    NOT_READY,
    /** The TLS session could not be created from the context (or the context is of the other side). */
    SESSION_FAILED
}
