package dev.loriffm.tcp;

import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.loop.EventLoopGroup;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.ActionChainArbitrary;
import net.jqwik.api.state.Transformer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

import static dev.loriffm.tcp.ConnectionUnderTest.Phase;
import static dev.loriffm.tcp.ConnectionUnderTest.require;

/**
 * Stateful property tests (issue #7): random sequences of API calls and kernel events drive a real
 * {@link TcpConnection}, client or server, over a {@link ScriptedKernel}, and after every step the
 * connection must still obey lori's rules (checked by {@link ConnectionUnderTest} after each step): the state matrix
 * ({@code isOpen}/{@code isClosed}/{@code isWriteable}, send refusals, close while muted is a hard
 * close, FIN only after a graceful close has written everything), the order of callbacks
 * ({@code onStarted}/{@code onConnected} first and once, {@code onClosed} at most once and then only
 * {@code onSendFailed}, throttle events alternating), token accounting (every accepted send completes
 * exactly once, in order, {@code onSent} only once the kernel took all its bytes), the byte streams
 * (what was delivered is exactly what the kernel handed out, framed messages have the framing's size,
 * nothing while muted or after close, nothing left behind by an unmuted connection) and that no
 * callback or task threw into the loop.
 *
 * <p>Steps are API calls (sends of any size, multi-buffer sends, close, hardClose, mute, unmute,
 * bufferUntil, the read-buffer calls, user timers, yieldRead), the same calls made from inside the
 * next onReceived/onSent/onThrottled/onUnthrottled/onClosed, kernel events (the peer's bytes, FIN
 * or reset; the send buffer draining by some bytes; a write error) and the client's connect attempt
 * succeeding or being refused. A step that makes no sense in the current state (the peer sending
 * after its FIN) does nothing, rather than being a jqwik precondition, so that jqwik can drop it
 * when shrinking. Timers are an hour long: nothing depends on real time. Every step runs on the
 * loop thread and the connection is left to settle before the checks.
 *
 * <p>A failure prints the shrunk steps; {@link #replay} runs them again, which is how a failure
 * becomes a regression {@code @Example} (see the examples below).
 *
 * <p>Each run is at most {@value #DEFAULT_STEPS} steps; jqwik's {@code jqwik.tries.default} (200 in
 * {@code junit-platform.properties}) sets the runs per property. For a soak, raise both, e.g.
 * {@code -Djqwik.tries.default=20000 -Dloriffm.stateful.steps=120}.
 */
class ConnectionStateMachineProperties {
    static final int DEFAULT_STEPS = 40;
    private static final int STEPS = Integer.getInteger("loriffm.stateful.steps", DEFAULT_STEPS);
    private static final TimerDuration AN_HOUR = TimerDuration.of(Duration.ofHours(1));
    private static final long UNLIMITED = 1L << 40;

    private static EventLoopGroup group;
    // The connection of the previous run, released when the next one starts.
    private static ConnectionUnderTest previous;

    @BeforeContainer
    static void startLoop() {
        group = EventLoopGroup.create(1);
    }

    @AfterContainer
    static void stopLoop() {
        release();
        group.close();
    }

    private static void release() {
        if (previous != null) {
            previous.dispose();
            previous = null;
        }
    }

    // ------------------------------------------------------------------ properties

    /** A server connection keeps lori's invariants under any sequence of calls and kernel events. */
    @Property
    void serverConnectionKeepsLorisInvariants(@ForAll("readBufferSizes") int readBufferSize, @ForAll("rooms") long room,
                                              @ForAll("runs") ActionChain<ConnectionUnderTest> run) {
        setUp = new SetUp(false, readBufferSize, room);
        run.run();
    }

    /** A client connection, from its connect attempt on, keeps lori's invariants under any sequence. */
    @Property
    void clientConnectionKeepsLorisInvariants(@ForAll("readBufferSizes") int readBufferSize, @ForAll("rooms") long room,
                                              @ForAll("runs") ActionChain<ConnectionUnderTest> run) {
        setUp = new SetUp(true, readBufferSize, room);
        run.run();
    }

    // ------------------------------------------------------------------ examples (replayed runs)

    /** lori#344: close() on a muted connection is a hard close: onClosed at once, no FIN. */
    @Example
    void closeWhileMutedIsAHardClose() {
        ConnectionUnderTest s = replay(false, 16384, UNLIMITED,
                "send 10 bytes", "mute", "peer sends 5 bytes", "close");
        require(s.phase == Phase.CLOSED && s.kernel.finished.isEmpty() && s.delivered.size() == 0,
                "expected a hard close with nothing delivered and no FIN");
    }

