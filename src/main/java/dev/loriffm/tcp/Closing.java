package dev.loriffm.tcp;

/**
 * Graceful close in progress: queued writes drain, then FIN; data is still delivered until the
 * peer's FIN (or an error) completes the close.
 */
final class Closing implements ConnectionState {
    static final Closing INSTANCE = new Closing();

    private Closing() { }

    @Override
    public void close(TcpConnection c) {
        // Already closing.
    }

    @Override
    public void hardClose(TcpConnection c, CloseCause cause) {
        c.hardCloseConnected();
    }

    @Override
    public void ownEvent(TcpConnection c, int events) {
        c.dispatchIo(events);
    }

    @Override
    public void readAgain(TcpConnection c) {
        c.readLoop();
    }

    @Override
    public void drained(TcpConnection c) {
        c.sendFin();
    }

    @Override
    public boolean isClosed() {
        return true;
    }

    @Override
    public boolean reads() {
        return true;
    }

    @Override
    public String toString() {
        return "Closing";
    }
}
