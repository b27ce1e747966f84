package dev.loriffm.tcp;

/**
 * The callbacks of a {@link TcpListener}. They run on the listener's event loop thread, never
 * concurrently. A callback that throws is logged; a throwing {@link #onAccept} rejects that
 * connection and the listener keeps accepting.
 */
public interface ListenerReceiver {

    /** The listener is bound and accepting; {@link TcpListener#localAddress()} is valid. */
    default void onListening(TcpListener listener) { }

    /**
     * The listener could not start: resolution, socket, bind or listen failed. No other callback
     * follows. Mandatory, so that a failure cannot pass unnoticed.
     */
    void onListenFailure(TcpListener listener, ListenFailure failure);

    /**
     * A connection was accepted. Create its server connection with
     * {@link TcpConnection#server(TcpServerAuth, AcceptedSocket, ServerLifecycleReceiver)} and
     * return it, or return {@code null} (or throw) to reject it: the listener then closes the socket.
     */
    TcpConnection onAccept(TcpListener listener, AcceptedSocket socket);

    /** The listener stopped listening ({@link TcpListener#close()}). Its connections stay open. */
    default void onClosed(TcpListener listener) { }
}
