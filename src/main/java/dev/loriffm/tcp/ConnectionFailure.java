package dev.loriffm.tcp;

/** Why a client connection never became connected ({@code onConnectionFailure}). */
public enum ConnectionFailure {
    /** Name resolution failed, or no connection attempt could even be started (lori's rule). */
    DNS,
    /**
     * Every TCP connection attempt failed, or the application closed the connection while it was
     * connecting (also while the name was still resolving).
     */
    TCP,
    /** The TLS handshake failed before the connection was ready. */
    SSL,
    /** The connection timeout elapsed before the connection was ready. */
    TIMEOUT,
    /** The connection timer could not be armed. */
    TIMER_ERROR
}
