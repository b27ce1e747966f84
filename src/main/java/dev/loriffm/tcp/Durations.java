package dev.loriffm.tcp;

import java.time.Duration;

/** Validation shared by the millisecond duration types. Stateless. */
final class Durations {
    static final long MAX_MILLIS = Long.MAX_VALUE / 1_000_000L;

    private Durations() { }

    /** {@return null if {@code millis} is a valid duration, else the reason} */
    static String problem(String what, long millis) {
        if (millis < 1 || millis > MAX_MILLIS) {
            return what + " must be 1.." + MAX_MILLIS + " ms, not " + millis;
        }
        return null;
    }

    static void checkMillis(String what, long millis) {
        String problem = problem(what, millis);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    static long toMillis(String what, Duration duration) {
        if (duration.isNegative() || duration.compareTo(Duration.ofMillis(MAX_MILLIS)) > 0) {
            throw new IllegalArgumentException(what + " must be 1.." + MAX_MILLIS + " ms, not " + duration);
        }
        long millis = duration.toMillis();
        checkMillis(what, millis);
        return millis;
    }
}
