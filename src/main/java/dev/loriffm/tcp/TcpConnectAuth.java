package dev.loriffm.tcp;

/**
 * The capability for creating a client TcpConnection, derived from a broader one. Immutable and thread-safe.
 */
public final class TcpConnectAuth {
    private static final TcpConnectAuth INSTANCE = new TcpConnectAuth();

    private TcpConnectAuth() { }

    /** {@return the capability, derived from {@code parent}} @throws NullPointerException if {@code parent} is null */
    public static TcpConnectAuth of(NetAuth parent) {
        NetAuth.require(parent);
        return INSTANCE;
    }

    /** {@return the capability, derived from {@code parent}} @throws NullPointerException if {@code parent} is null */
    public static TcpConnectAuth of(TcpAuth parent) {
        NetAuth.require(parent);
        return INSTANCE;
    }

}
