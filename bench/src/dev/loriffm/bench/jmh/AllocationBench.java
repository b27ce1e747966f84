package dev.loriffm.bench.jmh;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.AcceptedSocket;
import dev.loriffm.tcp.ListenFailure;
import dev.loriffm.tcp.ListenerReceiver;
import dev.loriffm.tcp.NetAuth;
import dev.loriffm.tcp.SendResult;
import dev.loriffm.tcp.SendToken;
import dev.loriffm.tcp.ServerLifecycleReceiver;
import dev.loriffm.tcp.StartFailure;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpListenAuth;
import dev.loriffm.tcp.TcpListener;
import dev.loriffm.tcp.TcpServerAuth;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Heap bytes the lori-ffm runtime allocates per message on the steady-state plaintext hot path.
 *
 * <p>A real echo server (public API only: {@link EventLoopGroup} of one loop, {@link TcpListener},
 * {@link TcpConnection#server}) whose receiver, {@link Echo}, allocates nothing per message
 * itself: it copies each received slice into a native buffer it owns and sends that. The client is
 * the benchmark thread, a blocking JDK {@link SocketChannel} with direct buffers, writing 64 bytes
 * and reading the 64-byte echo per op. So each op is one {@code onReceived}, one {@code send}, one
 * {@code onSent} on the loop, i.e. one message each way.
 *
 * <p>Allocation is measured on the <em>loop thread</em> with
 * {@link com.sun.management.ThreadMXBean#getThreadAllocatedBytes(long)} around each iteration and
 * reported as {@link LoopAllocation} counters ({@code loopAllocBytes / echoes} is bytes per
 * message; the per-iteration quotient is also printed). {@code -prof gc}'s
 * {@code gc.alloc.rate.norm} is a different figure: JMH 1.37 on JDK 14+ takes it from
 * {@code getTotalThreadAllocatedBytes()}, i.e. every thread of the JVM (loop, client, JMH
 * infrastructure), divided by ops.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class AllocationBench {
    /** Bytes per request and per echo. */
    static final int PAYLOAD = 64;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Id of the event-loop thread, recorded by the receiver in {@code onStarted}. */
    static final AtomicLong LOOP_THREAD_ID = new AtomicLong(-1);

    private EventLoopGroup group;
    private TcpListener listener;
    private SocketChannel client;
    private ByteBuffer request;
    private ByteBuffer reply;

    /**
     * Loop-thread allocation of one iteration, as JMH secondary results. Type EVENTS: JMH sums each
     * field over the measurement iterations, so {@code loopAllocBytes / echoes} of the summary is
     * the mean bytes per message.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class LoopAllocation {
        /** Heap bytes the event-loop thread allocated during the iteration. */
        public long loopAllocBytes;
        /** Messages echoed during the iteration (one per benchmark op). */
        public long echoes;
        private long before;
        private long startMillis;

        /** Snapshots the loop thread's allocation counter at the start of an iteration. */
        @Setup(Level.Iteration)
        public void start() {
            echoes = 0;
            loopAllocBytes = 0;
            before = THREADS.getThreadAllocatedBytes(LOOP_THREAD_ID.get());
            startMillis = System.currentTimeMillis();
        }

        /** Records the loop's allocation over the iteration and prints bytes per message. */
        @TearDown(Level.Iteration)
        public void stop() {
            loopAllocBytes = THREADS.getThreadAllocatedBytes(LOOP_THREAD_ID.get()) - before;
            // The wall-clock window lets a JFR recording of the same run be cut to this iteration.
            System.out.printf("%n  loop thread: %d B over %d echoes = %.1f B/message [window %d..%d ms]%n",
                    loopAllocBytes, echoes, echoes == 0 ? 0.0 : (double) loopAllocBytes / echoes,
                    startMillis, System.currentTimeMillis());
        }
    }

    /**
     * The echo receiver: zero application allocation per message. Everything it uses is made once
     * in {@code onStarted}: two native buffers in a confined arena (the callbacks all run on the
     * loop thread) and, per buffer, a cached slice of the last length sent, reused while the length
     * repeats (always 64 here; {@code sliceMisses} counts new slices and should stay at a handful).
     *
     * <p>Why two buffers: {@code send} keeps the segment by reference until {@code onSent}, so a
     * buffer may only be rewritten after its {@code onSent}. If data arrives while a send is in
     * flight (never in this request/response benchmark, since lori delivers {@code onSent} before
     * the next {@code onReceived}; {@code backlogged} counts it) it is appended to the other buffer,
     * the connection is muted so at most one read-buffer's worth can arrive, and {@code onSent}
     * sends the backlog and unmutes. A refused send ({@code NOT_WRITEABLE}) is held and retried in
     * {@code onUnthrottled}.
     */
    static class Echo implements ServerLifecycleReceiver {
        /** Each buffer holds one read buffer's worth: the most one {@code onReceived} can deliver. */
        private static final int CAPACITY = 16 * 1024;

        private Arena arena;
        private final MemorySegment[] buffers = new MemorySegment[2];
        private final MemorySegment[] lastSlice = new MemorySegment[2];
        private int current;           // buffer of the send in flight (or held)
        private boolean busy;          // a send is in flight or held: buffers[current] is taken
        private MemorySegment held;    // refused by send(); retried on onUnthrottled
        private long backlog;          // bytes appended to buffers[1 - current] while busy
        long sliceMisses;
        long backlogged;

        @Override
        public void onStarted(TcpConnection connection) {
            LOOP_THREAD_ID.set(Thread.currentThread().threadId());
            connection.setNodelay(true); // request/response of small writes: no Nagle delay
            arena = Arena.ofConfined();
            buffers[0] = arena.allocate(CAPACITY);
            buffers[1] = arena.allocate(CAPACITY);
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            long n = data.byteSize();
            if (!busy) {
                MemorySegment.copy(data, 0, buffers[current], 0, n);
                sendOrHold(connection, slice(current, n));
                return;
            }
            backlogged++;
            int other = 1 - current;
            if (backlog + n > CAPACITY) {
                throw new IllegalStateException("backlog overflow: the mute should prevent this");
            }
            MemorySegment.copy(data, 0, buffers[other], backlog, n);
            backlog += n;
            connection.mute();
        }

        @Override
        public void onSent(TcpConnection connection, SendToken token) {
            busy = false;
            if (backlog > 0) {
                current = 1 - current;
                long n = backlog;
                backlog = 0;
                sendOrHold(connection, slice(current, n));
                connection.unmute();
            }
        }

        @Override
        public void onUnthrottled(TcpConnection connection) {
            if (held != null) {
                MemorySegment retry = held;
                held = null;
                sendOrHold(connection, retry);
            }
        }

        private void sendOrHold(TcpConnection connection, MemorySegment segment) {
            busy = true;
            SendResult result = connection.send(segment);
            if (!(result instanceof SendToken)) {
                held = segment; // NOT_WRITEABLE; (NOT_CONNECTED: closing, nothing more happens)
            }
        }

        /** {@return {@code [0, n)} of buffer {@code index}, reusing the cached slice when n repeats} */
        private MemorySegment slice(int index, long n) {
            MemorySegment s = lastSlice[index];
            if (s == null || s.byteSize() != n) {
                sliceMisses++;
                s = buffers[index].asSlice(0, n);
                lastSlice[index] = s;
            }
            return s;
        }

        @Override
        public void onClosed(TcpConnection connection) {
            System.out.printf("%n  echo receiver: %d slice cache misses, %d backlogged reads%n",
                    sliceMisses, backlogged);
            arena.close();
        }

        @Override
        public void onStartFailure(TcpConnection connection, StartFailure reason) {
            System.err.println("echo connection failed to start: " + reason);
        }
    }

    /** Starts the one-loop echo server and connects the blocking client to it. */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        group = EventLoopGroup.create(1);
        TcpListenAuth listen = TcpListenAuth.of(NetAuth.ambient());
        TcpServerAuth serve = TcpServerAuth.of(listen);
        CompletableFuture<TcpListener> listening = new CompletableFuture<>();
        CompletableFuture<Void> started = new CompletableFuture<>();
        TcpListener created = TcpListener.create(listen, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l);
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                listening.completeExceptionally(new IOException(failure.message()));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return TcpConnection.server(serve, socket, new Echo() {
                    @Override
                    public void onStarted(TcpConnection connection) {
                        super.onStarted(connection);
                        started.complete(null);
                    }
                });
            }
        });
        listener = listening.get(30, TimeUnit.SECONDS);
        if (listener != created) {
            throw new IllegalStateException("unexpected listener");
        }
        InetSocketAddress address = listener.localAddress();
        client = SocketChannel.open(new InetSocketAddress("127.0.0.1", address.getPort()));
        client.setOption(StandardSocketOptions.TCP_NODELAY, true);
        started.get(30, TimeUnit.SECONDS);
        request = ByteBuffer.allocateDirect(PAYLOAD);
        for (int i = 0; i < PAYLOAD; i++) {
            request.put(i, (byte) i);
        }
        reply = ByteBuffer.allocateDirect(PAYLOAD);
    }

    /** Closes the client, the listener and the loop (which closes the server connection). */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        client.close();
        listener.close();
        group.close();
    }

    /**
     * One 64-byte request and its 64-byte echo over loopback through the lori-ffm server: the
     * time is the round trip; the {@link LoopAllocation} counters give the loop's heap bytes per
     * message.
     */
    @Benchmark
    public int echo(LoopAllocation counters) throws IOException {
        request.clear();
        while (request.hasRemaining()) {
            client.write(request);
        }
        reply.clear();
        while (reply.hasRemaining()) {
            if (client.read(reply) < 0) {
                throw new IOException("server closed the connection");
            }
        }
        counters.echoes++;
        return reply.get(PAYLOAD - 1);
    }
}
