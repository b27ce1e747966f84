package dev.loriffm.tcp;

/**
 * A connection's orthogonal flow-control flags, apart from its lifecycle state.
 * Loop-confined: not thread-safe.
 */
final class FlowControl {
    /**
     * The socket may have unread data: set by a readable event or unmute; cleared on EAGAIN, or by
     * a short read unless {@link #hangup} (see {@code TcpConnection.drainedBy}).
     */
    boolean readable;
    /**
     * An event reported the peer's FIN, a hang-up or an error. Sticky: from then on reads go on
     * until EAGAIN or end of stream, because no further edge would announce the end of stream.
     */
    boolean hangup;
    /** The application stopped delivery with {@code mute()}. */
    boolean muted;
    /** The kernel pushed back: data is queued, sends are refused until it drains. */
    boolean throttled;
    /** {@code onThrottled} was queued for the current throttle (not for handshake backpressure). */
    boolean throttleReported;
    /** {@code yieldRead()} was called in the current {@code onReceived}. */
    boolean yieldRequested;
}
