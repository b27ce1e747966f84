package dev.loriffm.tcp;

/**
 * A connection's orthogonal flow-control flags, apart from its lifecycle state.
 * Loop-confined: not thread-safe.
 */
final class FlowControl {
    /** The socket may have unread data: cleared on EAGAIN, set by a readable event or unmute. */
    boolean readable;
    /** The application stopped delivery with {@code mute()}. */
    boolean muted;
    /** The kernel pushed back: data is queued, sends are refused until it drains. */
    boolean throttled;
    /** {@code onThrottled} was queued for the current throttle (not for handshake backpressure). */
    boolean throttleReported;
    /** {@code yieldRead()} was called in the current {@code onReceived}. */
    boolean yieldRequested;
}
