package dev.loriffm.tcp;

/**
 * The size in bytes of a connection's read buffer: at least 1, default {@value #DEFAULT_BYTES}.
 *
 * @param bytes the size
 */
public record ReadBufferSize(int bytes) {
    /** The default size, 16 KiB. */
    public static final int DEFAULT_BYTES = 16384;
    /** The default read buffer size. */
    public static final ReadBufferSize DEFAULT = new ReadBufferSize(DEFAULT_BYTES);

    /** @throws IllegalArgumentException if {@code bytes < 1} */
    public ReadBufferSize {
        if (bytes < 1) {
            throw new IllegalArgumentException("read buffer size must be at least 1 byte, not " + bytes);
        }
    }

    /** {@return the size, or why {@code bytes} is not one} */
    public static Validated<ReadBufferSize> make(long bytes) {
        if (bytes < 1 || bytes > Integer.MAX_VALUE) {
            return new Validated.Invalid<>("read buffer size must be 1.." + Integer.MAX_VALUE + " bytes, not " + bytes);
        }
        return new Validated.Valid<>(new ReadBufferSize((int) bytes));
    }

    /**
     * {@return the size}
     *
     * @throws IllegalArgumentException if {@code bytes < 1}
     */
    public static ReadBufferSize of(int bytes) {
        return new ReadBufferSize(bytes);
    }
}