    /**
     * A send made and hard-closed inside onReceived, with a full send buffer: the token fails after
     * onClosed, and the rest of the read is not delivered (lori's SendHardCloseFromAccepted and
     * HardCloseAfterFramedReceive in one run).
     */
    @Example
    void sendThenHardCloseInsideOnReceivedFailsTheTokenAndStopsDelivery() {
        ConnectionUnderTest s = replay(true, 64, 0, "in the next onReceived: send 3 bytes, then hardClose",
                "connect succeeds", "bufferUntil 4", "peer sends 12 bytes");
        require(s.delivered.size() == 4, "one 4-byte message, then nothing: " + s.events);
        require(s.events.getLast().kind().equals(ConnectionUnderTest.SEND_FAILED), "onSendFailed last: " + s.events);
    }

    /**
     * A graceful close with bytes queued behind a full send buffer: they drain on later write
     * events, every token reports onSent, then FIN goes out; the connection stays closing until the
     * peer's FIN (lori#304).
     */
    @Example
    void gracefulCloseDrainsQueuedBytesBeforeFin() {
        ConnectionUnderTest s = replay(false, 16384, 5, "send buffers of [7, 0, 9]", "close",
                "kernel takes 6 more bytes", "kernel takes everything", "peer sends 3 bytes", "peer sends FIN");
        require(s.kernel.writtenAtFin == 16 && s.phase == Phase.CLOSED && s.delivered.size() == 3,
                "expected 16 bytes before FIN, 3 delivered while closing, then closed: " + s.events);
    }

    /** How the next run starts: set by the property, read by the chain's first step. */
    private record SetUp(boolean client, int readBufferSize, long room) { }

    private static SetUp setUp;

    @Provide
    Arbitrary<Integer> readBufferSizes() {
        return Arbitraries.of(16384, 16, 64, 1024);
    }

    /** The kernel's initial send-buffer room: plenty, none, or a little. */
    @Provide
    Arbitrary<Long> rooms() {
        return Arbitraries.of(UNLIMITED, 0L, 5L, 300L);
    }

    @Provide
    Arbitrary<ActionChain<ConnectionUnderTest>> runs() {
        ActionChainArbitrary<ConnectionUnderTest> chain = ActionChain.startWith(() -> start(setUp));
        for (Weighted action : actions()) {
            chain = chain.withAction(action.weight, action.action);
        }
        return chain.withMaxTransformations(STEPS);
    }

    private static ConnectionUnderTest start(SetUp how) {
        release();
        try {
            previous = how.client ? ConnectionUnderTest.client(group, how.readBufferSize, how.room)
                    : ConnectionUnderTest.server(group, how.readBufferSize, how.room);
            return previous;
        } catch (Exception e) {
            throw new AssertionError("could not start the connection", e);
        }
    }

    // ------------------------------------------------------------------ replaying a reported run

    /**
     * Replays the steps of a reported run, given as jqwik printed them (e.g. {@code "send 30 bytes"},
     * {@code "connect succeeds"}), checking every invariant after each: the way a shrunk failure
     * becomes a regression {@code @Example}.
     */
    static ConnectionUnderTest replay(boolean client, int readBufferSize, long room, String... steps) {
        ConnectionUnderTest s = start(new SetUp(client, readBufferSize, room));
        for (String step : steps) {
            s.step(step, () -> {
                if (when(step).test(s)) {
                    parse(s, step).run();
                }
            });
        }
        return s;
    }

    /** The state in which a replayed step does something, as in {@link #actions()}. */
    private static Predicate<ConnectionUnderTest> when(String step) {
        if (step.startsWith("peer ")) {
            return PEER_CAN_SEND;
        }
        if (step.startsWith("kernel ") || step.equals("yieldRead in the next onReceived")) {
            return ConnectionUnderTest::isLive;
        }
        if (step.equals("next write fails")) {
            return WRITES_CAN_FAIL;
        }
        if (step.startsWith("connect ")) {
            return ConnectionUnderTest::isConnecting;
        }
        return s -> true;
    }

    private static final Predicate<ConnectionUnderTest> PEER_CAN_SEND = s -> s.isLive() && !s.kernel.peerEnded;
    private static final Predicate<ConnectionUnderTest> WRITES_CAN_FAIL = s -> s.isLive() && !s.kernel.failWrites;

