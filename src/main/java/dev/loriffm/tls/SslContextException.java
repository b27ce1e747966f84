package dev.loriffm.tls;

import java.io.Serial;

/**
 * Thrown by {@link SslContextBuilder#buildOrThrow()} when a context cannot be built; carries the
 * typed {@link SslContextError}.
 *
 * <p>Immutable, so thread-safe.
 */
public final class SslContextException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    // Transient: the error's records are not serializable; the message survives serialization.
    private final transient SslContextError error;

    /** @param error why the context could not be built */
    public SslContextException(SslContextError error) {
        super(error.message());
        this.error = error;
    }

    /** {@return why the context could not be built; {@code null} only after deserialization} */
    public SslContextError error() {
        return error;
    }
}
