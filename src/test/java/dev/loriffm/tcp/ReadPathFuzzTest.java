package dev.loriffm.tcp;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.loop.EventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.loriffm.tcp.FakeBackend.READABLE;

/**
 * Coverage-guided fuzzing (Jazzer) of the plaintext read path and its framing: a server
 * connection on a {@link FuzzSocket} receives fuzzer-chosen bytes in fuzzer-chosen pieces, while
 * fuzzer-chosen operations ({@code bufferUntil}, {@code setReadBufferMinimum},
 * {@code resizeReadBuffer}, {@code mute}, {@code unmute}, {@code yieldRead}, {@code readAgain})
 * run between the pieces and inside {@code onReceived}, with read buffer sizes on both sides of
 * the loop's shared receive area.
 *
 * <p>Whatever the sequence: the bytes delivered are exactly the bytes that arrived, in order, none
 * lost, repeated or invented (after a final unmute and switch to streaming, everything held comes
 * out); a framed message has exactly the size asked for; nothing is delivered while muted; a
 * message after {@code yieldRead} waits for a later loop turn; every slice is read-only and
 * readable in its callback; each operation's result is the one lori's rules give
 * ({@code until <= minimum <= size}, refusals below the framing or the buffered bytes); the socket
 * is never read into an empty window or after close; and no exception escapes into the loop.
 *
 * <p>The suite replays the corpus under {@code ReadPathFuzzTestInputs}; {@code scripts/fuzz
 * ReadPathFuzzTest} fuzzes it.
 */
class ReadPathFuzzTest {
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
    void deliveredBytesAreTheArrivedBytesInOrderWhateverTheFraming(FuzzedDataProvider data) throws Exception {
        Run run = new Run((Reactor) group.next(), Program.decode(data));
        run.start();
        FuzzRuns.await(run.done, run.socket.violations, run.program);
    }

    // Operation kinds. IN_CALLBACK queues its action (one of BUFFER_UNTIL..READ_AGAIN) for the next onReceived.
    static final int ARRIVE = 0;
    static final int READABLE_EVENT = 1;
    static final int BUFFER_UNTIL = 2;
    static final int STREAMING = 3;
    static final int MINIMUM = 4;
    static final int RESIZE = 5;
    static final int MUTE = 6;
    static final int UNMUTE = 7;
    static final int YIELD = 8;
    static final int READ_AGAIN = 9;
    static final int IN_CALLBACK = 10;
    private static final String[] NAMES = {"arrive", "readable", "bufferUntil", "streaming", "minimum", "resize",
        "mute", "unmute", "yield", "readAgain", "inCallback"};
    private static final int MAX_OPS = 256;

    /**
     * One step of a program.
     *
     * @param kind     what it does
     * @param value    a size (framing, minimum, resize) or, for IN_CALLBACK, the action's kind
     * @param size     the action's size (IN_CALLBACK)
     * @param bytes    the bytes that arrive (ARRIVE)
     * @param sameTurn whether the next step runs in the same loop task rather than a later one
     */
    record Op(int kind, int value, int size, byte[] bytes, boolean sameTurn) {
        @Override
        public String toString() {
            String what = switch (kind) {
                case ARRIVE -> "arrive " + bytes.length;
                case IN_CALLBACK -> "inCallback " + NAMES[value] + " " + size;
                default -> NAMES[kind] + " " + value;
            };
            return sameTurn ? what + "+" : what;
        }
    }

    /** A read buffer size and the steps, decoded from the fuzzer's bytes. */
    record Program(int bufferSize, List<Op> ops) {
        static Program decode(FuzzedDataProvider data) {
            int bufferSize = size(data);
            List<Op> ops = new ArrayList<>();
            while (data.remainingBytes() > 0 && ops.size() < MAX_OPS) {
                int kind = data.consumeInt(ARRIVE, IN_CALLBACK);
                boolean sameTurn = data.consumeBoolean();
                ops.add(switch (kind) {
                    case ARRIVE -> new Op(kind, 0, 0, data.consumeBytes(data.consumeInt(1, 600)), sameTurn);
                    case BUFFER_UNTIL, MINIMUM, RESIZE -> new Op(kind, size(data), 0, null, sameTurn);
                    case IN_CALLBACK -> new Op(kind, data.consumeInt(BUFFER_UNTIL, READ_AGAIN), size(data), null,
                            sameTurn);
                    default -> new Op(kind, 0, 0, null, sameTurn);
                });
            }
            return new Program(bufferSize, ops);
        }

