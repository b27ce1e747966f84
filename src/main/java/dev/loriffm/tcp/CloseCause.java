package dev.loriffm.tcp;

/**
 * Why a hard close happens, passed as an argument (never stored: lori's {@code _close_cause}
 * trap), so the failure callback can name the right reason.
 */
enum CloseCause {
    /** The application, the peer, or an I/O error. */
    UNSPECIFIED,
    /** The host did not resolve, or no connection attempt could even be started. */
    NOT_RESOLVED,
    /** The TLS session could not be created or its handshake failed. */
    TLS_FAILED,
    /** The TLS handshake failed because the peer's certificate did not verify. */
    TLS_AUTH_FAILED,
    /** The connection timeout elapsed. */
    CONNECT_TIMED_OUT,
    /** The connection timer could not be armed. */
    CONNECT_TIMER_FAILED
}
