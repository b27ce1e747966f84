package dev.loriffm.tcp;

/** The result of {@link TcpConnection#bufferUntil}. */
public enum BufferUntilResult {
    /** The framing is in effect from the next message on. */
    SET,
    /**
     * Refused: the size exceeds the read buffer minimum. Raise the minimum first
     * ({@code setReadBufferMinimum}), then set the framing. Nothing changed.
     */
    SIZE_ABOVE_MINIMUM
}
