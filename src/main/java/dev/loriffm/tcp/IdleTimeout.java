package dev.loriffm.tcp;

import java.time.Duration;

/**
 * How long a connection may go without a successful read or write before
 * {@code onIdleTimeout}: 1 ms to {@value Durations#MAX_MILLIS} ms.
 *
 * @param millis the timeout in milliseconds
 */
public record IdleTimeout(long millis) {

    /** @throws IllegalArgumentException if {@code millis} is outside 1..{@value Durations#MAX_MILLIS} */
    public IdleTimeout {
        Durations.checkMillis("idle timeout", millis);
    }

    /** {@return the timeout, or why {@code millis} is not one} */
    public static Validated<IdleTimeout> make(long millis) {
        String problem = Durations.problem("idle timeout", millis);
        return problem == null ? new Validated.Valid<>(new IdleTimeout(millis)) : new Validated.Invalid<>(problem);
    }

    /**
     * {@return a timeout of {@code duration}, in whole milliseconds}
     *
     * @throws IllegalArgumentException if shorter than 1 ms or longer than the maximum
     */
    public static IdleTimeout of(Duration duration) {
        return new IdleTimeout(Durations.toMillis("idle timeout", duration));
    }

    /** {@return the timeout in nanoseconds} */
    public long nanos() {
        return millis * 1_000_000L;
    }
}
