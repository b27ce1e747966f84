package dev.loriffm.tcp;

/**
 * One lifecycle state of a {@link TcpConnection}: the state decides what each operation means,
 * the connection carries it out (lori's {@code _connection_state.pony}). States hold no data, so
 * each is a singleton. See {@code package-info} for the transition table.
 */
sealed interface ConnectionState
        permits ConnectionNone, ClientConnecting, SslHandshaking, Open, TlsUpgrading, Closing, UnconnectedClosing,
        Closed {

    /** {@code close()}: graceful close as this state defines it. */
    void close(TcpConnection c);

    /** {@code hardClose()}: immediate teardown with the callbacks this state owes. */
    void hardClose(TcpConnection c, CloseCause cause);

    /** Readiness on the connection's own socket. */
    default void ownEvent(TcpConnection c, int events) { }

    /** Readiness on a connection attempt's socket (Happy Eyeballs), or a straggler's. */
    default void attemptEvent(TcpConnection c, int fd, int events) {
        c.discardAttempt(fd);
    }

    /** {@code readAgain()}: re-enter the read loop if this state reads. */
    default void readAgain(TcpConnection c) { }

    /** The write queue just emptied. */
    default void drained(TcpConnection c) { }

    /** {@return whether {@code send} may queue data} */
    default boolean sendsAllowed() {
        return false;
    }

    /** {@return whether the socket may be read and its options used} */
    default boolean socketUsable() {
        return false;
    }

    /** {@return whether the read loop runs: the socket is connected and not closed} */
    default boolean reads() {
        return false;
    }

    /** {@return whether a TLS handshake is in progress (initial or upgrade)} */
    default boolean handshaking() {
        return false;
    }

    /** {@return true when closing or closed} */
    default boolean isClosed() {
        return false;
    }
}
