package dev.loriffm.tcp;

/**
 * The result of validating a constrained value: {@link Valid} with the value, or {@link Invalid}
 * with the reason. Returned by the {@code make} factories of the value types (lori's {@code MakeX}).
 *
 * @param <T> the value type
 */
public sealed interface Validated<T> permits Validated.Valid, Validated.Invalid {

    /** @param value the validated value */
    record Valid<T>(T value) implements Validated<T> { }

    /** @param reason why the input was rejected */
    record Invalid<T>(String reason) implements Validated<T> { }

    /**
     * {@return the value}
     *
     * @throws IllegalArgumentException with the reason, if invalid
     */
    default T orThrow() {
        return switch (this) {
            case Valid<T> valid -> valid.value();
            case Invalid<T> invalid -> throw new IllegalArgumentException(invalid.reason());
        };
    }
}
