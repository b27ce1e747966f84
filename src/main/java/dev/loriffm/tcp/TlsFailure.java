package dev.loriffm.tcp;

/** Why a {@link TcpConnection#startTls} upgrade failed ({@code onTlsFailure}, then {@code onClosed}). */
public enum TlsFailure {
    /** The peer's certificate did not verify (untrusted, expired, or for another host). */
    AUTH_FAILED,
    /** Any other failure: a protocol error, a closed connection, or {@code close()} during the handshake. */
    GENERAL_ERROR
}
