package dev.loriffm.tcp;

/** Why {@link TcpConnection#setTimer} created no timer. */
public enum SetTimerError implements SetTimerResult {
    /** The connection is not open (connecting, in its TLS handshake, closing or closed). */
    NOT_OPEN,
    /** A user timer is already active: cancel it first (no token is ever silently replaced). */
    ALREADY_ACTIVE
}
