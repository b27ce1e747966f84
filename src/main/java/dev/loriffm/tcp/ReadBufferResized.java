package dev.loriffm.tcp;

/** A read-buffer sizing result: the buffer has the requested size (and minimum, as documented). */
public enum ReadBufferResized implements ReadBufferResizeResult, ReadBufferMinimumResult {
    /** The only value. */
    RESIZED
}
