package dev.loriffm.tcp;

/**
 * The result of a typed socket-option read ({@link TcpConnection#tcpInfo()},
 * {@link TcpConnection#linger()}, ...): the {@link Value}, or the {@link Failed} errno.
 *
 * @param <T> the option's Java type
 */
public sealed interface OptionResult<T> permits OptionResult.Value, OptionResult.Failed {

    /** @param value the option's value */
    record Value<T>(T value) implements OptionResult<T> { }

    /**
     * @param errno       the errno of the failed call (1 when the connection is not open)
     * @param description e.g. {@code "ENOPROTOOPT (Protocol not available)"}
     */
    record Failed<T>(int errno, String description) implements OptionResult<T> { }

    /**
     * {@return the value}
     *
     * @throws IllegalStateException with the description, if the read failed
     */
    default T orThrow() {
        return switch (this) {
            case Value<T> v -> v.value();
            case Failed<T> f -> throw new IllegalStateException("socket option read failed: " + f.description());
        };
    }
}
