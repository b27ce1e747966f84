package dev.loriffm.tcp;

/**
 * The capability for wrapping an accepted socket in a server TcpConnection, derived from a broader one. Immutable and thread-safe.
 */
public final class TcpServerAuth {
    private static final TcpServerAuth INSTANCE = new TcpServerAuth();

    private TcpServerAuth() { }

    /** {@return the capability, derived from {@code parent}} @throws NullPointerException if {@code parent} is null */
    public static TcpServerAuth of(NetAuth parent) {
        NetAuth.require(parent);
        return INSTANCE;
    }

    /** {@return the capability, derived from {@code parent}} @throws NullPointerException if {@code parent} is null */
    public static TcpServerAuth of(TcpAuth parent) {
        NetAuth.require(parent);
        return INSTANCE;
    }

    /** {@return the capability, derived from {@code parent}} @throws NullPointerException if {@code parent} is null */
    public static TcpServerAuth of(TcpListenAuth parent) {
        NetAuth.require(parent);
        return INSTANCE;
    }

}
