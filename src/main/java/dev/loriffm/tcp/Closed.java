package dev.loriffm.tcp;

/** Closed: every operation is a no-op; late attempt events only release their sockets. */
final class Closed implements ConnectionState {
    static final Closed INSTANCE = new Closed();

    private Closed() { }

    @Override
    public void close(TcpConnection c) {
        // Nothing left to close.
    }

    @Override
    public void hardClose(TcpConnection c, CloseCause cause) {
        // Idempotent.
    }

    @Override
    public boolean isClosed() {
        return true;
    }

    @Override
    public String toString() {
        return "Closed";
    }
}
