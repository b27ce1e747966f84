package dev.loriffm.tcp;

/**
 * The initial TLS handshake of an {@code sslClient} (after TCP connected) or {@code sslServer}:
 * no application data either way until it completes ({@code onConnected}/{@code onStarted}).
 */
final class SslHandshaking implements ConnectionState {
    static final SslHandshaking INSTANCE = new SslHandshaking();

    private SslHandshaking() { }

    @Override
    public void close(TcpConnection c) {
        c.hardCloseHandshaking(CloseCause.UNSPECIFIED); // no graceful close of a half-made session
    }

    @Override
    public void hardClose(TcpConnection c, CloseCause cause) {
        c.hardCloseHandshaking(cause);
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
    public boolean reads() {
        return true;
    }

    @Override
    public boolean handshaking() {
        return true;
    }

    @Override
    public String toString() {
        return "SslHandshaking";
    }
}
