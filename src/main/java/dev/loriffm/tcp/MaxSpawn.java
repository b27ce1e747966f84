package dev.loriffm.tcp;

/**
 * The most connections a listener keeps open at once: at least 1, default {@value #DEFAULT_LIMIT}.
 * At the limit the listener stops accepting and resumes when one of its connections closes.
 *
 * @param limit the limit
 */
public record MaxSpawn(long limit) {
    /** The default limit, 100,000. */
    public static final long DEFAULT_LIMIT = 100_000;
    /** The largest limit, {@code 2^32 - 1} as in lori. */
    public static final long MAX_LIMIT = 0xFFFF_FFFFL;
    /** The default. */
    public static final MaxSpawn DEFAULT = new MaxSpawn(DEFAULT_LIMIT);

    /** @throws IllegalArgumentException if {@code limit} is outside 1..{@value #MAX_LIMIT} */
    public MaxSpawn {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("connection limit must be 1.." + MAX_LIMIT + ", not " + limit);
        }
    }

    /** {@return the limit, or why {@code limit} is not one} */
    public static Validated<MaxSpawn> make(long limit) {
        if (limit < 1 || limit > MAX_LIMIT) {
            return new Validated.Invalid<>("connection limit must be 1.." + MAX_LIMIT + ", not " + limit);
        }
        return new Validated.Valid<>(new MaxSpawn(limit));
    }

    /** {@return a limit of {@code limit} connections} @throws IllegalArgumentException if out of range */
    public static MaxSpawn of(long limit) {
        return new MaxSpawn(limit);
    }
}
