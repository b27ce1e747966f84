package dev.loriffm.tcp;

/**
 * A read-buffer sizing result. Refused because the requested size is below the
 * {@code bufferUntil} size in effect; nothing changed.
 */
public enum ReadBufferResizeBelowBufferSize implements ReadBufferResizeResult, ReadBufferMinimumResult {
    /** The only value. */
    BELOW_BUFFER_SIZE
}
