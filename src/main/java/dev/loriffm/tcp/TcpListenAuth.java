package dev.loriffm.tcp;

/**
 * The capability for creating a TcpListener, derived from a broader one. Immutable and thread-safe.
 */
public final class TcpListenAuth {
    private static final TcpListenAuth INSTANCE = new TcpListenAuth();

    private TcpListenAuth() { }

    /** {@return the capability, derived from {@code parent}} @throws NullPointerException if {@code parent} is null */
    public static TcpListenAuth of(NetAuth parent) {
        NetAuth.require(parent);
        return INSTANCE;
    }

    /** {@return the capability, derived from {@code parent}} @throws NullPointerException if {@code parent} is null */
    public static TcpListenAuth of(TcpAuth parent) {
        NetAuth.require(parent);
        return INSTANCE;
    }

}
