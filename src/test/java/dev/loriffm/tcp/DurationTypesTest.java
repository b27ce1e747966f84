package dev.loriffm.tcp;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The timer durations, {@link IdleTimeout} and {@link TimerDuration}, validated through each of
 * their doors: {@code make} (a {@link Validated} value, never an exception), the record
 * constructor and {@code of(Duration)} (both throw {@link IllegalArgumentException}).
 *
 * <p>The range is 1 ms to {@link Durations#MAX_MILLIS}, {@code Long.MAX_VALUE / 1e6}, so a duration
 * in nanoseconds fits a {@code long}. lori's maximum is {@code U64.max / 1e6}; ours is smaller on
 * purpose (see {@code Durations}). No sockets, so no fd check.
 */
class DurationTypesTest {
    private static final long MAX = Durations.MAX_MILLIS;

    /** Port of lori _TestTimerDurationValidationRejectsZero: a zero-length user timer is invalid. */
    @Test
    void timerDurationOfZeroIsRejectedByEveryFactory() {
        assertInvalid(TimerDuration.make(0));
        assertThrows(IllegalArgumentException.class, () -> new TimerDuration(0));
        assertThrows(IllegalArgumentException.class, () -> TimerDuration.of(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> TimerDuration.of(Duration.ofNanos(999_999)),
                "less than a whole millisecond is zero milliseconds");
        assertInvalid(TimerDuration.make(-1));
        assertThrows(IllegalArgumentException.class, () -> TimerDuration.of(Duration.ofMillis(-1)));
    }

    /**
     * Port of lori _TestTimerDurationValidationAcceptsBoundary: 1 ms and the maximum are valid and
     * keep their value; one past the maximum is invalid.
     */
    @Test
    void timerDurationAcceptsOneMillisecondAndTheMaximumButNotOneMore() {
        assertEquals(1, valid(TimerDuration.make(1)).millis());
        assertEquals(1, new TimerDuration(1).millis());
        assertEquals(1, TimerDuration.of(Duration.ofMillis(1)).millis());
        assertEquals(1_000_000L, new TimerDuration(1).nanos());

        assertEquals(MAX, valid(TimerDuration.make(MAX)).millis());
        assertEquals(MAX, new TimerDuration(MAX).millis());
        assertEquals(MAX, TimerDuration.of(Duration.ofMillis(MAX)).millis());
        assertEquals(MAX * 1_000_000L, new TimerDuration(MAX).nanos(), "the maximum in nanoseconds does not overflow");

        assertInvalid(TimerDuration.make(MAX + 1));
        assertThrows(IllegalArgumentException.class, () -> new TimerDuration(MAX + 1));
        assertThrows(IllegalArgumentException.class, () -> TimerDuration.of(Duration.ofMillis(MAX + 1)));
        assertInvalid(TimerDuration.make(Long.MAX_VALUE));
    }

    /** The same zero check for the idle timeout (lori has no test of its own for it). */
    @Test
    void idleTimeoutOfZeroIsRejectedByEveryFactory() {
        assertInvalid(IdleTimeout.make(0));
        assertThrows(IllegalArgumentException.class, () -> new IdleTimeout(0));
        assertThrows(IllegalArgumentException.class, () -> IdleTimeout.of(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> IdleTimeout.of(Duration.ofNanos(999_999)));
        assertInvalid(IdleTimeout.make(-1));
        assertThrows(IllegalArgumentException.class, () -> IdleTimeout.of(Duration.ofMillis(-1)));
    }

    /** The same boundary check for the idle timeout: 1 ms and the maximum, not one more. */
    @Test
    void idleTimeoutAcceptsOneMillisecondAndTheMaximumButNotOneMore() {
        assertEquals(1, valid(IdleTimeout.make(1)).millis());
        assertEquals(1, new IdleTimeout(1).millis());
        assertEquals(1, IdleTimeout.of(Duration.ofMillis(1)).millis());
        assertEquals(1_000_000L, new IdleTimeout(1).nanos());

        assertEquals(MAX, valid(IdleTimeout.make(MAX)).millis());
        assertEquals(MAX, new IdleTimeout(MAX).millis());
        assertEquals(MAX, IdleTimeout.of(Duration.ofMillis(MAX)).millis());
        assertEquals(MAX * 1_000_000L, new IdleTimeout(MAX).nanos(), "the maximum in nanoseconds does not overflow");

        assertInvalid(IdleTimeout.make(MAX + 1));
        assertThrows(IllegalArgumentException.class, () -> new IdleTimeout(MAX + 1));
        assertThrows(IllegalArgumentException.class, () -> IdleTimeout.of(Duration.ofMillis(MAX + 1)));
        assertInvalid(IdleTimeout.make(Long.MAX_VALUE));
    }

    /** {@code of(Duration)} keeps whole milliseconds, dropping the rest of a partial one. */
    @Test
    void javaTimeDurationsKeepWholeMilliseconds() {
        assertEquals(1, TimerDuration.of(Duration.ofNanos(1_999_999)).millis());
        assertEquals(1500, TimerDuration.of(Duration.ofSeconds(1, 500_000_000)).millis());
        assertEquals(1, IdleTimeout.of(Duration.ofNanos(1_999_999)).millis());
        assertEquals(90_000, IdleTimeout.of(Duration.ofSeconds(90)).millis());
    }

    private static <T> T valid(Validated<T> v) {
        Validated.Valid<?> valid = assertInstanceOf(Validated.Valid.class, v, () -> "expected a valid value: " + v);
        assertEquals(valid.value(), v.orThrow());
        return v.orThrow();
    }

    private static void assertInvalid(Validated<?> v) {
        Validated.Invalid<?> invalid = assertInstanceOf(Validated.Invalid.class, v, () -> "expected invalid: " + v);
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, v::orThrow);
        assertEquals(invalid.reason(), thrown.getMessage(), "orThrow reports the reason make gave");
    }
}
