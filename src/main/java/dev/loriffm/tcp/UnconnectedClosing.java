package dev.loriffm.tcp;

/**
 * {@code close()} while connecting: no attempt may win any more; each in-flight attempt is cleaned
 * up as its result arrives, and once none is left the connection fails.
 */
final class UnconnectedClosing implements ConnectionState {
    static final UnconnectedClosing INSTANCE = new UnconnectedClosing();

    private UnconnectedClosing() { }

    @Override
    public void close(TcpConnection c) {
        // Already closing.
    }

    @Override
    public void hardClose(TcpConnection c, CloseCause cause) {
        c.hardCloseConnecting(cause);
    }

    @Override
    public void attemptEvent(TcpConnection c, int fd, int events) {
        c.drainAttempt(fd);
    }

    @Override
    public boolean isClosed() {
        return true;
    }

    @Override
    public String toString() {
        return "UnconnectedClosing";
    }
}