        /** Mostly small sizes (framing edge cases), sometimes above the loop's 64 KiB receive area. */
        private static int size(FuzzedDataProvider data) {
            return data.consumeBoolean() ? data.consumeInt(1, 40) : data.consumeInt(1, 70_000);
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
        private byte[] arrived = new byte[256];
        private int arrivedLength;
        private long delivered;
        private int until;
        private boolean muted;
        private boolean draining;
        private boolean finishing;
        private int closedCount;
        private long failuresBefore;
        // Counts steps the program ran; a yield only promises a later turn if none ran meanwhile.
        private long epoch;
        private boolean yieldPending;
        private long yieldEpoch;
        private boolean yieldMarkerRan;
        private int yieldMarker;

        Run(Reactor loop, Program program) {
            this.loop = loop;
            this.program = program;
        }

        void start() {
            FuzzRuns.server(socket, loop, this, ReadBufferSize.of(program.bufferSize()), null);
        }

        private void step(int index) {
            try {
                if (index == program.ops().size()) {
                    drain();
                    return;
                }
                Op op = program.ops().get(index);
                epoch++;
                switch (op.kind()) {
                    case ARRIVE -> {
                        record(op.bytes());
                        socket.arrive(op.bytes());
                        socket.event(READABLE);
                    }
                    case READABLE_EVENT -> socket.event(READABLE);
                    case IN_CALLBACK -> callbackActions.add(op);
                    default -> act(op.kind(), op.value());
                }
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

        /** Runs one operation and checks its result against lori's rules. */
        private void act(int kind, int value) {
            TcpConnection c = connection;
            switch (kind) {
                case BUFFER_UNTIL -> {
                    int minimum = c.readBufferMinimum();
                    BufferUntilResult r = c.bufferUntil(BufferSize.of(value));
                    expect(value <= minimum ? BufferUntilResult.SET : BufferUntilResult.SIZE_ABOVE_MINIMUM, r,
                            "bufferUntil " + value + " with minimum " + minimum);
                    if (r == BufferUntilResult.SET) {
                        until = value;
                    }
                }
                case STREAMING -> {
                    expect(BufferUntilResult.SET, c.bufferUntil(Streaming.STREAMING), "bufferUntil streaming");
                    until = 0;
                }
                case MINIMUM -> expect(value < until ? ReadBufferResizeBelowBufferSize.BELOW_BUFFER_SIZE
                        : ReadBufferResized.RESIZED, c.setReadBufferMinimum(ReadBufferSize.of(value)),
                        "setReadBufferMinimum " + value + " with framing " + until);
                case RESIZE -> {
                    long buffered = socket.handedOut - delivered;
                    ReadBufferResizeResult expected = value < until ? ReadBufferResizeBelowBufferSize.BELOW_BUFFER_SIZE
                            : value < buffered ? ReadBufferResizeBelowUsed.BELOW_USED : ReadBufferResized.RESIZED;
                    expect(expected, c.resizeReadBuffer(ReadBufferSize.of(value)),
                            "resizeReadBuffer " + value + " with framing " + until + " and " + buffered + " buffered");
                }
                case MUTE -> {
                    c.mute();
                    muted = true;
                }
                case UNMUTE -> {
                    c.unmute();
                    muted = false;
                }
                case YIELD -> c.yieldRead();
                case READ_AGAIN -> c.readAgain();
                default -> throw new IllegalArgumentException("not an action: " + kind);
            }
            int minimum = c.readBufferMinimum();
            int size = c.readBufferSize();
            if (until > minimum || minimum > size) {
                violations.add("read buffer invariant broken: until " + until + ", minimum " + minimum + ", size "
                        + size);
            }
        }

        private void expect(Object expected, Object actual, String what) {
            if (!expected.equals(actual)) {
                violations.add(what + " returned " + actual + ", expected " + expected);
            }
        }

        /** After the program: unmute, stream, and read until everything that arrived was delivered. */
        private void drain() {
            draining = true;
            epoch++;
            if (muted) {
                act(UNMUTE, 0);
            }
            act(STREAMING, 0);
            connection.readAgain();
            settle(0);
        }

        private void settle(int turn) {
            try {
                if (delivered == arrivedLength && socket.unread() == 0) {
                    finish();
                } else if (turn > FuzzRuns.SETTLE_TURNS) {
                    violations.add("stuck: delivered " + delivered + " of " + arrivedLength + " bytes, "
                            + socket.unread() + " unread in the socket");
                    finish();
                } else {
                    loop.defer(() -> settle(turn + 1));
                }
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }

        private void finish() {
            finishing = true;
            connection.hardClose();
            if (closedCount != 1 || !socket.closed) {
                violations.add("hardClose: onClosed " + closedCount + " times, socket closed " + socket.closed);
            }
            if (loop.callbackFailures() != failuresBefore) {
                violations.add((loop.callbackFailures() - failuresBefore) + " exceptions escaped into the loop");
            }
            done.complete(null);
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
            if (closedCount > 0) {
                violations.add("onReceived after onClosed");
            }
            if (muted) {
                violations.add("onReceived while muted");
            }
            if (!data.isReadOnly()) {
                violations.add("a delivered slice is writable");
            }
            long n = data.byteSize();
            if (n == 0 || until > 0 && n != until) {
                violations.add("a message of " + n + " bytes with framing " + until);
            }
            byte[] bytes = data.toArray(ValueLayout.JAVA_BYTE);
            if (delivered + n > arrivedLength || !Arrays.equals(arrived, (int) delivered, (int) (delivered + n),
                    bytes, 0, bytes.length)) {
                violations.add("bytes " + delivered + ".." + (delivered + n) + " are not the bytes that arrived there ("
                        + arrivedLength + " arrived)");
            }
            if (yieldPending && !yieldMarkerRan && epoch == yieldEpoch) {
                violations.add("after yieldRead the next message came in the same loop turn");
            }
            yieldPending = false;
            delivered += n;
            Op action = draining ? null : callbackActions.poll();
            if (action != null) {
                if (action.value() == YIELD) {
                    int marker = ++yieldMarker;
                    yieldPending = true;
                    yieldMarkerRan = false;
                    yieldEpoch = epoch;
                    loop.defer(() -> yieldMarkerRan |= marker == yieldMarker);
                }
                act(action.value(), action.size());
            }
        }

        @Override
        public void onClosed(TcpConnection c) {
            closedCount++;
            if (!finishing) {
                violations.add("closed by itself: " + c.failureDetail());
            }
        }
    }
}
