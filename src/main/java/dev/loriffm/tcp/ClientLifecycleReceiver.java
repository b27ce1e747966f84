package dev.loriffm.tcp;

/**
 * The callbacks of a client connection ({@link TcpConnection#client}). See
 * {@link LifecycleReceiver} for the threading and failure rules that every callback follows.
 */
public interface ClientLifecycleReceiver extends LifecycleReceiver {

    /**
     * Connection attempts are in flight: called when the first attempts start, and again each time
     * one fails while others remain.
     *
     * @param inflightAttempts the number of attempts still in flight (at least 1)
     */
    default void onConnecting(TcpConnection connection, int inflightAttempts) { }

    /** The connection is established and ready for data. */
    default void onConnected(TcpConnection connection) { }

    /**
     * The connection never became ready; no other callback follows (no {@code onClosed}).
     * Mandatory, so that a failure cannot pass unnoticed.
     */
    void onConnectionFailure(TcpConnection connection, ConnectionFailure reason);
}
