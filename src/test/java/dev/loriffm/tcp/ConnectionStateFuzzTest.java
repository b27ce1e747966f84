package dev.loriffm.tcp;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.loop.EventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import static dev.loriffm.tcp.FakeBackend.READABLE;
import static dev.loriffm.tcp.FakeBackend.WRITEABLE;

/**
 * Coverage-guided fuzzing (Jazzer) of the connection state machine: a server connection on a
 * {@link FuzzSocket} gets a fuzzer-chosen sequence of API calls (send in its five forms,
 * {@code close}, {@code hardClose}, {@code mute}, {@code unmute}, {@code readAgain},
 * {@code setTimer}, {@code cancelTimer}), socket events (readable, writeable, error and hang-up
 * flags, data, the peer's FIN, receive errors) and socket behaviour (write capacity, EAGAIN,
 * write errors), and fuzzer-chosen calls from inside its callbacks (send, close, hardClose, mute
 * from {@code onSent}, {@code onThrottled}, {@code onClosed} ...).
 *
 * <p>Whatever the sequence, lori's invariants hold: every accepted send completes exactly once,
 * with {@code onSent} if and only if all its bytes were written, in token order, and every failed
 * token after every sent one; {@code onSendFailed} comes only after {@code onClosed}, in a later
 * loop turn; sends, mute, unmute and timer calls never call back before they return (but a send
 * that hard-closes reports onSent and onClosed); nothing else follows {@code onClosed}, which comes
 * once; the socket gets exactly the accepted bytes in order, FIN only after {@code close()} and
 * after all of them; a send's result is what {@code isWriteable}/{@code isOpen} promised;
 * {@code close()} while muted is a hard close and, with nothing queued, sends FIN at once; throttle
 * callbacks alternate; received bytes are the arrived bytes in order and never delivered while
 * muted; a timer token fires once, only if it was set; the socket is closed once and never used
 * after; and no exception escapes into the loop.
 *
 * <p>The suite replays the corpus under {@code ConnectionStateFuzzTestInputs}; {@code scripts/fuzz
 * ConnectionStateFuzzTest} fuzzes it.
 */
class ConnectionStateFuzzTest {
    private static EventLoopGroup group;

    @BeforeAll
    static void startLoop() {
        group = EventLoopGroup.create(1);
    }

    @AfterAll
    static void stopLoop() {
        group.close();
    }

    @FuzzTest(maxDuration = "30s")
    void lifecycleInvariantsHoldForAnySequenceOfCallsAndEvents(FuzzedDataProvider data) throws Exception {
        Run run = new Run((Reactor) group.next(), Program.decode(data));
        run.start();
        FuzzRuns.await(run.done, run.socket.violations, run.program);
    }

    // Step kinds. IN_CALLBACK queues its action (SEND..UNMUTE) for the next callback of any kind.
    static final int ARRIVE = 0;
    static final int EVENT = 1;
    static final int PEER_FIN = 2;
    static final int RECEIVE_ERROR = 3;
    static final int CAPACITY = 4;
    static final int DRAIN = 5;
    static final int SEND_ERROR = 6;
    static final int SEND = 7;
    static final int CLOSE = 8;
    static final int HARD_CLOSE = 9;
    static final int MUTE = 10;
    static final int UNMUTE = 11;
    static final int READ_AGAIN = 12;
    static final int SET_TIMER = 13;
    static final int CANCEL_TIMER = 14;
    static final int IN_CALLBACK = 15;
    private static final String[] NAMES = {"arrive", "event", "peerFin", "receiveError", "capacity", "drain",
        "sendError", "send", "close", "hardClose", "mute", "unmute", "readAgain", "setTimer", "cancelTimer",
        "inCallback"};
    private static final int MAX_OPS = 200;
    private static final int[] EVENT_BITS = {Epoll.EPOLLIN, Epoll.EPOLLOUT, Epoll.EPOLLERR, Epoll.EPOLLHUP,
        Epoll.EPOLLRDHUP};

