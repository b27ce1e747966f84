package dev.loriffm.tcp;

import java.lang.foreign.MemorySegment;

/**
 * The callbacks client and server connections share. Implement {@link ClientLifecycleReceiver} or
 * {@link ServerLifecycleReceiver}, not this interface directly.
 *
 * <p>Every callback runs on the connection's event loop thread, never concurrently with another
 * callback of the same connection, and receives the connection so it can call back into it. A
 * callback that throws is logged and the connection is hard-closed; the loop and every other
 * connection keep running.
 */
public interface LifecycleReceiver {

    /**
     * Data arrived: one message of exactly the {@link BufferSize} in effect, or, when
     * {@link Streaming}, whatever has arrived.
     *
     * <p><b>Warnings</b> (zero copy):
     * <ul>
     *   <li>{@code data} is a read-only view of native receive memory (the loop's shared receive
     *       area, or the connection's own memory for bytes left over from an earlier read),
     *       valid only until this callback returns. Read only {@code [0, data.byteSize())}.</li>
     *   <li>To keep the bytes, copy them: {@code data.toArray(ValueLayout.JAVA_BYTE)}, or
     *       {@code arena.allocate(data.byteSize()).copyFrom(data)}. To send them on, use
     *       {@link TcpConnection#sendCopy}, which copies only what the kernel does not take.</li>
     *   <li>After the callback the memory is reused for later data, possibly another
     *       connection's on the same loop, or freed; once the connection is closed any access
     *       throws {@link IllegalStateException}.</li>
     *   <li>Two deliveries may hand over the same segment object: compare contents, not
     *       identity.</li>
     * </ul>
     */
    default void onReceived(TcpConnection connection, MemorySegment data) { }

    /**
     * The bytes of the send identified by {@code token} are handed to the kernel. Fires in a later
     * loop turn than the {@code send}, in send order, and before {@code onClosed}.
     */
    default void onSent(TcpConnection connection, SendToken token) { }

    /**
     * The send identified by {@code token} was accepted but its bytes were not (all) handed to the
     * kernel because the connection was hard-closed. Fires in a later loop turn, after
     * {@code onClosed}, in send order.
     */
    default void onSendFailed(TcpConnection connection, SendToken token) { }

    /**
     * The kernel's send buffer is full: data is queued and {@link TcpConnection#send} refuses more
     * ({@link SendError#NOT_WRITEABLE}) until {@code onUnthrottled}.
     */
    default void onThrottled(TcpConnection connection) { }

    /** The queued data has been handed to the kernel; sends are accepted again. */
    default void onUnthrottled(TcpConnection connection) { }

    /** A {@link TcpConnection#startTls} upgrade completed: data now flows over TLS. */
    default void onTlsReady(TcpConnection connection) { }

    /**
     * A {@link TcpConnection#startTls} upgrade failed; {@code onClosed} follows at once. Bytes
     * received before or during the failed handshake are never delivered.
     */
    default void onTlsFailure(TcpConnection connection, TlsFailure reason) { }

    /**
     * No successful read or write happened for the {@link IdleTimeout} set with
     * {@link TcpConnection#idleTimeout}. The timer re-arms after each firing while the connection
     * is open; close it from here to drop idle peers.
     */
    default void onIdleTimeout(TcpConnection connection) { }

    /** The idle timer could not be armed (the loop's timer limit was reached); it is now disabled. */
    default void onIdleTimerFailure(TcpConnection connection) { }

    /**
     * The user timer {@code token} fired. The token is already cleared, so {@code setTimer} may be
     * called from here to repeat.
     */
    default void onTimer(TcpConnection connection, TimerToken token) { }

    /** The user timer could not be armed (the loop's timer limit was reached); it is cancelled. */
    default void onTimerFailure(TcpConnection connection) { }

    /**
     * A connection that was connected (or started) is closed: the peer closed it, an error
     * occurred, or the application closed it. Not called for a connection that never became ready.
     */
    default void onClosed(TcpConnection connection) { }
}
