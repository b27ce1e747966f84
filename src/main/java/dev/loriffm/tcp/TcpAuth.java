package dev.loriffm.tcp;

/**
 * The capability for any TCP operation, derived from a broader one. Immutable and thread-safe.
 */
public final class TcpAuth {
    private static final TcpAuth INSTANCE = new TcpAuth();

    private TcpAuth() { }

    /** {@return the capability, derived from {@code parent}} @throws NullPointerException if {@code parent} is null */
    public static TcpAuth of(NetAuth parent) {
        NetAuth.require(parent);
        return INSTANCE;
    }

}
