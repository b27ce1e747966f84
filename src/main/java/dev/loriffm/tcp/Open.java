package dev.loriffm.tcp;

/** Connected: data flows both ways. */
final class Open implements ConnectionState {
    static final Open INSTANCE = new Open();

    private Open() { }

    @Override
    public void close(TcpConnection c) {
        // A muted connection cannot see the peer's FIN, so it would never finish closing (lori#344).
        if (c.isMuted()) {
            c.hardCloseConnected();
        } else {
            c.startClosing();
        }
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
    public boolean sendsAllowed() {
        return true;
    }

    @Override
    public boolean socketUsable() {
        return true;
    }

    @Override
    public boolean reads() {
        return true;
    }

    @Override
    public String toString() {
        return "Open";
    }
}
