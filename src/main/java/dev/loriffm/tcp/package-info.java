/**
 * TCP connections and listeners driven by event loops: lori's {@code TCPConnection} and
 * {@code TCPListener} on the JVM.
 *
 * <h2>Model</h2>
 * A {@link dev.loriffm.tcp.TcpConnection} or {@link dev.loriffm.tcp.TcpListener} is pinned to one
 * {@link dev.loriffm.loop.EventLoop}; every callback of its receiver runs on that loop's thread,
 * never concurrently, and receives the connection (or listener) as its first argument. Methods
 * are called from those callbacks (or through {@code execute}); calling one from another thread
 * fails fast with {@link java.lang.IllegalStateException}.
 *
 * <h2>Connection lifecycle</h2>
 * Each state is one class implementing the sealed {@code ConnectionState}; the state decides what
 * an operation means and the connection carries it out.
 * <pre>
 * None               -&gt; ClientConnecting    client initialised on its loop: resolving, then attempts in flight
 *                    -&gt; Open                server initialised (onStarted)
 *                    -&gt; SslHandshaking      TLS server initialised
 *                    -&gt; Closed              close()/hardClose()/dispose() before initialisation (no callbacks)
 * ClientConnecting   -&gt; Open                an attempt connected (onConnected); the other attempts are closed
 *                    -&gt; SslHandshaking      an attempt connected and the connection uses TLS
 *                    -&gt; UnconnectedClosing  close(): in-flight attempts drain
 *                    -&gt; Closed              hardClose, every attempt failed, resolution failed, or timeout
 *                                           (onConnectionFailure: DNS, TCP, TIMEOUT, TIMER_ERROR)
 * SslHandshaking     -&gt; Open                handshake complete (onConnected / onStarted)
 *                    -&gt; Closed              handshake failed, close/hardClose, timeout (onConnectionFailure(SSL,
 *                                           TIMEOUT) / onStartFailure(SSL); no onClosed)
 * Open               -&gt; Closing             close() (muted: hard close instead)
 *                    -&gt; TlsUpgrading        startTls()
 *                    -&gt; Closed              hardClose, peer FIN, I/O error (onClosed)
 * TlsUpgrading       -&gt; Open                handshake complete (onTlsReady)
 *                    -&gt; Closed              handshake failed, close/hardClose (onTlsFailure, then onClosed)
 * Closing            -&gt; Closed              peer FIN, error or hardClose after the queue drained and FIN went out (onClosed)
 * UnconnectedClosing -&gt; Closed              the last in-flight attempt finished, hardClose, or timeout (onConnectionFailure)
 * </pre>
 * With TLS, a graceful close sends close_notify after the queued data and before FIN; the peer's
 * close_notify starts a graceful close (or a hard close once our FIN went out).
 *
 * <h2>Ordering guarantees</h2>
 * <ul>
 *   <li>{@code send} returns its {@link dev.loriffm.tcp.SendToken} before any callback about it.
 *       {@code onSent}, {@code onThrottled} and {@code onUnthrottled} are never called from inside
 *       {@code send}: they are queued in order and delivered once the current callback returns,
 *       before the connection's next {@code onReceived} and before {@code onClosed}, or at the end
 *       of the loop turn.</li>
 *   <li>Every accepted token ends in exactly one {@code onSent} or {@code onSendFailed}. On a hard
 *       close, tokens whose bytes reached the kernel get {@code onSent} before {@code onClosed}; the
 *       rest get {@code onSendFailed} in a later turn, after {@code onClosed}.</li>
 *   <li>{@code onClosed} follows only a connection that was connected or started; a connection
 *       that never became ready gets exactly one failure callback instead.</li>
 *   <li>No {@code onReceived} after a hard close, even for bytes already read.</li>
 * </ul>
 *
 * <h2>Differences from lori, and why</h2>
 * <ul>
 *   <li>Losing Happy Eyeballs attempts are closed as soon as one attempt wins, instead of waiting
 *       for their own events (lori cannot close an fd before its event is disposed; we can, and a
 *       graceful close then never waits for a straggler stuck in SYN-SENT).</li>
 *   <li>The connection timeout also covers name resolution, which runs off the loop and can hang.</li>
 *   <li>Sockets are registered edge-triggered for reading and writing once, so no readiness can be
 *       lost to a missed re-arm (the class of lori#276, #294, #306).</li>
 *   <li>A server connection closed before it initialised still tells its listener (lori leaves the
 *       listener's count too high on that path).</li>
 * </ul>
 */
package dev.loriffm.tcp;
