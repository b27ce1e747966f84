package dev.loriffm.tcp;

/** Resolving the host and running connection attempts; the first to connect wins. */
final class ClientConnecting implements ConnectionState {
    static final ClientConnecting INSTANCE = new ClientConnecting();

    private ClientConnecting() { }

    @Override
    public void close(TcpConnection c) {
        c.startUnconnectedClosing();
    }

    @Override
    public void hardClose(TcpConnection c, CloseCause cause) {
        c.hardCloseConnecting(cause);
    }

    @Override
    public void attemptEvent(TcpConnection c, int fd, int events) {
        c.attemptReady(fd, events);
    }

    @Override
    public String toString() {
        return "ClientConnecting";
    }
}
