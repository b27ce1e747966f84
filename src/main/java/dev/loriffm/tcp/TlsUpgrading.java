package dev.loriffm.tcp;

/**
 * A {@code startTls} handshake on an open connection: sends are refused, socket options and timers
 * still work, and the application hears {@code onTlsReady} or {@code onTlsFailure}.
 */
final class TlsUpgrading implements ConnectionState {
    static final TlsUpgrading INSTANCE = new TlsUpgrading();

    private TlsUpgrading() { }

    @Override
    public void close(TcpConnection c) {
        c.hardCloseUpgrading(CloseCause.UNSPECIFIED); // lori: close during the upgrade is a hard close
    }

    @Override
    public void hardClose(TcpConnection c, CloseCause cause) {
        c.hardCloseUpgrading(cause);
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
    public boolean socketUsable() {
        return true;
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
        return "TlsUpgrading";
    }
}
