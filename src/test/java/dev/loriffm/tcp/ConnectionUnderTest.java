package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.loop.EventLoopGroup;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The state of one run of {@link ConnectionStateMachineProperties}: a real {@link TcpConnection}
 * over a {@link ScriptedKernel}, the log of everything it reported, and a model of what lori's
 * semantics allow. Each step runs one action on the loop thread, waits until the loop has nothing
 * left to do for the connection, and then {@link #check}s every invariant.
 *
 * <p>Model fields are written by tasks on the loop thread and by callbacks, and read on the test
 * thread only after waiting for a loop task that ran later (which orders the accesses).
 */
final class ConnectionUnderTest {
    /** The lifecycle as the model expects it. */
    enum Phase { CONNECTING, UNCONNECTED_CLOSING, OPEN, CLOSING, CLOSED, FAILED }

    /** One entry of the log: a callback, or the start or end of a {@code send} call. */
    record Event(String kind, long id, byte[] data, boolean muted, int framing) {
        @Override
        public String toString() {
            return kind + (id != 0 ? " " + id : "") + (data != null ? " (" + data.length + " bytes)" : "")
                    + (muted ? " while muted" : "");
        }
    }

    // Callback kinds, and the markers an action writes around send().
    static final String STARTED = "started";
    static final String CONNECTING = "connecting";
    static final String CONNECTED = "connected";
    static final String FAILURE = "connection failure";
    static final String RECEIVED = "received";
    static final String SENT = "sent";
    static final String SEND_FAILED = "send failed";
    static final String THROTTLED = "throttled";
    static final String UNTHROTTLED = "unthrottled";
    static final String CLOSED = "closed";
    static final String SEND_CALL = "send called";
    static final String SEND_RETURNED = "send returned token";
    static final String SEND_REFUSED = "send refused";
    static final String UNEXPECTED = "unexpected callback";
    static final String REACTING = "reacting: ";

    private static final int SETTLE_ROUNDS = 10_000;

    final boolean client;
    final ScriptedKernel kernel;
    final Reactor loop;
    TcpConnection connection;
    private final long failuresBefore;

    final List<Event> events = new ArrayList<>();
    final List<String> steps = new ArrayList<>();

    // -- the model
    Phase phase;
    boolean muted;
    /** How many times unmute() was called. */
    long unmutes;
    /** The framing in effect: 0 streaming, else the message size. */
    int until;
    int minimum;
    /** Inside onReceived. */
    boolean receiving;
    /** Set by the yield action: the next onReceived calls yieldRead(). */
    boolean yieldNext;
    /** close() reached an open connection unmuted: a graceful close, the only way FIN may go out. */
    boolean gracefulClose;
    /**
     * The most bytes that may wait undelivered in the read buffer: the framing's remainder as of
     * the last time the read loop ran (bufferUntil alone does not deliver what is buffered).
     */
    int bufferedBound;
    /** Everything accepted by send, concatenated, and the end offset of each token (index id - 1). */
    final ByteArrayOutputStream accepted = new ByteArrayOutputStream();
    final List<Long> tokenEnds = new ArrayList<>();
    final ByteArrayOutputStream delivered = new ByteArrayOutputStream();
    TimerToken activeTimer;
    long lastTimerId;
    /** The application closed the connection (a hard close, or close() while muted): onClosed is due. */
    boolean closeExpected;
    /** The client's attempt was decided as failed or the application gave up: onConnectionFailure is due. */
    boolean failureExpected;
    /** One-shot reactions armed by steps: when the named callback next runs, it makes the call. */
    final List<Reaction> reactions = new ArrayList<>();

    /** In the next {@code callback} (a log kind), do {@code call} (a step run on the loop, from the callback). */
    record Reaction(String callback, String description, java.util.function.Consumer<ConnectionUnderTest> call) { }
    private int inboundSeq;
    private int outboundSeq = 100;

    private ConnectionUnderTest(boolean client, ScriptedKernel kernel, Reactor loop, int readBufferSize,
                                long failuresBefore) {
        this.client = client;
        this.kernel = kernel;
        this.loop = loop;
        this.minimum = readBufferSize;
        this.failuresBefore = failuresBefore;
        this.phase = client ? Phase.CONNECTING : Phase.OPEN;
    }

    /** Starts a server connection on a fake accepted socket whose kernel has {@code room} send-buffer bytes. */
    static ConnectionUnderTest server(EventLoopGroup group, int readBufferSize, long room) throws Exception {
        ScriptedKernel kernel = new ScriptedKernel(room);
        Reactor loop = (Reactor) group.loops().getFirst();
        ConnectionUnderTest t = new ConnectionUnderTest(false, kernel, loop, readBufferSize,
                onLoop(loop, loop::callbackFailures));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpListener listener = TcpListener.create(kernel, Loopback.LISTEN, group, "fake-host", 12345,
                new ListenerReceiver() {
                    @Override
                    public void onListenFailure(TcpListener l, ListenFailure failure) {
                        accepted.completeExceptionally(new AssertionError("fake listen failed: " + failure));
                    }

                    @Override
                    public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                        TcpConnection c = TcpConnection.server(Loopback.SERVE, socket, t.receiver,
                                ReadBufferSize.of(readBufferSize));
                        accepted.complete(c);
                        return c;
                    }
                }, IpVersion.DUAL_STACK, MaxSpawn.DEFAULT);
        t.connection = accepted.get(Loopback.WAIT_SECONDS, TimeUnit.SECONDS);
        onLoop(loop, () -> {
            listener.close(); // its one socket is accepted; the connection lives on without it
            return null;
        });
        t.settleAndCheck("start server (read buffer " + readBufferSize + ", room " + room + ")");
        return t;
    }

    /** Starts a client connection whose one connect attempt stays in flight until an action decides it. */
    static ConnectionUnderTest client(EventLoopGroup group, int readBufferSize, long room) throws Exception {
        ScriptedKernel kernel = new ScriptedKernel(room);
        Reactor loop = (Reactor) group.loops().getFirst();
        ConnectionUnderTest t = new ConnectionUnderTest(true, kernel, loop, readBufferSize,
                onLoop(loop, loop::callbackFailures));
        t.connection = TcpConnection.client(kernel, Loopback.CONNECT, loop, "fake-host", 7000, t.receiver,
                ClientOptions.DEFAULT.withReadBufferSize(ReadBufferSize.of(readBufferSize)));
        // Resolution runs off the loop, then the loop starts the attempt.
        if (!kernel.attemptStarted.await(Loopback.WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError("the connect attempt never started");
        }
        t.settleAndCheck("start client (read buffer " + readBufferSize + ", room " + room + ")");
        return t;
    }

    /** Releases the connection (a hard close) at the end of a run. */
    void dispose() {
        connection.dispose();
    }

    // ------------------------------------------------------------------ the receiver

    private final Receiver receiver = new Receiver();

    /** Logs every callback; called on the loop thread. */
    private final class Receiver implements ClientLifecycleReceiver, ServerLifecycleReceiver {
        private void log(String kind, long id, byte[] data) {
            events.add(new Event(kind, id, data, muted, until));
            for (int i = 0; i < reactions.size(); i++) {
                Reaction r = reactions.get(i);
                if (r.callback.equals(kind)) {
                    reactions.remove(i);
                    events.add(new Event("reacting: " + r.description, 0, null, muted, until));
                    r.call.accept(ConnectionUnderTest.this);
                    return;
                }
            }
        }

        @Override
        public void onConnecting(TcpConnection c, int inflight) {
            log(CONNECTING, inflight, null);
        }

        @Override
        public void onConnected(TcpConnection c) {
            log(CONNECTED, 0, null);
        }

        @Override
        public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
            phase(Phase.FAILED); // checked against failureExpected
            log(FAILURE + " " + reason, 0, null);
        }

        @Override
        public void onStarted(TcpConnection c) {
            log(STARTED, 0, null);
        }

        @Override
        public void onStartFailure(TcpConnection c, StartFailure reason) {
            log(UNEXPECTED + " onStartFailure " + reason, 0, null);
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            byte[] bytes = data.toArray(ValueLayout.JAVA_BYTE);
            delivered.writeBytes(bytes);
            receiving = true;
            try {
                log(RECEIVED, 0, bytes);
            } finally {
                receiving = false;
            }
            if (yieldNext) {
                yieldNext = false;
                c.yieldRead();
            }
        }

        @Override
        public void onSent(TcpConnection c, SendToken token) {
            log(SENT, token.id(), null);
        }

        @Override
        public void onSendFailed(TcpConnection c, SendToken token) {
            log(SEND_FAILED, token.id(), null);
        }

        @Override
        public void onThrottled(TcpConnection c) {
            log(THROTTLED, 0, null);
        }

        @Override
        public void onUnthrottled(TcpConnection c) {
            log(UNTHROTTLED, 0, null);
        }

        @Override
        public void onClosed(TcpConnection c) {
            phase(Phase.CLOSED); // checked against closeExpected and the kernel
            log(CLOSED, 0, null);
        }

        @Override
        public void onTimer(TcpConnection c, TimerToken token) {
            log(UNEXPECTED + " onTimer (timers are an hour long)", token.id(), null);
        }

        @Override
        public void onTimerFailure(TcpConnection c) {
            log(UNEXPECTED + " onTimerFailure", 0, null);
        }

        @Override
        public void onIdleTimeout(TcpConnection c) {
            log(UNEXPECTED + " onIdleTimeout", 0, null);
        }

        @Override
        public void onTlsReady(TcpConnection c) {
            log(UNEXPECTED + " onTlsReady", 0, null);
        }

        @Override
        public void onTlsFailure(TcpConnection c, TlsFailure reason) {
            log(UNEXPECTED + " onTlsFailure", 0, null);
        }
    }

    // ------------------------------------------------------------------ steps

    /** A step's work on the loop thread. */
    interface LoopAction {
        void run() throws Exception;
    }

    /**
     * Runs {@code action} on the loop thread, waits for the connection to settle and checks every
     * invariant; {@return this} for jqwik's transformers.
     */
    ConnectionUnderTest step(String description, LoopAction action) {
        try {
            long handedBefore = kernel.handedOut.size();
            boolean endBefore = kernel.endHandedOut;
            long unmutesBefore = unmutes;
            boolean mutedBefore = onLoop(loop, () -> {
                boolean before = muted;
                action.run();
                return before;
            });
            settleAndCheck(description);
            if (mutedBefore && muted && unmutes == unmutesBefore) {
                require(kernel.handedOut.size() == handedBefore && kernel.endHandedOut == endBefore,
                        "a muted connection read from the socket");
            }
        } catch (AssertionError e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError("step failed: " + description, e);
        }
        return this;
    }

    /** Bytes for the peer to send: a running sequence, so the streams can be compared as prefixes. */
    byte[] nextInbound(int size) {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (inboundSeq++ % 251);
        }
        return data;
    }

    /** Bytes for the connection to send, from a different running sequence. */
    byte[] nextOutbound(int size) {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (outboundSeq++ % 241);
        }
        return data;
    }

    /** Bytes accepted but not yet written. */
    long pending() {
        return accepted.size() - kernel.written.size();
    }

    /** Bytes read from the socket but not yet delivered. */
    long buffered() {
        return isLive() || phase == Phase.CONNECTING ? kernel.handedOut.size() - delivered.size() : 0;
    }

    boolean isLive() {
        return phase == Phase.OPEN || phase == Phase.CLOSING;
    }

    boolean isConnecting() {
        return phase == Phase.CONNECTING || phase == Phase.UNCONNECTED_CLOSING;
    }

    /** What the peer did shows in the kernel: the connection read the end, or a write failed. */
    void syncWithKernel() {
        if (isLive() && (kernel.endHandedOut || kernel.writeFailed)) {
            phase(Phase.CLOSED);
        }
    }

    /** The model's phase changes; a hard close stops the user timer. */
    void phase(Phase next) {
        phase = next;
        if (next == Phase.CLOSED || next == Phase.FAILED) {
            activeTimer = null;
        }
    }

    /** The read loop ran unmuted: what stays buffered is below the current framing. */
    void readLoopRan() {
        if (!muted) {
            bufferedBound = until == 0 ? 0 : until - 1;
        }
    }

    /** Sends via {@code call}, checking the result against the model; logs the call around it. */
    void send(byte[][] parts, java.util.function.Supplier<SendResult> call) {
        syncWithKernel();
        long pendingBefore = pending();
        SendResult expected = phase != Phase.OPEN ? SendError.NOT_CONNECTED
                : pendingBefore > 0 ? SendError.NOT_WRITEABLE
                : new SendToken(tokenEnds.size() + 1);
        events.add(new Event(SEND_CALL, 0, null, muted, until));
        SendResult result = call.get();
        require(result.equals(expected), "send returned " + result + ", the model expected " + expected
                + " (phase " + phase + ", pending " + pendingBefore + ")");
        if (result instanceof SendToken token) {
            for (byte[] part : parts) {
                accepted.writeBytes(part);
            }
            tokenEnds.add((long) accepted.size());
            events.add(new Event(SEND_RETURNED, token.id(), null, muted, until));
        } else {
            events.add(new Event(SEND_REFUSED, 0, null, muted, until));
        }
    }

    // ------------------------------------------------------------------ settling

    /**
     * Waits until the loop has run everything this connection queued: rounds of marker tasks
     * (each runs after every task queued before it) until two rounds in a row saw no callback and
     * no call into the kernel.
     */
    private void settle() throws Exception {
        long last = -1;
        int quiet = 0;
        for (int round = 0; round < SETTLE_ROUNDS; round++) {
            long activity = onLoop(loop, () -> events.size() + kernel.syscalls);
            quiet = activity == last ? quiet + 1 : 0;
            if (quiet == 2) {
                return;
            }
            last = activity;
        }
        throw new AssertionError("the connection never settled (it keeps calling back or reading)");
    }

    private void settleAndCheck(String description) throws Exception {
        steps.add(description);
        settle();
        check();
    }

    // ------------------------------------------------------------------ invariants

    /** A snapshot of what the connection says about itself, taken on its loop. */
    private record Snapshot(boolean open, boolean closed, boolean writeable, boolean muted, int minimum, int size,
                            int timers, long failures) { }

    private void check() throws Exception {
        Snapshot s = onLoop(loop, () -> {
            syncWithKernel();
            return new Snapshot(connection.isOpen(), connection.isClosed(),
                    connection.isWriteable(), connection.isMuted(), connection.readBufferMinimum(),
                    connection.readBufferSize(), loop.pendingTimers(), loop.callbackFailures());
        });
        require(s.failures == failuresBefore, "a callback or task threw into the loop (see the log)");
        Log log = checkLog();
        checkStateMatrix(s, log);
        checkWrites(s, log);
        checkReads();
        require(s.muted == muted, "isMuted() is " + s.muted);
        require(s.minimum == minimum, "readBufferMinimum() is " + s.minimum + ", the model says " + minimum);
        require(s.size >= s.minimum, "readBufferSize() " + s.size + " is below the minimum " + s.minimum);
        require(s.timers == (activeTimer != null ? 1 : 0), "the loop holds " + s.timers
                + " timers; the model's user timer is " + activeTimer);
    }

    /** What a pass over the log found. */
    private record Log(boolean begun, boolean closed, boolean failed, boolean throttled, long completed,
                       long accepted) { }

    /** Replays the whole log through the callback-order rules. */
    private Log checkLog() {
        boolean begun = false;
        boolean closed = false;
        boolean failed = false;
        boolean throttled = false;
        // Open send calls (a callback inside send may send again): whether onClosed preceded each.
        java.util.ArrayDeque<Boolean> sends = new java.util.ArrayDeque<>();
        long acceptedCount = 0;
        long completed = 0;
        int callbacks = 0; // callbacks before this event (the send markers are not callbacks)
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            String where = "event " + i + " (" + e + ")";
            boolean marker = e.kind.equals(SEND_CALL) || e.kind.equals(SEND_REFUSED) || e.kind.equals(SEND_RETURNED)
                    || e.kind.startsWith(REACTING);
            if (e.kind.startsWith(REACTING)) {
                continue;
            }
            require(!failed || marker, where + " after the connection failure");
            int callback = callbacks;
            callbacks += marker ? 0 : 1;
            require(!e.kind.startsWith(UNEXPECTED), where);
            switch (e.kind) {
                case CONNECTING -> require(client && callback == 0 && e.id == 1, where + ": connecting 1 comes first");
                case CONNECTED -> {
                    require(client && !begun && callback == 1, where + ": onConnected once, right after connecting");
                    begun = true;
                }
                case STARTED -> {
                    require(!client && callback == 0, where + ": onStarted once and first");
                    begun = true;
                }
                case SEND_CALL -> {
                    sends.push(closed);
                }
                case SEND_REFUSED -> require(sends.poll() != null, where + ": unmatched");
                case SEND_RETURNED -> {
                    Boolean closedBeforeSend = sends.poll();
                    require(closedBeforeSend != null && begun && !closedBeforeSend,
                            where + ": accepted on a connection that was not open");
                    require(e.id == acceptedCount + 1, where + ": token ids count up from 1");
                    acceptedCount++;
                }
                case SENT, SEND_FAILED -> {
                    require(e.id <= acceptedCount, where + ": completion before send returned the token");
                    require(e.id == completed + 1, where + ": every token completes once, in order (next is "
                            + (completed + 1) + ")");
                    if (e.kind.equals(SENT)) {
                        require(!closed, where + ": onSent after onClosed");
                        require(tokenEnds.get((int) e.id - 1) <= kernel.written.size(),
                                where + ": onSent before the kernel took all its bytes");
                    } else {
                        require(closed, where + ": onSendFailed before onClosed");
                        require(tokenEnds.get((int) e.id - 1) > kernel.written.size(),
                                where + ": onSendFailed for a token whose bytes were all written");
                    }
                    completed++;
                }
                case RECEIVED -> {
                    require(begun && !closed, where + ": data delivered on a connection that is not open");
                    require(!e.muted, where + ": data delivered while muted");
                    require(e.framing == 0 ? e.data.length > 0 : e.data.length == e.framing,
                            where + ": framing is " + e.framing);
                }
                case THROTTLED -> {
                    require(begun && !closed && !throttled, where + ": onThrottled must alternate with onUnthrottled");
                    throttled = true;
                }
                case UNTHROTTLED -> {
                    require(!closed && throttled, where + ": onUnthrottled without onThrottled");
                    throttled = false;
                }
                case CLOSED -> {
                    require(begun && !closed, where + ": onClosed once, after the connection began");
                    closed = true;
                }
                default -> {
                    require(e.kind.equals(FAILURE + " " + ConnectionFailure.TCP) && client && !begun,
                            where + ": a client that never connected fails with TCP");
                    failed = true;
                }
            }
        }
        return new Log(begun, closed, failed, throttled, completed, acceptedCount);
    }

    private void checkStateMatrix(Snapshot s, Log log) {
        String state = "phase " + phase + ": isOpen " + s.open + ", isClosed " + s.closed + ", isWriteable "
                + s.writeable;
        switch (phase) {
            case CONNECTING -> require(!s.open && !s.closed && !s.writeable && !log.begun && !log.failed, state);
            case UNCONNECTED_CLOSING -> require(!s.open && s.closed && !s.writeable && !log.failed, state);
            case OPEN -> require(s.open && !s.closed && s.writeable == (pending() == 0) && log.begun && !log.closed,
                    state);
            case CLOSING -> require(!s.open && s.closed && !s.writeable && !log.closed, state);
            case CLOSED -> require(!s.open && s.closed && !s.writeable && log.closed, state + ": onClosed expected");
            case FAILED -> require(!s.open && s.closed && !s.writeable && log.failed,
                    state + ": onConnectionFailure expected");
        }
        require(!log.closed || closeExpected || kernel.endHandedOut || kernel.writeFailed,
                "onClosed although the application did not close and the peer did not end the connection");
        require(!log.failed || failureExpected, "onConnectionFailure although the attempt was not decided as failed");
        int closes = kernel.socketFd < 0 ? 0 : kernel.socketCloses();
        boolean released = phase == Phase.CLOSED || phase == Phase.FAILED;
        require(closes == (released ? 1 : 0), "the socket was closed " + closes + " times in phase " + phase);
    }

    private void checkWrites(Snapshot s, Log log) {
        byte[] out = kernel.written.toByteArray();
        byte[] in = accepted.toByteArray();
        require(out.length <= in.length && Arrays.equals(out, 0, out.length, in, 0, out.length),
                "the kernel got bytes that are not a prefix of what send accepted");
        long pending = pending();
        if (isLive()) {
            if (pending > 0) {
                require(kernel.room == 0 && !kernel.failWrites,
                        pending + " bytes wait although the kernel would take them");
            } else {
                require(log.completed == log.accepted, "all bytes written but " + (log.accepted - log.completed)
                        + " tokens did not complete");
            }
        } else if (phase == Phase.CLOSED || phase == Phase.FAILED) {
            require(log.completed == log.accepted, (log.accepted - log.completed) + " tokens never completed");
        }
        if (phase == Phase.OPEN) {
            require(log.throttled == (pending > 0),
                    "throttled " + log.throttled + " with " + pending + " bytes pending");
        }
        require(kernel.finished.size() <= 1, "FIN sent " + kernel.finished.size() + " times");
        if (!kernel.finished.isEmpty()) {
            require(gracefulClose && kernel.writtenAtFin == in.length,
                    "FIN sent without a graceful close, or before every accepted byte was written");
        }
        if (phase == Phase.CLOSING && pending == 0) {
            require(kernel.finished.size() == 1, "closing with nothing queued, but no FIN");
        }
    }

    private void checkReads() {
        byte[] got = delivered.toByteArray();
        byte[] handed = kernel.handedOut.toByteArray();
        require(got.length <= handed.length && Arrays.equals(got, 0, got.length, handed, 0, got.length),
                "delivered bytes are not a prefix of what the kernel handed out");
        if (isLive() && !muted) {
            require(!kernel.inboundPending(), "an unmuted connection left data in the kernel");
            long buffered = handed.length - got.length;
            require(buffered <= bufferedBound, buffered + " bytes stay undelivered; at most " + bufferedBound
                    + " may (framing " + until + ")");
        }
    }

    static void require(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }

    /** Runs {@code task} on {@code loop}; {@return its result}, rethrowing what it threw. */
    static <T> T onLoop(Reactor loop, Callable<T> task) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                result.complete(task.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        try {
            return result.get(Loopback.WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AssertionError a) {
                throw a;
            }
            throw e;
        }
    }

    @Override
    public String toString() {
        return (client ? "client" : "server") + " after " + steps + ", phase " + phase + ", log " + events;
    }
}
