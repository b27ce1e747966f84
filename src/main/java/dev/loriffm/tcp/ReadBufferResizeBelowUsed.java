package dev.loriffm.tcp;

/**
 * A read-buffer sizing result. Refused because the requested size is below the number of
 * received bytes not yet delivered; nothing changed.
 */
public enum ReadBufferResizeBelowUsed implements ReadBufferResizeResult {
    /** The only value. */
    BELOW_USED
}