    /**
     * One step of a program.
     *
     * @param kind     what it does
     * @param value    its number: a size, an event mask, a capacity, a send's form, or IN_CALLBACK's action
     * @param size     a send's length (SEND, or IN_CALLBACK of SEND)
     * @param bytes    the bytes that arrive (ARRIVE)
     * @param sameTurn whether the next step runs in the same loop task rather than a later one
     */
    record Op(int kind, int value, int size, byte[] bytes, boolean sameTurn) {
        @Override
        public String toString() {
            String what = switch (kind) {
                case ARRIVE -> "arrive " + bytes.length;
                case SEND -> "send " + value + "/" + size;
                case IN_CALLBACK -> "inCallback " + NAMES[value] + " " + size;
                default -> NAMES[kind] + " " + value;
            };
            return sameTurn ? what + "+" : what;
        }
    }

    /** The steps, decoded from the fuzzer's bytes. */
    record Program(List<Op> ops) {
        static Program decode(FuzzedDataProvider data) {
            List<Op> ops = new ArrayList<>();
            while (data.remainingBytes() > 0 && ops.size() < MAX_OPS) {
                int kind = data.consumeInt(ARRIVE, IN_CALLBACK);
                boolean sameTurn = data.consumeBoolean();
                ops.add(switch (kind) {
                    case ARRIVE -> new Op(kind, 0, 0, data.consumeBytes(data.consumeInt(1, 300)), sameTurn);
                    case EVENT -> new Op(kind, data.consumeInt(1, (1 << EVENT_BITS.length) - 1), 0, null, sameTurn);
                    case CAPACITY, DRAIN -> new Op(kind, data.consumeInt(0, 2000), 0, null, sameTurn);
                    case SEND -> new Op(kind, data.consumeInt(0, 4), data.consumeInt(0, 3000), null, sameTurn);
                    case SET_TIMER -> new Op(kind, data.consumeInt(1, 3), 0, null, sameTurn);
                    case IN_CALLBACK -> new Op(kind, data.consumeInt(SEND, UNMUTE), data.consumeInt(0, 3000), null,
                            sameTurn);
                    default -> new Op(kind, 0, 0, null, sameTurn);
                });
            }
            return new Program(ops);
        }
    }

    /** One input's run: the connection's receiver, the program's driver and the oracle. Loop-confined. */
    static final class Run implements ServerLifecycleReceiver {
        final Reactor loop;
        final Program program;
        final FuzzSocket socket = new FuzzSocket();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final List<String> violations = socket.violations;
        private final ArrayDeque<Op> callbackActions = new ArrayDeque<>();
        private TcpConnection connection;
        private long failuresBefore;
        // Sends: every accepted token's cumulative end offset, and the bytes accepted, in order.
        private final TreeMap<Long, Long> tokenEnds = new TreeMap<>();
        private byte[] accepted = new byte[1024];
        private int acceptedLength;
        private long lastToken;
        private long lastSent;
        private long firstFailed = Long.MAX_VALUE;
        private long lastFailed;
        private final TreeMap<Long, String> completed = new TreeMap<>();
        private int verified; // written bytes already compared with the accepted ones
        // Receives.
        private byte[] arrived = new byte[256];
        private int arrivedLength;
        private long delivered;
        private boolean muted;
        // Lifecycle.
        private boolean closeCalled;
        private int closedCount;
        private boolean closedMarkerRan;
        // The API call in progress that must not call back (send, mute, timers ...), or null; and
        // whether it called onSent or onClosed (allowed from a send only if it hard-closed).
        private String silentCall;
        private boolean sentInCall;
        private boolean closedInCall;
        private boolean throttled;
        private TimerToken activeTimer;
        private boolean finishing;

        Run(Reactor loop, Program program) {
            this.loop = loop;
            this.program = program;
        }

        void start() {
            FuzzRuns.server(socket, loop, this, ReadBufferSize.of(512), null);
        }

