package dev.loriffm.tcp;

/**
 * The callbacks of a server connection ({@link TcpConnection#server}). See
 * {@link LifecycleReceiver} for the threading and failure rules that every callback follows.
 */
public interface ServerLifecycleReceiver extends LifecycleReceiver {

    /** The accepted connection is ready for data. */
    default void onStarted(TcpConnection connection) { }

    /**
     * The accepted connection never became ready (TLS); no other callback follows. Mandatory, so
     * that a failure cannot pass unnoticed.
     */
    void onStartFailure(TcpConnection connection, StartFailure reason);
}
