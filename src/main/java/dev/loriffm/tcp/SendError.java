package dev.loriffm.tcp;

/** Why {@link TcpConnection#send} refused data. Nothing was queued and no token was used. */
public enum SendError implements SendResult {
    /** The connection is not open for sending: still connecting, closing, or closed. */
    NOT_CONNECTED,
    /**
     * The connection is backpressured: earlier data is still queued for the kernel. Wait for
     * {@code onUnthrottled} (or check {@link TcpConnection#isWriteable()}) and send again.
     */
    NOT_WRITEABLE
}