    private static ConnectionUnderTest.LoopAction parse(ConnectionUnderTest s, String step) {
        int then = step.indexOf(", then ");
        if (then > 0 && !step.startsWith("in the next ")) {
            ConnectionUnderTest.LoopAction first = parse(s, step.substring(0, then));
            ConnectionUnderTest.LoopAction second = parse(s, step.substring(then + ", then ".length()));
            return () -> {
                first.run();
                second.run();
            };
        }
        String[] w = step.split(" ");
        return switch (step) {
            case "close" -> () -> close(s, null);
            case "hardClose" -> () -> hardClose(s, null);
            case "mute" -> () -> mute(s, null);
            case "unmute" -> () -> unmute(s, null);
            case "setTimer 1h" -> () -> setTimer(s, null);
            case "cancelTimer current" -> () -> cancelTimer(s, true);
            case "cancelTimer stale" -> () -> cancelTimer(s, false);
            case "yieldRead in the next onReceived" -> () -> yieldNext(s, null);
            case "peer sends FIN" -> () -> arriveEnd(s, null);
            case "peer resets" -> () -> arriveError(s, null);
            case "kernel takes everything" -> () -> drain(s, UNLIMITED);
            case "next write fails" -> () -> writeError(s, null);
            case "connect succeeds" -> () -> connectSucceeds(s, null);
            case "connect refused" -> () -> connectFails(s, null);
            case "bufferUntil streaming" -> () -> bufferUntil(s, 0);
            default -> {
                if (step.startsWith("in the next ")) {
                    int colon = step.indexOf(": ");
                    ConnectionUnderTest.Reaction r = reaction(step.substring("in the next ".length(), colon),
                            step.substring(colon + 2));
                    yield () -> s.reactions.add(r);
                }
                if (step.startsWith("send buffers of [")) {
                    String list = step.substring("send buffers of [".length(), step.length() - 1).strip();
                    List<Integer> sizes = list.isEmpty() ? List.of()
                            : java.util.Arrays.stream(list.split(",\\s*")).map(Integer::valueOf).toList();
                    yield () -> sendList(s, sizes);
                }
                int n = Integer.parseInt(w[w[0].equals("kernel") ? 2 : w.length - (step.endsWith("bytes") ? 2 : 1)]);
                yield switch (w[0]) {
                    case "send" -> () -> send(s, n);
                    case "peer" -> () -> arrive(s, n);
                    case "kernel" -> () -> drain(s, n);
                    case "bufferUntil" -> () -> bufferUntil(s, n);
                    case "setReadBufferMinimum" -> () -> setMinimum(s, n);
                    case "resizeReadBuffer" -> () -> resize(s, n);
                    default -> throw new IllegalArgumentException("unknown step: " + step);
                };
            }
        };
    }

    // ------------------------------------------------------------------ actions

    private record Weighted(int weight, Action<ConnectionUnderTest> action) { }

    /** The callbacks a reaction may hook, by their log kind, and their names. */
    private static final List<String> HOOKS = List.of(ConnectionUnderTest.RECEIVED, ConnectionUnderTest.SENT,
            ConnectionUnderTest.THROTTLED, ConnectionUnderTest.UNTHROTTLED, ConnectionUnderTest.CLOSED);
    private static final List<String> HOOK_NAMES = List.of("onReceived", "onSent", "onThrottled", "onUnthrottled",
            "onClosed");

    /** Calls a reaction makes; "send" sends the generated size, and may be followed by a second call. */
    private static final Arbitrary<String> CALLS = Arbitraries.of("send", "close", "hardClose", "mute", "unmute",
            "send, then hardClose", "send, then close", "send, then mute", "bufferUntil", "resizeReadBuffer",
            "setReadBufferMinimum");

    private static String call(String call, int size) {
        return switch (call) {
            case "bufferUntil" -> size % 81 == 0 ? "bufferUntil streaming" : "bufferUntil " + size % 81;
            case "resizeReadBuffer", "setReadBufferMinimum" -> call + " " + (1 + size % 200);
            default -> call.replace("send", "send " + size + " bytes");
        };
    }

    /** Reactions: in the next callback of some kind, send, close, hard-close, mute or unmute. */
    private static final Arbitrary<ConnectionUnderTest.Reaction> REACTIONS = net.jqwik.api.Combinators.combine(
            Arbitraries.integers().between(0, HOOKS.size() - 1),
            CALLS,
            Arbitraries.integers().between(0, 3000)
    ).as((hook, call, n) -> reaction(HOOK_NAMES.get(hook), call(call, n)));

