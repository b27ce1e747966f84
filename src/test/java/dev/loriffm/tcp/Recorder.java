package dev.loriffm.tcp;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A client and server receiver that records every callback as a line in a queue the test thread
 * reads ({@code "connected"}, {@code "sent 3"}, {@code "send failed 4"}, {@code "throttled"},
 * {@code "received <text>"}, {@code "closed"}, ...). Tests subclass it, call {@code super} to keep
 * the record, and act in the callback. Assertions belong on the test thread: a callback that
 * throws only gets its connection hard-closed.
 *
 * <p>The queue is thread-safe; the callbacks run on the connection's loop thread.
 */
class Recorder implements ClientLifecycleReceiver, ServerLifecycleReceiver {
    /** Sends per flood before the test gives up waiting for backpressure (64 MiB with 1 MiB chunks). */
    static final int MAX_FLOOD_SENDS = 64;
    /** The chunk {@link #flood} sends: large enough that loopback pushes back within a few sends. */
    static final byte[] MIB = new byte[1 << 20];

    final BlockingQueue<String> events = new LinkedBlockingQueue<>();

    void record(String event) {
        events.add(event);
    }

    /** {@return the next event, waiting up to {@link Loopback#WAIT_SECONDS}} */
    String next() throws InterruptedException {
        return Loopback.poll(events);
    }

    /** {@return the events before {@code event}, which is consumed; fails if it never comes} */
    List<String> until(String event) throws InterruptedException {
        List<String> before = new ArrayList<>();
        for (String e = next(); !e.equals(event); e = next()) {
            before.add(e);
        }
        return before;
    }

    @Override
    public void onConnecting(TcpConnection c, int inflight) {
        record("connecting " + inflight);
    }

    @Override
    public void onConnected(TcpConnection c) {
        record("connected");
    }

    @Override
    public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
        record("failure " + reason + " (" + c.failureDetail() + ")");
    }

    @Override
    public void onStarted(TcpConnection c) {
        record("started");
    }

    @Override
    public void onStartFailure(TcpConnection c, StartFailure reason) {
        record("start failure " + reason);
    }

    @Override
    public void onReceived(TcpConnection c, MemorySegment data) {
        record("received " + Loopback.text(data));
    }

    @Override
    public void onSent(TcpConnection c, SendToken token) {
        record("sent " + token.id());
    }

    @Override
    public void onSendFailed(TcpConnection c, SendToken token) {
        record("send failed " + token.id());
    }

    @Override
    public void onThrottled(TcpConnection c) {
        record("throttled");
    }

    @Override
    public void onUnthrottled(TcpConnection c) {
        record("unthrottled");
    }

    @Override
    public void onClosed(TcpConnection c) {
        record("closed");
    }

    /**
     * Sends {@link #MIB} until the connection refuses with {@link SendError#NOT_WRITEABLE}, which
     * proves the last accepted send is still (partly) queued. Call it on the loop thread.
     *
     * @return the tokens of the accepted sends, in order
     * @throws AssertionError if the connection refuses otherwise, or never pushes back
     */
    static List<SendToken> flood(TcpConnection c) {
        return flood(c, MIB, MAX_FLOOD_SENDS);
    }

    /** {@link #flood(TcpConnection)} with {@code chunk}, giving up after {@code maxSends}. */
    static List<SendToken> flood(TcpConnection c, byte[] chunk, int maxSends) {
        List<SendToken> tokens = new ArrayList<>();
        for (int i = 0; i < maxSends; i++) {
            switch (c.send(chunk)) {
                case SendToken token -> tokens.add(token);
                case SendError error -> {
                    if (error != SendError.NOT_WRITEABLE || tokens.isEmpty()) {
                        throw new AssertionError("flood refused with " + error + " after " + tokens.size());
                    }
                    return tokens;
                }
            }
        }
        throw new AssertionError("no backpressure after " + maxSends + " sends of " + chunk.length + " bytes");
    }

    /**
     * Waits until {@code c}'s loop has run a task, then, in a later turn that first polled epoll,
     * a second one: readiness the kernel had signalled before this call has been dispatched.
     * {@code atCheckpoint} runs in that second task.
     */
    static void settle(TcpConnection c, Runnable atCheckpoint) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        c.execute(() -> c.execute(() -> {
            try {
                atCheckpoint.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }));
        Loopback.await(done);
    }
}
