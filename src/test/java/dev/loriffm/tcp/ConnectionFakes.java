package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.IoHandler;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Dns;
import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.loop.EventLoop;
import dev.loriffm.loop.EventLoopGroup;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fake backends and a recording receiver for the connection tests: lori's {@code _FB*} classes,
 * named for what they script. Every fake extends {@link FakeBackend}, so nothing here opens a socket.
 */
final class ConnectionFakes {
    private ConnectionFakes() { }

    // ------------------------------------------------------------------ loop helpers

    /**
     * Makes the JDK open its one-time socket fds (NIO keeps a pre-close socket for the life of the
     * JVM) before a test's fd snapshot, so a test using JDK sockets is not blamed for them. Call it
     * from {@code @BeforeAll}.
     */
    static void warmUpJdkSockets() throws java.io.IOException {
        java.nio.channels.SocketChannel.open().close();
        java.nio.channels.ServerSocketChannel.open().close();
    }

    /** Runs {@code task} on {@code loop} and {@return its result}, waiting at most {@link Loopback#WAIT_SECONDS}. */
    static <T> T onLoop(EventLoop loop, Callable<T> task) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                result.complete(task.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return Loopback.await(result);
    }

    /** {@return how many callback failures the group's loops have caught} */
    static long callbackFailures(EventLoopGroup group) throws Exception {
        long total = 0;
        for (EventLoop loop : group.loops()) {
            total += onLoop(loop, () -> ((Reactor) loop).callbackFailures());
        }
        return total;
    }

    // ------------------------------------------------------------------ recording receiver

    /**
     * A client and server receiver that records every callback as a line ({@code "connecting 2"},
     * {@code "connected"}, {@code "received hello"}, {@code "failure TCP"}, {@code "closed"} ...).
     * Tests override a callback (calling {@code super}) to act in it, and assert on the test
     * thread: an assertion thrown inside a callback would only be logged by the loop.
     */
    static class Log implements ClientLifecycleReceiver, ServerLifecycleReceiver {
        final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        volatile TcpConnection connection;

        void add(String event) {
            events.add(event);
        }

        /** {@return the next event, failing after {@link Loopback#WAIT_SECONDS}} */
        String next() throws InterruptedException {
            return Loopback.poll(events);
        }

        /** Asserts the next events, in order. */
        void expect(String... expected) throws InterruptedException {
            for (String e : expected) {
                assertEquals(e, next());
            }
        }

        /**
         * Runs a marker task on {@code loop} and asserts that exactly {@code expected} events
         * happened before it (the marker runs in a later loop turn than anything already queued).
         */
        void expectBeforeMarker(EventLoop loop, String... expected) throws InterruptedException {
            loop.execute(() -> add("marker"));
            List<String> seen = new ArrayList<>();
            String e;
            while (!(e = next()).equals("marker")) {
                seen.add(e);
            }
            assertEquals(List.of(expected), seen);
        }

        @Override
        public void onConnecting(TcpConnection c, int inflight) {
            connection = c;
            add("connecting " + inflight);
        }

        @Override
        public void onConnected(TcpConnection c) {
            connection = c;
            add("connected");
        }

        @Override
        public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
            connection = c;
            add("failure " + reason);
        }

        @Override
        public void onStarted(TcpConnection c) {
            connection = c;
            add("started");
        }

        @Override
        public void onStartFailure(TcpConnection c, StartFailure reason) {
            add("start failure " + reason);
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            add("received " + Loopback.text(data));
        }

        @Override
        public void onSent(TcpConnection c, SendToken token) {
            add("sent " + token.id());
        }

        @Override
        public void onSendFailed(TcpConnection c, SendToken token) {
            add("send failed " + token.id());
        }

        @Override
        public void onThrottled(TcpConnection c) {
            add("throttled");
        }

        @Override
        public void onUnthrottled(TcpConnection c) {
            add("unthrottled");
        }

