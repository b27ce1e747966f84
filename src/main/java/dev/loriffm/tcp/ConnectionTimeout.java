package dev.loriffm.tcp;

import java.time.Duration;

/**
 * How long a client may take to become connected (name resolution and every TCP attempt; with TLS,
 * the handshake too) before it fails with {@link ConnectionFailure#TIMEOUT}. From 1 ms to
 * {@value #MAX_MILLIS} ms, so the value in nanoseconds fits a {@code long}.
 *
 * @param millis the timeout in milliseconds
 */
public record ConnectionTimeout(long millis) {
    /** The largest timeout: {@code Long.MAX_VALUE / 1_000_000} ms (about 292 years). */
    public static final long MAX_MILLIS = Long.MAX_VALUE / 1_000_000L;

    /** @throws IllegalArgumentException if {@code millis} is outside 1..{@value #MAX_MILLIS} */
    public ConnectionTimeout {
        Durations.checkMillis("connection timeout", millis);
    }

    /** {@return the timeout, or why {@code millis} is not one} */
    public static Validated<ConnectionTimeout> make(long millis) {
        String problem = Durations.problem("connection timeout", millis);
        return problem == null ? new Validated.Valid<>(new ConnectionTimeout(millis)) : new Validated.Invalid<>(problem);
    }

    /**
     * {@return a timeout of {@code duration}, in whole milliseconds}
     *
     * @throws IllegalArgumentException if it is shorter than 1 ms or longer than {@value #MAX_MILLIS} ms
     */
    public static ConnectionTimeout of(Duration duration) {
        return new ConnectionTimeout(Durations.toMillis("connection timeout", duration));
    }

    /** {@return the timeout in nanoseconds} */
    public long nanos() {
        return millis * 1_000_000L;
    }
}
