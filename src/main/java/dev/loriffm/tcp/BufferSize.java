package dev.loriffm.tcp;

/**
 * Deliver received data in messages of exactly {@code bytes} bytes (at least 1).
 *
 * @param bytes the message size
 */
public record BufferSize(int bytes) implements BufferUntil {

    /** @throws IllegalArgumentException if {@code bytes < 1} */
    public BufferSize {
        if (bytes < 1) {
            throw new IllegalArgumentException("buffer size must be at least 1 byte, not " + bytes
                    + " (use Streaming to deliver everything as it arrives)");
        }
    }

    /** {@return the message size, or why {@code bytes} is not one} */
    public static Validated<BufferSize> make(long bytes) {
        if (bytes < 1 || bytes > Integer.MAX_VALUE) {
            return new Validated.Invalid<>("buffer size must be 1.." + Integer.MAX_VALUE + " bytes, not " + bytes);
        }
        return new Validated.Valid<>(new BufferSize((int) bytes));
    }

    /**
     * {@return messages of exactly {@code bytes} bytes}
     *
     * @throws IllegalArgumentException if {@code bytes < 1}
     */
    public static BufferSize of(int bytes) {
        return new BufferSize(bytes);
    }
}