        private void step(int index) {
            try {
                if (index == program.ops().size()) {
                    finish();
                    return;
                }
                Op op = program.ops().get(index);
                switch (op.kind()) {
                    case ARRIVE -> {
                        record(op.bytes());
                        socket.arrive(op.bytes());
                        socket.event(READABLE);
                    }
                    case EVENT -> {
                        int events = 0;
                        for (int bit = 0; bit < EVENT_BITS.length; bit++) {
                            events |= (op.value() & (1 << bit)) != 0 ? EVENT_BITS[bit] : 0;
                        }
                        socket.event(events);
                    }
                    case PEER_FIN -> {
                        socket.arriveEndOfStream();
                        socket.event(READABLE | Epoll.EPOLLRDHUP);
                    }
                    case RECEIVE_ERROR -> {
                        socket.arriveError(Errno.ECONNRESET);
                        socket.event(READABLE | Epoll.EPOLLERR);
                    }
                    case CAPACITY -> socket.sendCapacity = op.value();
                    case DRAIN -> {
                        socket.sendCapacity = socket.sendCapacity == Long.MAX_VALUE ? Long.MAX_VALUE
                                : socket.sendCapacity + op.value();
                        socket.event(WRITEABLE);
                    }
                    case SEND_ERROR -> socket.sendErrno = Errno.EPIPE;
                    case IN_CALLBACK -> callbackActions.add(op);
                    default -> act(op.kind(), op.value(), op.size());
                }
                checkWritten();
                if (op.sameTurn()) {
                    step(index + 1);
                } else {
                    loop.defer(() -> step(index + 1));
                }
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }

        private void record(byte[] bytes) {
            if (arrivedLength + bytes.length > arrived.length) {
                arrived = Arrays.copyOf(arrived, Math.max(arrived.length * 2, arrivedLength + bytes.length));
            }
            System.arraycopy(bytes, 0, arrived, arrivedLength, bytes.length);
            arrivedLength += bytes.length;
        }

        /** An API call, from a step or from inside a callback. */
        private void act(int kind, int value, int size) {
            String outer = silentCall;
            boolean outerSent = sentInCall;
            boolean outerClosed = closedInCall;
            boolean silent = kind == SEND || kind == MUTE || kind == UNMUTE || kind == SET_TIMER
                    || kind == CANCEL_TIMER;
            silentCall = silent ? NAMES[kind] : null;
            sentInCall = false;
            closedInCall = false;
            try {
                call(kind, value, size);
                if (silent && (sentInCall || closedInCall) && !(kind == SEND && closedInCall)) {
                    violations.add((sentInCall ? "onSent" : "onClosed") + " from inside " + NAMES[kind] + "()");
                }
            } finally {
                silentCall = outer;
                sentInCall = outerSent;
                closedInCall = outerClosed;
            }
        }

        private void call(int kind, int value, int size) {
            TcpConnection c = connection;
            switch (kind) {
                case SEND -> send(c, value, size);
                case CLOSE -> {
                    boolean wasOpen = c.isOpen();
                    boolean wasMuted = c.isMuted();
                    boolean nothingQueued = socket.writtenTotal() == acceptedLength;
                    closeCalled = true;
                    c.close();
                    if (wasOpen && wasMuted && closedCount == 0) {
                        violations.add("close() while muted did not hard-close (lori#344)");
                    }
                    if (wasOpen && !wasMuted && nothingQueued && !socket.finSent && closedCount == 0) {
                        violations.add("close() with nothing queued sent no FIN");
                    }
                }
                case HARD_CLOSE -> {
                    closeCalled = true;
                    c.hardClose();
                }
                case MUTE -> {
                    c.mute();
                    muted = true;
                }
                case UNMUTE -> {
                    c.unmute();
                    muted = false;
                }
                case READ_AGAIN -> c.readAgain();
                case SET_TIMER -> {
                    boolean open = c.isOpen();
                    SetTimerResult r = c.setTimer(new TimerDuration(value));
                    if (r instanceof TimerToken token) {
                        if (!open || activeTimer != null) {
                            violations.add("setTimer gave " + token + " while " + (open ? activeTimer + " is active"
                                    : "not open"));
                        }
                        activeTimer = token;
                    } else if (open && activeTimer == null) {
                        violations.add("setTimer refused (" + r + ") on an open connection with no timer");
                    }
                }
                case CANCEL_TIMER -> {
                    if (activeTimer != null) {
                        c.cancelTimer(activeTimer);
                        activeTimer = null;
                    }
                }
                default -> throw new IllegalArgumentException("not an action: " + kind);
            }
        }

        /** Sends {@code size} bytes in one of five forms and checks the result against isWriteable. */
        private void send(TcpConnection c, int form, int size) {
            boolean writeable = c.isWriteable();
            boolean open = c.isOpen();
            byte[] payload = new byte[size];
            for (int i = 0; i < size; i++) {
                payload[i] = (byte) (acceptedLength + i * 7 + lastToken);
            }
            SendResult r = switch (form) {
                case 0 -> c.send(payload);
                case 1 -> c.send(ByteBuffer.wrap(payload));
                case 2 -> {
                    byte[] reused = payload.clone();
                    SendResult copied = c.sendCopy(MemorySegment.ofArray(reused));
                    Arrays.fill(reused, (byte) 0); // sendCopy: the caller may reuse its memory at once
                    yield copied;
                }
                case 3 -> c.send(List.of(Arrays.copyOfRange(payload, 0, size / 2), new byte[0],
                        ByteBuffer.wrap(payload, size / 2, size - size / 2)));
                default -> c.send(MemorySegment.ofArray(payload));
            };
            SendResult expected = writeable ? null : open ? SendError.NOT_WRITEABLE : SendError.NOT_CONNECTED;
            if (r instanceof SendToken token) {
                if (expected != null) {
                    violations.add("send accepted (" + token + ") where it should be " + expected);
                }
                if (token.id() <= lastToken) {
                    violations.add("token " + token.id() + " after token " + lastToken);
                }
                lastToken = token.id();
                if (acceptedLength + size > accepted.length) {
                    accepted = Arrays.copyOf(accepted, Math.max(accepted.length * 2, acceptedLength + size));
                }
                System.arraycopy(payload, 0, accepted, acceptedLength, size);
                acceptedLength += size;
                tokenEnds.put(token.id(), (long) acceptedLength);
            } else if (!r.equals(expected)) {
                violations.add("send returned " + r + ", expected " + (expected == null ? "a token" : expected));
            }
        }

        /** The socket got exactly the accepted bytes, in order. */
        private void checkWritten() {
            byte[] fresh = socket.takeWritten();
            if (verified + fresh.length > acceptedLength || !Arrays.equals(accepted, verified,
                    verified + fresh.length, fresh, 0, fresh.length)) {
                violations.add("written bytes " + verified + ".." + (verified + fresh.length)
                        + " are not the accepted bytes (" + acceptedLength + " accepted)");
            }
            verified += fresh.length;
        }

        /** Calls the next queued action from inside a callback, if any. */
        private void inCallback() {
            Op action = finishing ? null : callbackActions.poll();
            if (action != null) {
                act(action.value(), action.value() == SEND ? action.size() % 5 : 0, action.size());
            }
        }

        private void afterClosed(String callback) {
            if (closedCount > 0) {
                violations.add(callback + " after onClosed");
            }
            calledBack(callback);
        }

        /**
         * Sends and flow or timer calls never call back before they return (lori#345 ordering),
         * except a send that hard-closes (a write error): onSent for what was written, onClosed.
         */
        private void calledBack(String callback) {
            if (silentCall == null) {
                return;
            }
            switch (callback) {
                case "onSent" -> sentInCall = true;
                case "onClosed" -> closedInCall = true;
                default -> violations.add(callback + " from inside " + silentCall + "()");
            }
        }

        /** After the program: hard-close, let deferred callbacks run, then check every token. */
        private void finish() {
            finishing = true;
            connection.hardClose();
            checkWritten();
            settle(0);
        }

        private void settle(int turn) {
            try {
                if (completed.size() < tokenEnds.size() && turn < FuzzRuns.SETTLE_TURNS) {
                    loop.defer(() -> settle(turn + 1));
                    return;
                }
                for (long token : tokenEnds.keySet()) {
                    if (!completed.containsKey(token)) {
                        violations.add("token " + token + " never completed");
                    }
                }
                if (closedCount != 1 || !socket.closed) {
                    violations.add("onClosed " + closedCount + " times, socket closed " + socket.closed);
                }
                if (socket.finSent && (!closeCalled || socket.writtenAtFin != acceptedLength)) {
                    violations.add("FIN after " + socket.writtenAtFin + " of " + acceptedLength
                            + " accepted bytes, close() called " + closeCalled);
                }
                if (loop.callbackFailures() != failuresBefore) {
                    violations.add((loop.callbackFailures() - failuresBefore) + " exceptions escaped into the loop");
                }
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }

        /** Records a token's completion and checks it against what was written. */
        private void complete(SendToken token, boolean sent) {
            Long end = tokenEnds.get(token.id());
            String previous = completed.put(token.id(), sent ? "sent" : "failed");
            if (end == null) {
                violations.add((sent ? "onSent " : "onSendFailed ") + token + " was never accepted");
                return;
            }
            if (previous != null) {
                violations.add(token + " completed twice: " + previous + ", then " + (sent ? "sent" : "failed"));
            }
            checkWritten();
            boolean written = verified >= end;
            if (sent != written) {
                violations.add((sent ? "onSent " : "onSendFailed ") + token + " with " + verified + " of its "
                        + end + " bytes written");
            }
        }

        @Override
        public void onStarted(TcpConnection c) {
            connection = c;
            failuresBefore = loop.callbackFailures();
            loop.defer(() -> step(0));
        }

        @Override
        public void onStartFailure(TcpConnection c, StartFailure reason) {
            violations.add("onStartFailure " + reason);
            done.complete(null);
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            afterClosed("onReceived");
            if (muted) {
                violations.add("onReceived while muted");
            }
            byte[] bytes = data.toArray(ValueLayout.JAVA_BYTE);
            if (!data.isReadOnly() || bytes.length == 0 || delivered + bytes.length > arrivedLength
                    || !Arrays.equals(arrived, (int) delivered, (int) delivered + bytes.length, bytes, 0,
                    bytes.length)) {
                violations.add("received bytes " + delivered + ".." + (delivered + bytes.length)
                        + " are not the bytes that arrived there (" + arrivedLength + " arrived)");
            }
            delivered += bytes.length;
            inCallback();
        }

        @Override
        public void onSent(TcpConnection c, SendToken token) {
            afterClosed("onSent");
            if (token.id() <= lastSent || lastFailed != 0) {
                violations.add("onSent " + token + " after sent " + lastSent + " / failed " + lastFailed);
            }
            lastSent = token.id();
            complete(token, true);
            inCallback();
        }

        @Override
        public void onSendFailed(TcpConnection c, SendToken token) {
            calledBack("onSendFailed");
            if (closedCount == 0 || !closedMarkerRan) {
                violations.add("onSendFailed " + token + (closedCount == 0 ? " before onClosed"
                        : " in the same turn as onClosed"));
            }
            if (token.id() <= lastFailed || token.id() <= lastSent) {
                violations.add("onSendFailed " + token + " after sent " + lastSent + " / failed " + lastFailed);
            }
            lastFailed = token.id();
            firstFailed = Math.min(firstFailed, token.id());
            complete(token, false);
            inCallback();
        }

        @Override
        public void onThrottled(TcpConnection c) {
            afterClosed("onThrottled");
            if (throttled) {
                violations.add("onThrottled twice");
            }
            throttled = true;
            inCallback();
        }

        @Override
        public void onUnthrottled(TcpConnection c) {
            afterClosed("onUnthrottled");
            if (!throttled) {
                violations.add("onUnthrottled without onThrottled");
            }
            throttled = false;
            inCallback();
        }

        @Override
        public void onTimer(TcpConnection c, TimerToken token) {
            afterClosed("onTimer");
            if (!token.equals(activeTimer)) {
                violations.add("onTimer " + token + " while the active timer is " + activeTimer);
            }
            activeTimer = null;
            inCallback();
        }

        @Override
        public void onTimerFailure(TcpConnection c) {
            violations.add("onTimerFailure");
        }

        @Override
        public void onIdleTimeout(TcpConnection c) {
            violations.add("onIdleTimeout without an idle timeout");
        }

        @Override
        public void onClosed(TcpConnection c) {
            calledBack("onClosed");
            closedCount++;
            if (closedCount > 1) {
                violations.add("onClosed twice");
            }
            // Deferred before the runtime defers its onSendFailed calls: it must run first.
            closedMarkerRan = false;
            loop.defer(() -> closedMarkerRan = true);
            inCallback();
        }
    }
}
