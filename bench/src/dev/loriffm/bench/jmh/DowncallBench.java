package dev.loriffm.bench.jmh;

import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.internal.sys.Fds;
import dev.loriffm.internal.sys.NativeScratch;
import dev.loriffm.internal.sys.Sockets;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The cost of one hot-path downcall, lori-ffm's FFM bindings against hand-built downcall handles
 * with and without {@link Linker.Option#critical(boolean)}, and against JDK NIO, all on the
 * <em>same</em> connected loopback TCP socket pair.
 *
 * <p><b>One socket for everyone.</b> The pair is opened with NIO ({@link SocketChannel}, IPv4,
 * non-blocking, TCP_NODELAY) so that the NIO variants can use it; the FFM variants use the raw fds
 * of those very channels. NIO does not expose a channel's fd without reflection, so
 * {@link #setUp()} finds it honestly: it walks {@code /proc/self/fd}, asks each socket fd for its
 * local and peer port with lori-ffm's own {@code getsockname}/{@code getpeername} bindings, and
 * picks the fd whose port pair matches the channel's. Nothing else touches the socket, so NIO (it
 * buffers nothing in Java) and the raw fd calls see the same kernel state.
 *
 * <p><b>Read/write benchmarks</b> write a 64-byte payload on the client end and read it back on the
 * server end, so the socket buffers never fill and every operation is one write plus (normally)
 * one read. On loopback the bytes are normally in the peer's receive queue when {@code write}
 * returns; if not, the read spins on EAGAIN, which then shows up in the time rather than being
 * hidden. Reported in ns per write+read pair.
 *
 * <p><b>epoll_ctl benchmarks</b> flip one fd's interest between {@code EPOLLIN} and
 * {@code EPOLLIN|EPOLLOUT} so that every call really is a modification. NIO has no direct
 * {@code epoll_ctl}; its nearest equivalent is {@link SelectionKey#interestOps(int)} followed by
 * {@link Selector#selectNow()}, which issues the queued {@code epoll_ctl(MOD)} and then an
 * {@code epoll_wait(0)} and processes the ready keys. {@link #epollCtlModWaitLori} does the same
 * two system calls through lori-ffm for a like-for-like comparison.
 *
 * <p><b>Downcall-only benchmarks</b> call {@code labs}, which never enters the kernel, through the
 * same linkage (errno capture, with and without {@code critical}): on a machine where one loopback
 * system call costs hundreds of nanoseconds the linkage difference is otherwise lost in the noise.
 *
 * <p>All state lives in one thread-scoped {@link State}: JMH runs its {@link Setup} on the
 * benchmark thread, which matters because a {@link NativeScratch} is confined to its creating
 * thread.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class DowncallBench {
    /** Bytes per message: a small request, where per-call overhead dominates. */
    static final int PAYLOAD = 64;
    /** writev benchmarks split the payload into this many iovecs. */
    static final int IOVECS = 4;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final long ERRNO_OFFSET = Linker.Option.captureStateLayout()
            .byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final FunctionDescriptor READ_WRITE = FunctionDescriptor.of(
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG);
    private static final FunctionDescriptor EPOLL_CTL = FunctionDescriptor.of(
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS);

    // The handles live in static finals, exactly like the generated bindings, so that the JIT
    // treats them as constants and can inline through them: anything else would measure a
    // handicap the library does not have.
    /** {@code read} with errno capture, {@code critical(false)}: the generated binding minus heap access. */
    private static final MethodHandle READ_CRITICAL = handle("read", READ_WRITE, ERRNO, Linker.Option.critical(false));
    /** {@code write} with errno capture, {@code critical(false)}. */
    private static final MethodHandle WRITE_CRITICAL = handle("write", READ_WRITE, ERRNO, Linker.Option.critical(false));
    /** {@code read} with errno capture and no {@code critical}: a full Java-to-native thread transition. */
    private static final MethodHandle READ_PLAIN = handle("read", READ_WRITE, ERRNO);
    /** {@code write} with errno capture and no {@code critical}. */
    private static final MethodHandle WRITE_PLAIN = handle("write", READ_WRITE, ERRNO);
    /** {@code epoll_ctl} with errno capture, {@code critical(false)} (what the generated binding uses). */
    private static final MethodHandle EPOLL_CTL_CRITICAL = handle("epoll_ctl", EPOLL_CTL, ERRNO, Linker.Option.critical(false));
    /** {@code epoll_ctl} with errno capture and no {@code critical}. */
    private static final MethodHandle EPOLL_CTL_PLAIN = handle("epoll_ctl", EPOLL_CTL, ERRNO);
    private static final FunctionDescriptor LABS = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    // labs() never enters the kernel, so these two isolate what the linker option itself costs:
    // the system calls above take microseconds and bury a difference of a few nanoseconds.
    /** {@code labs} with errno capture, {@code critical(false)}. */
    private static final MethodHandle LABS_CRITICAL = handle("labs", LABS, ERRNO, Linker.Option.critical(false));
    /** {@code labs} with errno capture and no {@code critical}. */
    private static final MethodHandle LABS_PLAIN = handle("labs", LABS, ERRNO);

    // struct epoll_event is packed on x86-64: u32 events at 0, u64 data at 4 (12 bytes).
    private static final long EVENT_EVENTS_OFFSET = 0;
    private static final long EVENT_DATA_OFFSET = 4;
    private static final int INTEREST_A = Epoll.EPOLLIN | Epoll.EPOLLET;
    private static final int INTEREST_B = Epoll.EPOLLIN | Epoll.EPOLLOUT | Epoll.EPOLLET;

    private NativeScratch scratch;
    private Arena arena;

    private ServerSocketChannel listener;
    private SocketChannel client;
    private SocketChannel server;
    private int clientFd;
    private int serverFd;

    // FFM buffers: native for the native-only calls, plus a heap segment for the critical-heap path.
    private MemorySegment payload;
    private MemorySegment heapPayload;
    private MemorySegment readBuffer;
    private MemorySegment heapReadBuffer;
    private MemorySegment[] parts;
    private MemorySegment capture;

    // NIO buffers.
    private ByteBuffer nioOut;
    private ByteBuffer nioIn;
    private ByteBuffer nioHeapOut;
    private ByteBuffer nioHeapIn;
    private ByteBuffer[] nioParts;

    // epoll: our own instance holding the server fd, and a NIO selector holding the server channel.
    private int epfd;
    private MemorySegment epollEvent;
    private MemorySegment epollEvents;
    private Selector selector;
    private SelectionKey key;
    private boolean flip;

    private static MethodHandle handle(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment address = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError(name));
        return LINKER.downcallHandle(address, descriptor, options);
    }

    /** Opens the NIO socket pair, finds its fds, and prepares buffers and the epoll/selector registrations. */
    @Setup
    public void setUp() throws IOException {
        scratch = new NativeScratch();
        arena = Arena.ofConfined();
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        // IPv4 explicitly: the same family lori-ffm's Sockets.tcpSocket picks for 127.0.0.1.
        listener = ServerSocketChannel.open(StandardProtocolFamily.INET);
        listener.bind(new InetSocketAddress(loopback, 0));
        client = SocketChannel.open(StandardProtocolFamily.INET);
        client.connect(listener.getLocalAddress());
        server = listener.accept();
        for (SocketChannel c : List.of(client, server)) {
            c.configureBlocking(false);
            // Without TCP_NODELAY a write-then-read loop can stall on Nagle + delayed ACK.
            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
        }
        clientFd = fdOf(client);
        serverFd = fdOf(server);

        payload = arena.allocate(PAYLOAD);
        for (int i = 0; i < PAYLOAD; i++) {
            payload.set(ValueLayout.JAVA_BYTE, i, (byte) i);
        }
        heapPayload = MemorySegment.ofArray(payload.toArray(ValueLayout.JAVA_BYTE));
        readBuffer = arena.allocate(PAYLOAD);
        heapReadBuffer = MemorySegment.ofArray(new byte[PAYLOAD]);
        parts = new MemorySegment[IOVECS];
        nioParts = new ByteBuffer[IOVECS];
        int partSize = PAYLOAD / IOVECS;
        for (int i = 0; i < IOVECS; i++) {
            // Separate allocations, not slices of one block: a gathering write of adjacent
            // memory would be a best case no real queue of buffers offers.
            parts[i] = arena.allocate(partSize);
            nioParts[i] = ByteBuffer.allocateDirect(partSize);
        }
        capture = arena.allocate(Linker.Option.captureStateLayout());

        nioOut = ByteBuffer.allocateDirect(PAYLOAD);
        nioOut.put(payload.asByteBuffer()).clear();
        nioIn = ByteBuffer.allocateDirect(PAYLOAD);
        nioHeapOut = ByteBuffer.wrap(payload.toArray(ValueLayout.JAVA_BYTE));
        nioHeapIn = ByteBuffer.allocate(PAYLOAD);

        epfd = check("epoll_create1", Epoll.create(scratch));
        check("epoll_ctl ADD", Epoll.ctl(scratch, epfd, Epoll.CTL_ADD, serverFd, INTEREST_A, 1L));
        epollEvent = arena.allocate(Epoll.EVENT_SIZE);
        epollEvents = Epoll.allocateEvents(scratch, 8);
        selector = Selector.open();
        key = server.register(selector, SelectionKey.OP_READ);
        selector.selectNow(); // applies the registration, so the benchmark only ever modifies
    }

    /** Closes everything opened in {@link #setUp()}. */
    @TearDown
    public void tearDown() throws IOException {
        selector.close();
        Fds.close(scratch, epfd);
        client.close();
        server.close();
        listener.close();
        arena.close();
        scratch.close();
    }

    /**
     * {@return the fd of {@code channel}} Found without reflection: the socket fd in
     * {@code /proc/self/fd} whose local and peer ports are the channel's.
     */
    private int fdOf(SocketChannel channel) throws IOException {
        int local = ((InetSocketAddress) channel.getLocalAddress()).getPort();
        int peer = ((InetSocketAddress) channel.getRemoteAddress()).getPort();
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                String target;
                try {
                    target = Files.readSymbolicLink(entry).toString();
                } catch (IOException gone) {
                    continue; // e.g. the directory stream's own fd, closed by now
                }
                if (!target.startsWith("socket:")) {
                    continue;
                }
                int fd = Integer.parseInt(entry.getFileName().toString());
                InetSocketAddress l = Sockets.localAddress(scratch, fd);
                InetSocketAddress p = Sockets.peerAddress(scratch, fd);
                if (l != null && p != null && l.getPort() == local && p.getPort() == peer) {
                    return fd;
                }
            }
        }
        throw new IOException("no fd in /proc/self/fd matches " + channel);
    }

    private static int check(String what, int result) {
        if (result < 0) {
            throw new IllegalStateException(what + " failed: errno " + -result);
        }
        return result;
    }

    private static long checkWrite(long written) {
        // The buffers are drained every op, so a short or failed write means the setup is broken.
        if (written != PAYLOAD) {
            throw new IllegalStateException("write returned " + written);
        }
        return written;
    }

    private static int errno(MemorySegment capture) {
        return capture.get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
    }

    // The hand-built variants repeat Fds's retry-on-EINTR and -errno convention so that the only
    // difference from lori-ffm's path is the linker option.
    private static long call(MethodHandle h, MemorySegment capture, int fd, MemorySegment buffer) {
        long r;
        try {
            do {
                r = (long) h.invokeExact(capture, fd, buffer, buffer.byteSize());
            } while (r < 0 && errno(capture) == Errno.EINTR);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return r < 0 ? -errno(capture) : r;
    }

    private static int ctl(MethodHandle h, MemorySegment capture, int epfd, int op, int fd, MemorySegment event) {
        int r;
        try {
            r = (int) h.invokeExact(capture, epfd, op, fd, event);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return r < 0 ? -errno(capture) : r;
    }

    /** Reads the 64 bytes back with lori-ffm's {@link Fds#read}; spins on EAGAIN (rare on loopback). */
    private long readBackLori(MemorySegment into) {
        long got = 0;
        while (got < PAYLOAD) {
            // The full buffer each time is fine: the peer never has more than the remainder queued.
            long r = Fds.read(scratch, serverFd, into);
            if (r > 0) {
                got += r;
            } else if (r == -Errno.EAGAIN) {
                Thread.onSpinWait();
            } else {
                throw new IllegalStateException("read returned " + r);
            }
        }
        return got;
    }

    private long readBackHandle(MethodHandle read) {
        long got = 0;
        while (got < PAYLOAD) {
            long r = call(read, capture, serverFd, readBuffer);
            if (r > 0) {
                got += r;
            } else if (r == -Errno.EAGAIN) {
                Thread.onSpinWait();
            } else {
                throw new IllegalStateException("read returned " + r);
            }
        }
        return got;
    }

    private int readBackNio(ByteBuffer into) throws IOException {
        into.clear();
        while (into.hasRemaining()) {
            if (server.read(into) < 0) {
                throw new IOException("unexpected end of stream");
            }
        }
        return into.position();
    }

    // ------------------------------------------------------------------ downcall alone

    private long arg = -1;

    /**
     * The bare downcall with errno capture and {@code critical(false)}: {@code labs}, a libc
     * function that does no system call, so the figure is the FFM transition plus the errno
     * save, the part {@code critical} changes.
     */
    @Benchmark
    public long downcallOnlyCritical() throws Throwable {
        return (long) LABS_CRITICAL.invokeExact(capture, arg);
    }

    /** As {@link #downcallOnlyCritical} without {@code critical}: the full thread-state transition. */
    @Benchmark
    public long downcallOnlyPlain() throws Throwable {
        return (long) LABS_PLAIN.invokeExact(capture, arg);
    }

    // ------------------------------------------------------------------ write + read

    /**
     * lori-ffm's {@link Fds#write} + {@link Fds#read} with a native buffer: the generated
     * bindings, linked {@code critical(true)} with errno capture (see net.argfile).
     */
    @Benchmark
    public long writeReadLori() {
        checkWrite(Fds.write(scratch, clientFd, payload));
        return readBackLori(readBuffer);
    }

    /**
     * As {@link #writeReadLori} but with {@code byte[]}-backed heap segments: only possible
     * because the bindings are {@code critical(true)}, which passes the array address straight in
     * (no copy, no pinning call).
     */
    @Benchmark
    public long writeReadLoriHeap() {
        checkWrite(Fds.write(scratch, clientFd, heapPayload));
        return readBackLori(heapReadBuffer);
    }

    /**
     * lori-ffm's {@link Sockets#send} + {@link Sockets#receive}: {@code send(MSG_NOSIGNAL)} and
     * {@code recv}, the calls a plaintext {@code TcpConnection} actually makes (also
     * {@code critical(true)}). Included because the connection does not use read/write.
     */
    @Benchmark
    public long sendRecvLori() {
        checkWrite(Sockets.send(scratch, clientFd, payload));
        long got = 0;
        while (got < PAYLOAD) {
            long r = Sockets.receive(scratch, serverFd, readBuffer);
            if (r > 0) {
                got += r;
            } else if (r == -Errno.EAGAIN) {
                Thread.onSpinWait();
            } else {
                throw new IllegalStateException("recv returned " + r);
            }
        }
        return got;
    }

    /** write + read through handles built here with {@code critical(false)} + errno capture. */
    @Benchmark
    public long writeReadCriticalHandle() {
        checkWrite(call(WRITE_CRITICAL, capture, clientFd, payload));
        return readBackHandle(READ_CRITICAL);
    }

    /**
     * write + read through handles built here with errno capture and <em>no</em> {@code critical}:
     * the default linkage, with the full thread-state transition and safepoint poll per call.
     */
    @Benchmark
    public long writeReadPlainHandle() {
        checkWrite(call(WRITE_PLAIN, capture, clientFd, payload));
        return readBackHandle(READ_PLAIN);
    }

    /** JDK NIO {@link SocketChannel#write}/{@link SocketChannel#read} with direct buffers, same socket. */
    @Benchmark
    public int writeReadNio() throws IOException {
        nioOut.clear();
        if (client.write(nioOut) != PAYLOAD) {
            throw new IllegalStateException("short NIO write");
        }
        return readBackNio(nioIn);
    }

    /** JDK NIO with heap buffers: NIO copies through a cached temporary direct buffer each way. */
    @Benchmark
    public int writeReadNioHeap() throws IOException {
        nioHeapOut.clear();
        if (client.write(nioHeapOut) != PAYLOAD) {
            throw new IllegalStateException("short NIO write");
        }
        return readBackNio(nioHeapIn);
    }

    // ------------------------------------------------------------------ gathering write + read

    /**
     * lori-ffm's {@link Fds#writev} of four 16-byte native buffers (bound {@code critical(false)}),
     * then {@link Fds#read}. The iovecs are filled every op, as {@code WriteQueue} does per write.
     */
    @Benchmark
    public long writevReadLori() {
        for (int i = 0; i < IOVECS; i++) {
            Fds.setIovec(scratch, i, parts[i]);
        }
        checkWrite(Fds.writev(scratch, clientFd, IOVECS));
        return readBackLori(readBuffer);
    }

    /**
     * lori-ffm's {@link Sockets#sendIovecs}: {@code sendmsg(MSG_NOSIGNAL)} over the same four
     * iovecs, the gathering call {@code WriteQueue} actually makes for more than one buffer.
     */
    @Benchmark
    public long sendmsgReadLori() {
        for (int i = 0; i < IOVECS; i++) {
            Fds.setIovec(scratch, i, parts[i]);
        }
        checkWrite(Sockets.sendIovecs(scratch, clientFd, IOVECS));
        return readBackLori(readBuffer);
    }

    /** JDK NIO gathering {@link SocketChannel#write(ByteBuffer[])} of four 16-byte direct buffers, then read. */
    @Benchmark
    public int writevReadNio() throws IOException {
        for (ByteBuffer b : nioParts) {
            b.clear();
        }
        if (client.write(nioParts) != PAYLOAD) {
            throw new IllegalStateException("short NIO gathering write");
        }
        return readBackNio(nioIn);
    }

    // ------------------------------------------------------------------ epoll_ctl(MOD)

    private int nextInterest() {
        flip = !flip;
        return flip ? INTEREST_B : INTEREST_A;
    }

    /** lori-ffm's {@link Epoll#ctl}({@code EPOLL_CTL_MOD}): the generated binding, {@code critical(false)}. */
    @Benchmark
    public int epollCtlModLori() {
        return check("epoll_ctl", Epoll.ctl(scratch, epfd, Epoll.CTL_MOD, serverFd, nextInterest(), 1L));
    }

    /** {@code epoll_ctl(MOD)} through a handle built here with {@code critical(false)} + errno capture. */
    @Benchmark
    public int epollCtlModCriticalHandle() {
        epollEvent.set(ValueLayout.JAVA_INT_UNALIGNED, EVENT_EVENTS_OFFSET, nextInterest());
        epollEvent.set(ValueLayout.JAVA_LONG_UNALIGNED, EVENT_DATA_OFFSET, 1L);
        return check("epoll_ctl", ctl(EPOLL_CTL_CRITICAL, capture, epfd, Epoll.CTL_MOD, serverFd, epollEvent));
    }

    /** {@code epoll_ctl(MOD)} through a handle built here with errno capture and no {@code critical}. */
    @Benchmark
    public int epollCtlModPlainHandle() {
        epollEvent.set(ValueLayout.JAVA_INT_UNALIGNED, EVENT_EVENTS_OFFSET, nextInterest());
        epollEvent.set(ValueLayout.JAVA_LONG_UNALIGNED, EVENT_DATA_OFFSET, 1L);
        return check("epoll_ctl", ctl(EPOLL_CTL_PLAIN, capture, epfd, Epoll.CTL_MOD, serverFd, epollEvent));
    }

    /**
     * lori-ffm's {@link Epoll#ctl}({@code MOD}) followed by {@link Epoll#await} with timeout 0: the
     * same two system calls NIO's {@code interestOps} + {@code selectNow} makes, for a fair
     * comparison with {@link #interestOpsSelectNowNio}.
     */
    @Benchmark
    public int epollCtlModWaitLori() {
        check("epoll_ctl", Epoll.ctl(scratch, epfd, Epoll.CTL_MOD, serverFd, nextInterest(), 1L));
        return check("epoll_wait", Epoll.await(scratch, epfd, epollEvents, 0));
    }

    /**
     * NIO's nearest equivalent of {@code epoll_ctl(MOD)}: {@link SelectionKey#interestOps(int)}
     * only queues the change; {@link Selector#selectNow()} applies it with {@code epoll_ctl(MOD)},
     * then runs {@code epoll_wait(0)} and updates the selected-key set (cleared here each op).
     */
    @Benchmark
    public int interestOpsSelectNowNio() throws IOException {
        flip = !flip;
        key.interestOps(flip ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
        int n = selector.selectNow();
        selector.selectedKeys().clear();
        return n;
    }
}