    /** {@return the reaction "in the next {@code hook}: {@code call}"}, {@code call} as a replayable step */
    static ConnectionUnderTest.Reaction reaction(String hook, String call) {
        String kind = HOOKS.get(HOOK_NAMES.indexOf(hook));
        return new ConnectionUnderTest.Reaction(kind, "in the next " + hook + ": " + call,
                s -> {
                    try {
                        parse(s, call).run();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
    }

    private static List<Weighted> actions() {
        List<Weighted> all = new ArrayList<>();
        // Weights: steps that end the connection are rare, so most runs spend their steps on an
        // open connection before (and a few after) it closes.
        // From the application.
        all.add(new Weighted(20, action(s -> true, Arbitraries.integers().between(0, 3000),
                n -> "send " + n + " bytes", ConnectionStateMachineProperties::send)));
        all.add(new Weighted(8, action(s -> true, Arbitraries.integers().between(0, 700).list().ofMaxSize(5),
                sizes -> "send buffers of " + sizes, ConnectionStateMachineProperties::sendList)));
        all.add(new Weighted(1, fixed(s -> true, "close", ConnectionStateMachineProperties::close)));
        all.add(new Weighted(1, action(s -> true, Arbitraries.integers().between(0, 3000),
                n -> "send " + n + " bytes, then hardClose",
                (s, n) -> parse(s, "send " + n + " bytes, then hardClose").run())));
        all.add(new Weighted(1, fixed(s -> true, "hardClose", ConnectionStateMachineProperties::hardClose)));
        all.add(new Weighted(4, fixed(s -> true, "mute", ConnectionStateMachineProperties::mute)));
        all.add(new Weighted(6, fixed(s -> true, "unmute", ConnectionStateMachineProperties::unmute)));
        all.add(new Weighted(4, action(s -> true, Arbitraries.integers().between(0, 80),
                n -> n == 0 ? "bufferUntil streaming" : "bufferUntil " + n,
                ConnectionStateMachineProperties::bufferUntil)));
        all.add(new Weighted(2, action(s -> true, Arbitraries.integers().between(1, 200),
                n -> "setReadBufferMinimum " + n, ConnectionStateMachineProperties::setMinimum)));
        all.add(new Weighted(2, action(s -> true, Arbitraries.integers().between(1, 200),
                n -> "resizeReadBuffer " + n, ConnectionStateMachineProperties::resize)));
        all.add(new Weighted(2, fixed(s -> true, "setTimer 1h", ConnectionStateMachineProperties::setTimer)));
        all.add(new Weighted(2, action(s -> true, Arbitraries.of(true, false),
                current -> current ? "cancelTimer current" : "cancelTimer stale",
                ConnectionStateMachineProperties::cancelTimer)));
        all.add(new Weighted(3, fixed(ConnectionUnderTest::isLive, "yieldRead in the next onReceived",
                ConnectionStateMachineProperties::yieldNext)));
        // From inside a callback: the application reacts to what it hears.
        all.add(new Weighted(8, action(s -> true, REACTIONS, r -> r.description(),
                (s, r) -> s.reactions.add(r))));
        // From the kernel.
        Predicate<ConnectionUnderTest> peerCanSend = PEER_CAN_SEND;
        all.add(new Weighted(20, action(peerCanSend, Arbitraries.integers().between(1, 3000),
                n -> "peer sends " + n + " bytes", ConnectionStateMachineProperties::arrive)));
        all.add(new Weighted(1, fixed(peerCanSend, "peer sends FIN", ConnectionStateMachineProperties::arriveEnd)));
        all.add(new Weighted(1, fixed(peerCanSend, "peer resets", ConnectionStateMachineProperties::arriveError)));
        all.add(new Weighted(14, action(ConnectionUnderTest::isLive,
                Arbitraries.oneOf(Arbitraries.longs().between(1, 4000), Arbitraries.just(UNLIMITED)),
                k -> "kernel takes " + (k == UNLIMITED ? "everything" : k + " more bytes"),
                ConnectionStateMachineProperties::drain)));
        all.add(new Weighted(1, fixed(WRITES_CAN_FAIL, "next write fails",
                ConnectionStateMachineProperties::writeError)));
        // Connect attempt outcomes (clients).
        all.add(new Weighted(6, fixed(ConnectionUnderTest::isConnecting, "connect succeeds",
                ConnectionStateMachineProperties::connectSucceeds)));
        all.add(new Weighted(1, fixed(ConnectionUnderTest::isConnecting, "connect refused",
                ConnectionStateMachineProperties::connectFails)));
        return all;
    }

    /**
     * A step with a generated argument that does something only {@code when} the connection is in a
     * state where it makes sense (a no-op otherwise). Deliberately not a jqwik precondition: jqwik
     * cannot remove steps whose generation looked at the state, so preconditions would keep most
     * steps in a shrunk run.
     */
    private static <T> Action<ConnectionUnderTest> action(Predicate<ConnectionUnderTest> when, Arbitrary<T> args,
                                                         Function<T, String> describe, Step<T> step) {
        return new Action.Independent<>() {
            @Override
            public Arbitrary<Transformer<ConnectionUnderTest>> transformer() {
                return args.map(arg -> {
                    String description = describe.apply(arg);
                    return Transformer.transform(description, s -> s.step(description, () -> {
                        if (when.test(s)) {
                            step.run(s, arg);
                        }
                    }));
                });
            }
        };
    }

    /** A step in {@code when}, without arguments. */
    private static Action<ConnectionUnderTest> fixed(Predicate<ConnectionUnderTest> when, String description,
                                                    Step<Void> step) {
        return action(when, Arbitraries.just(0), arg -> description, (s, arg) -> step.run(s, null));
    }

    /** What a step does on the loop thread. */
    @FunctionalInterface
    interface Step<T> {
        void run(ConnectionUnderTest s, T arg) throws Exception;
    }

    // Every step below runs on the connection's loop thread.

    static void send(ConnectionUnderTest s, int size) {
        byte[] data = s.nextOutbound(size);
        s.send(new byte[][] {data}, () -> s.connection.send(data));
    }

    static void sendList(ConnectionUnderTest s, List<Integer> sizes) {
        byte[][] parts = new byte[sizes.size()][];
        for (int i = 0; i < parts.length; i++) {
            parts[i] = s.nextOutbound(sizes.get(i));
        }
        s.send(parts, () -> s.connection.send(List.of(parts)));
    }

    static void close(ConnectionUnderTest s, Void unused) {
        s.syncWithKernel();
        switch (s.phase) {
            case CONNECTING -> s.phase(Phase.UNCONNECTED_CLOSING);
            case OPEN -> {
                // lori#344: a muted connection cannot see the peer's FIN, so close() is a hard close.
                s.gracefulClose = !s.muted;
                s.closeExpected = s.muted;
                s.phase(s.muted ? Phase.CLOSED : Phase.CLOSING);
            }
            default -> { } // closing or closed already: a no-op
        }
        s.connection.close();
    }

    static void hardClose(ConnectionUnderTest s, Void unused) {
        s.syncWithKernel();
        switch (s.phase) {
            case CONNECTING, UNCONNECTED_CLOSING -> {
                s.failureExpected = true;
                s.phase(Phase.FAILED);
            }
            case OPEN, CLOSING -> {
                s.closeExpected = true;
                s.phase(Phase.CLOSED);
            }
            default -> { }
        }
        s.connection.hardClose();
    }

    static void mute(ConnectionUnderTest s, Void unused) {
        s.muted = true;
        s.connection.mute();
    }

    static void unmute(ConnectionUnderTest s, Void unused) {
        s.syncWithKernel();
        boolean wasMuted = s.muted;
        s.muted = false;
        s.unmutes++;
        s.connection.unmute();
        if (wasMuted && s.isLive()) {
            s.readLoopRan(); // unmute resumes reading in a later turn, held data first
        }
    }

    static void bufferUntil(ConnectionUnderTest s, int size) {
        BufferUntil framing = size == 0 ? Streaming.STREAMING : BufferSize.of(size);
        BufferUntilResult expected = size <= s.minimum ? BufferUntilResult.SET : BufferUntilResult.SIZE_ABOVE_MINIMUM;
        BufferUntilResult result = s.connection.bufferUntil(framing);
        require(result == expected, "bufferUntil(" + size + ") returned " + result + ", expected " + expected
                + " with minimum " + s.minimum);
        if (result == BufferUntilResult.SET) {
            s.until = size;
            if (s.receiving) {
                s.readLoopRan(); // the read loop goes on after this onReceived with the new framing
            }
        }
    }

    static void setMinimum(ConnectionUnderTest s, int minimum) {
        ReadBufferMinimumResult expected = minimum < s.until ? ReadBufferResizeBelowBufferSize.BELOW_BUFFER_SIZE
                : ReadBufferResized.RESIZED;
        ReadBufferMinimumResult result = s.connection.setReadBufferMinimum(ReadBufferSize.of(minimum));
        require(result == expected, "setReadBufferMinimum(" + minimum + ") returned " + result + ", expected "
                + expected + " with framing " + s.until);
        if (result == ReadBufferResized.RESIZED) {
            s.minimum = minimum;
        }
    }

    static void resize(ConnectionUnderTest s, int size) {
        long buffered = s.buffered();
        ReadBufferResizeResult expected = size < s.until ? ReadBufferResizeBelowBufferSize.BELOW_BUFFER_SIZE
                : size < buffered ? ReadBufferResizeBelowUsed.BELOW_USED
                : ReadBufferResized.RESIZED;
        ReadBufferResizeResult result = s.connection.resizeReadBuffer(ReadBufferSize.of(size));
        require(result == expected, "resizeReadBuffer(" + size + ") returned " + result + ", expected " + expected
                + " with framing " + s.until + " and " + buffered + " bytes buffered");
        if (result == ReadBufferResized.RESIZED && size < s.minimum) {
            s.minimum = size; // a resize below the minimum lowers it
        }
    }

    static void setTimer(ConnectionUnderTest s, Void unused) {
        s.syncWithKernel();
        SetTimerResult result = s.connection.setTimer(AN_HOUR);
        if (s.phase != Phase.OPEN) {
            require(result == SetTimerError.NOT_OPEN, "setTimer in " + s.phase + " returned " + result);
        } else if (s.activeTimer != null) {
            require(result == SetTimerError.ALREADY_ACTIVE, "setTimer with a timer active returned " + result);
        } else {
            require(result instanceof TimerToken t && t.id() > s.lastTimerId,
                    "setTimer returned " + result + " after token " + s.lastTimerId);
            s.activeTimer = (TimerToken) result;
            s.lastTimerId = s.activeTimer.id();
        }
    }

    static void cancelTimer(ConnectionUnderTest s, boolean current) {
        if (current) {
            s.connection.cancelTimer(s.activeTimer);
            s.activeTimer = null;
        } else {
            s.connection.cancelTimer(new TimerToken(s.lastTimerId + 1000)); // never issued: a no-op
        }
    }

    static void yieldNext(ConnectionUnderTest s, Void unused) {
        s.yieldNext = true;
    }

    static void arrive(ConnectionUnderTest s, int size) {
        s.kernel.arrive(s.nextInbound(size));
        s.kernel.signal(ScriptedKernel.DATA);
        s.readLoopRan();
    }

    static void arriveEnd(ConnectionUnderTest s, Void unused) {
        s.kernel.arriveEnd();
        s.kernel.signal(ScriptedKernel.PEER_FIN);
        s.readLoopRan();
    }

    static void arriveError(ConnectionUnderTest s, Void unused) {
        s.kernel.arriveError();
        s.kernel.signal(ScriptedKernel.RESET);
        s.readLoopRan();
    }

    static void drain(ConnectionUnderTest s, long bytes) {
        s.kernel.room = Math.min(UNLIMITED, s.kernel.room + bytes);
        s.kernel.signal(ScriptedKernel.DRAINED);
    }

    static void writeError(ConnectionUnderTest s, Void unused) {
        s.kernel.failWrites = true;
        s.kernel.signal(ScriptedKernel.DRAINED);
    }

    static void connectSucceeds(ConnectionUnderTest s, Void unused) {
        if (s.phase == Phase.CONNECTING) {
            s.phase(Phase.OPEN);
            s.readLoopRan();
        } else {
            s.failureExpected = true; // closing while connecting: the attempt is released, then TCP failure
            s.phase(Phase.FAILED);
        }
        s.kernel.signal(Epoll.EPOLLOUT);
    }

    static void connectFails(ConnectionUnderTest s, Void unused) {
        s.failureExpected = true;
        s.phase(Phase.FAILED);
        s.kernel.connectError = Errno.ECONNREFUSED;
        s.kernel.signal(Epoll.EPOLLOUT | Epoll.EPOLLERR | Epoll.EPOLLHUP);
    }
}
