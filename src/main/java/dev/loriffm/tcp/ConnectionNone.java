package dev.loriffm.tcp;

/** Created, not yet initialised on its loop. Closing now releases the socket without callbacks. */
final class ConnectionNone implements ConnectionState {
    static final ConnectionNone INSTANCE = new ConnectionNone();

    private ConnectionNone() { }

    @Override
    public void close(TcpConnection c) {
        c.closeBeforeStart();
    }

    @Override
    public void hardClose(TcpConnection c, CloseCause cause) {
        c.closeBeforeStart();
    }

    @Override
    public String toString() {
        return "None";
    }
}
