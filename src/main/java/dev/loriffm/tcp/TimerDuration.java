package dev.loriffm.tcp;

import java.time.Duration;

/**
 * The delay of a one-shot user timer ({@link TcpConnection#setTimer}): 1 ms to
 * {@value Durations#MAX_MILLIS} ms.
 *
 * @param millis the delay in milliseconds
 */
public record TimerDuration(long millis) {

    /** @throws IllegalArgumentException if {@code millis} is outside 1..{@value Durations#MAX_MILLIS} */
    public TimerDuration {
        Durations.checkMillis("timer duration", millis);
    }

    /** {@return the duration, or why {@code millis} is not one} */
    public static Validated<TimerDuration> make(long millis) {
        String problem = Durations.problem("timer duration", millis);
        return problem == null ? new Validated.Valid<>(new TimerDuration(millis)) : new Validated.Invalid<>(problem);
    }

    /**
     * {@return a delay of {@code duration}, in whole milliseconds}
     *
     * @throws IllegalArgumentException if shorter than 1 ms or longer than the maximum
     */
    public static TimerDuration of(Duration duration) {
        return new TimerDuration(Durations.toMillis("timer duration", duration));
    }

    /** {@return the delay in nanoseconds} */
    public long nanos() {
        return millis * 1_000_000L;
    }
}
