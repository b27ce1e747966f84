package dev.loriffm.internal.tls;

import dev.loriffm.tls.SslContext;

import java.util.Objects;
import java.util.function.Function;

/**
 * The bridge from the public {@link SslContext} to its {@link NativeSslContext}, so that the
 * exported API never names an internal type: {@code SslContext}'s static initializer registers an
 * accessor here (the JDK's "shared secrets" pattern), and connection code asks through
 * {@link #of}.
 *
 * <p>Thread-safe: the accessor is published through a volatile field, set once.
 */
public final class SslContextAccess {
    private static volatile Function<SslContext, NativeSslContext> accessor;

    private SslContextAccess() { }

    /**
     * Installs the accessor; called once, by {@code SslContext}'s static initializer.
     *
     * @throws IllegalStateException if an accessor is already registered
     */
    public static synchronized void register(Function<SslContext, NativeSslContext> access) {
        if (accessor != null) {
            throw new IllegalStateException("SslContext accessor already registered");
        }
        accessor = Objects.requireNonNull(access);
    }

    /** {@return the native side of {@code context}} */
    public static NativeSslContext of(SslContext context) {
        Objects.requireNonNull(context);
        // An SslContext instance exists, so its class, and with it the accessor, is initialised.
        return accessor.apply(context);
    }
}
