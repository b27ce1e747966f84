package dev.loriffm.tcp;

import java.util.Objects;

/**
 * The root network capability (lori's object-capability auth, {@code NetAuth}). Every operation
 * that opens a socket takes a narrower capability derived from it: {@link TcpAuth},
 * {@link TcpListenAuth}, {@link TcpConnectAuth}, {@link TcpServerAuth}.
 *
 * <p>Java has no ambient-authority token handed to {@code main}, so any code may call
 * {@link #ambient()}; the value of the scheme is that capabilities are passed down explicitly, so a
 * reader sees which code may open connections. Immutable and thread-safe.
 */
public final class NetAuth {
    private static final NetAuth AMBIENT = new NetAuth();

    private NetAuth() { }

    /** {@return the root network capability} */
    public static NetAuth ambient() {
        return AMBIENT;
    }

    static <T> T require(T parent) {
        return Objects.requireNonNull(parent, "auth");
    }
}