        @Override
        public void onClosed(TcpConnection c) {
            add("closed");
        }
    }

    // ------------------------------------------------------------------ server-side fakes

    /**
     * Listens on a fake socket and accepts {@code acceptable} fake connections, then reports
     * EAGAIN ({@code Integer.MAX_VALUE}: never runs dry; use only with a {@link MaxSpawn}).
     * Receives whatever was {@link #script}ed, in order, then EAGAIN forever. Sends succeed.
     */
    static class ServingBackend extends FakeBackend {
        private final AtomicInteger acceptable;
        /** Every fd accept handed out, in order. */
        final List<Integer> accepted = new CopyOnWriteArrayList<>();
        /** How many times {@link #accept} was called. */
        final AtomicInteger acceptCalls = new AtomicInteger();
        /** How many times {@link #receive} was called. */
        final AtomicInteger receiveCalls = new AtomicInteger();
        // byte[] (data), Long (a receive result such as 0 or -errno).
        private final ConcurrentLinkedQueue<Object> receives = new ConcurrentLinkedQueue<>();

        ServingBackend(int acceptable) {
            this.acceptable = new AtomicInteger(acceptable);
        }

        /** Queues receive results: {@code byte[]}/{@code String} data, or a {@code Long} result. */
        ServingBackend script(Object... results) {
            for (Object r : results) {
                receives.add(r instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : r);
            }
            return this;
        }

        @Override
        public int accept(Reactor loop, int listenFd) {
            acceptCalls.incrementAndGet();
            if (acceptable.get() != Integer.MAX_VALUE && acceptable.getAndDecrement() <= 0) {
                return -Errno.EAGAIN;
            }
            int fd = newFd();
            accepted.add(fd);
            return fd;
        }

        @Override
        public long receive(Reactor loop, int fd, MemorySegment into) {
            receiveCalls.incrementAndGet();
            Object next = receives.poll();
            if (next == null) {
                return -Errno.EAGAIN;
            }
            if (next instanceof Long result) {
                return result;
            }
            byte[] data = (byte[]) next;
            if (data.length > into.byteSize()) {
                throw new IllegalStateException("scripted chunk larger than the read window");
            }
            MemorySegment.copy(MemorySegment.ofArray(data), 0, into, 0, data.length);
            return data.length;
        }
    }

    /** A listener on {@code backend} whose accepted sockets become server connections for {@code receiver}. */
    static TcpListener serve(EventLoopGroup group, FakeBackend backend, ServerLifecycleReceiver receiver) {
        return TcpListener.create(backend, Loopback.LISTEN, group, "fake-host", 12345, new ListenerReceiver() {
            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                throw new AssertionError("fake listen failed: " + failure);
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return TcpConnection.server(Loopback.SERVE, socket, receiver);
            }
        }, IpVersion.DUAL_STACK, MaxSpawn.DEFAULT);
    }

    // ------------------------------------------------------------------ client-side fakes

    /**
     * A client backend: the host resolves to {@link #addresses} (or fails with {@link #dnsFailure}),
     * every attempt starts (unless its address is in {@link #unstartable}) and stays in flight until
     * a test {@link #fire}s its readiness; {@link #failWith} sets what {@code SO_ERROR} reports.
     * Records every attempt, every send and the order things happened in.
     */
    static class ConnectingBackend extends FakeBackend {
        volatile List<InetSocketAddress> addresses = List.of(address("127.0.0.1", 7000));
        volatile Dns.Failed dnsFailure;
        final Set<InetSocketAddress> unstartable = ConcurrentHashMap.newKeySet();
        /** Attempt fds in start order. */
        final BlockingQueue<Integer> started = new LinkedBlockingQueue<>();
        /** Every attempt fd, in start order (not consumed by polling). */
        final List<Integer> attempts = new CopyOnWriteArrayList<>();
        /** The target of each attempt fd. */
        final Map<Integer, InetSocketAddress> targets = new ConcurrentHashMap<>();
        /** Every start, including refused ones, as {@code "start host:port"} / {@code "refused host:port"}. */
        final List<String> startLog = new CopyOnWriteArrayList<>();
        /** The fd of every send, in order. */
        final List<Integer> sentOn = new CopyOnWriteArrayList<>();
        final AtomicInteger resolveCalls = new AtomicInteger();
        private final Map<Integer, Integer> socketErrors = new ConcurrentHashMap<>();
        /** Handlers kept past close, to replay late events the way a stale epoll event would arrive. */
        private final Map<Integer, IoHandler> everRegistered = new ConcurrentHashMap<>();

        ConnectingBackend resolvingTo(InetSocketAddress... to) {
            addresses = List.of(to);
            return this;
        }

        /** Makes {@code SO_ERROR} of {@code fd} report {@code errno}. */
        void failWith(int fd, int errno) {
            socketErrors.put(fd, errno);
        }

        /** The attempt on {@code fd} was refused: SO_ERROR and the events the kernel reports. */
        void refuse(int fd) {
            failWith(fd, Errno.ECONNREFUSED);
            fire(fd, WRITEABLE | Epoll.EPOLLERR | Epoll.EPOLLHUP);
        }

        /** The attempt on {@code fd} connected. */
        void connect(int fd) {
            fire(fd, WRITEABLE);
        }

        /** Delivers {@code events} for {@code fd} even after it was closed (a stale event). */
        void fireStale(int fd, int events) {
            IoHandler handler = everRegistered.get(fd);
            loops.get(fd).execute(() -> handler.onIo(fd, events));
        }

        /** {@return the handler {@code fd} was registered with, even after it was closed} */
        IoHandler handlerOf(int fd) {
            return everRegistered.get(fd);
        }

        /** {@return the next attempt fd, waiting for it to start} */
        int nextAttempt() throws InterruptedException {
            return Loopback.poll(started);
        }

        /** Counted down when {@link #resolve} is entered. */
        final CountDownLatch resolving = new CountDownLatch(1);
        /** If set, {@link #resolve} blocks (off the loop, as getaddrinfo can) until it opens. */
        volatile CountDownLatch resolveGate;

        @Override
        public Dns.Resolution resolve(String host, int port, IpVersion ipVersion, boolean passive) {
            resolveCalls.incrementAndGet();
            resolving.countDown();
            CountDownLatch gate = resolveGate;
            if (gate != null) {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return new Dns.Failed(0, "interrupted", "resolver interrupted");
                }
            }
            Dns.Failed failed = dnsFailure;
            return failed != null ? failed : new Dns.Resolved(addresses);
        }

        @Override
        public int startConnect(Reactor loop, InetSocketAddress target, InetSocketAddress from, IoHandler handler) {
            if (unstartable.contains(target)) {
                startLog.add("refused " + hostPort(target));
                return -Errno.ECONNREFUSED;
            }
            int fd = super.startConnect(loop, target, from, handler);
            everRegistered.put(fd, handler);
            targets.put(fd, target);
            attempts.add(fd);
            startLog.add("start " + hostPort(target));
            started.add(fd);
            return fd;
        }

        @Override
        public int socketError(Reactor loop, int fd) {
            return socketErrors.getOrDefault(fd, 0);
        }

        @Override
        public long send(Reactor loop, int fd, MemorySegment data) {
            sentOn.add(fd);
            return super.send(loop, fd, data);
        }

        @Override
        public long sendIovecs(Reactor loop, int fd, int count) {
            sentOn.add(fd);
            return super.sendIovecs(loop, fd, count);
        }

        /** {@return how many times {@code fd} was closed} */
        int closeCount(int fd) {
            return Collections.frequency(closed, fd);
        }
    }

    static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** A fake client connection to {@code fake-host:7000} on {@code loop}. */
    static TcpConnection client(ConnectingBackend backend, EventLoop loop, ClientLifecycleReceiver receiver,
                                ClientOptions options) {
        return TcpConnection.client(backend, Loopback.CONNECT, loop, "fake-host", 7000, receiver, options);
    }
}
