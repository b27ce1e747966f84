package dev.loriffm.tcp;

/**
 * The result of reading an integer socket option, as lori returns it: {@code errno} 0 and the
 * {@code value}, or a non-zero {@code errno} (1 when the connection is not open) and a value to
 * ignore.
 *
 * @param errno 0 on success
 * @param value the option's value when {@code errno} is 0
 */
public record IntOptionResult(int errno, int value) {
    /** {@return whether the read succeeded} */
    public boolean ok() {
        return errno == 0;
    }
}
