package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.loop.EventLoop;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Timers around TLS handshakes: the TLS tests of lori's {@code _test_idle_timeout.pony},
 * {@code _test_timer.pony} and {@code _test_connection_timeout.pony}. A handshake that stalls
 * talks to a {@link StalledPeer}: a plain JDK socket that accepts, reads everything and never
 * writes a byte, so a ClientHello is never answered.
 *
 * <p>Nothing is judged by elapsed time. What must not happen is checked with a marker task queued
 * on the connection's loop after the event that ends the test (nothing can follow a closed or
 * failed connection), or, where a timer must not be armed, by the loop's count of pending timers.
 * Where a timer races the checkpoint on a slow machine, the check can only become vacuous.
 */
@ExtendWith(FdLeakCheck.class)
class TlsTimersTest extends TlsFixture {
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> serverEvents = new LinkedBlockingQueue<>();


    // ------------------------------------------------------------------ idle timeout

    /**
     * Port of lori _TestIdleTimeoutRearmsDuringTLSUpgrade: the idle timeout keeps firing, and
     * re-arming, while a {@code startTls} handshake is stuck (the plaintext server never answers the
     * ClientHello). Both firings happen in the upgrade: sends are still refused and no TLS info
     * exists; then a hard close reports {@code onTlsFailure(GENERAL_ERROR)} and {@code onClosed}.
     */
    @Test
    void idleTimeoutKeepsFiringWhileATlsUpgradeStalls() throws Exception {
        int port = Loopback.listen(group, socket -> new ServerLifecycleReceiver() {
            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) {
                serverEvents.add("start failure " + reason);
            }
        }).address().getPort(); // receives the ClientHello as plaintext and ignores it
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, new Client() {
            private int fires;

            @Override
            public void onConnected(TcpConnection c) {
                c.idleTimeout(idle(50));
                record("upgrade " + c.startTls(clientContext, "localhost"));
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                fires++;
                record("idle " + fires + ": send " + describe(c.send("x")) + ", tls info " + c.tlsInfo());
                if (fires == 2) {
                    c.idleTimeout(null);
                    c.hardClose();
                }
            }

            @Override
            public void onTlsReady(TcpConnection c) {
                record("tls ready");
            }

            @Override
            public void onTlsFailure(TcpConnection c, TlsFailure reason) {
                record("tls failure " + reason);
            }
        });
        expect("upgrade STARTED", "idle 1: send NOT_CONNECTED, tls info null",
                "idle 2: send NOT_CONNECTED, tls info null", "tls failure GENERAL_ERROR", "closed");
    }

    /** Port of lori _TestSSLIdleTimeout: the idle timeout fires on a TLS connection nobody writes to. */
    @Test
    void idleTimeoutFiresOnAQuietTlsConnection() throws Exception {
        int port = tlsListen(socket -> new TlsServer() {
            @Override
            public void onStarted(TcpConnection c) {
                serverEvents.add("started");
                c.idleTimeout(idle(100));
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                serverEvents.add("idle, open " + c.isOpen() + ", " + c.tlsInfo().protocol());
                c.idleTimeout(null);
            }
        });
        sslClient(port, new Client());
        expectServer("started", "idle, open true, TLSv1.3");
    }

    /**
     * Port of lori _TestSSLIdleTimeoutNotArmedDuringHandshake (regression for lori#235: the idle
     * timer was armed before the TLS handshake finished). An idle timeout stored while connecting,
     * and set again once the handshake is provably under way (the peer holds our ClientHello), arms
     * no timer: the loop's pending timers stay at the connection timeout alone. The stalled
     * handshake then ends with the connection timeout, and no {@code onIdleTimeout} ever comes.
     */
    @Test
    void idleTimeoutIsNotArmedDuringTheInitialHandshake() throws Exception {
        try (StalledPeer peer = StalledPeer.open()) {
            int[] baseline = new int[1];
            TcpConnection c = sslClient(peer.port(), new Client() {
                @Override
                public void onConnecting(TcpConnection c, int inflight) {
                    c.idleTimeout(idle(50));
                    baseline[0] = reactor(c).pendingTimers(); // the connection timeout
                    record("stored");
                }

                @Override
                public void onIdleTimeout(TcpConnection c) {
                    record("idle");
                }
            }, ClientOptions.DEFAULT.withConnectionTimeout(new ConnectionTimeout(1_000)));
            expect("stored");
            peer.awaitClientHello();
            c.execute(() -> {
                boolean closed = c.isClosed();
                int before = reactor(c).pendingTimers() - baseline[0];
                c.idleTimeout(idle(50));
                int after = reactor(c).pendingTimers() - baseline[0];
                // Timed out already (a very slow machine): the check is vacuous.
                record(closed ? "handshaking check came too late" : "handshaking: pending +" + before + ", +" + after);
            });
            List<String> two = List.of(next(), next());
            assertTrue(two.contains("failure TIMEOUT"), two::toString);
            assertTrue(two.contains("handshaking: pending +0, +0") || two.contains("handshaking check came too late"),
                    two::toString);
            expectBeforeMarker(c.loop());
            assertEquals(StalledPeer.EOF, peer.awaitEnd(), "the timed-out connection closed its socket");
        }
    }

    /**
     * Port of lori _TestSSLIdleTimeoutDeferredArm: an idle timeout set while the TLS client is
     * still connecting is stored, armed exactly once when the handshake completes (lori#235's
     * double arm would add two timers), and fires after {@code onConnected}.
     */
    @Test
    void idleTimeoutSetBeforeTheHandshakeArmsOnceItCompletes() throws Exception {
        int port = tlsListen(socket -> new TlsServer());
        int[] baseline = {-1};
        sslClient(port, new Client() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                if (baseline[0] < 0) {
                    int before = reactor(c).pendingTimers();
                    c.idleTimeout(idle(100));
                    baseline[0] = reactor(c).pendingTimers();
                    record("stored, pending +" + (baseline[0] - before));
                }
            }

            @Override
            public void onConnected(TcpConnection c) {
                record("connected, pending +" + (reactor(c).pendingTimers() - baseline[0]));
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                record("idle, open " + c.isOpen());
                c.idleTimeout(null);
            }
        });
        expect("stored, pending +0", "connected, pending +1", "idle, open true");
    }

    // ------------------------------------------------------------------ user timer

    /**
     * Port of lori _TestSetTimerNotOpenDuringSSLHandshake: a TLS client's {@code setTimer} is
     * refused before it initialised (lori's check, made on the loop right after creation), while
     * connecting, and during the handshake (the peer holds our ClientHello and never answers),
     * where sends are refused too. When the peer gives up the client fails with SSL, and no timer
     * ever fires.
     */
    @Test
    void setTimerIsRefusedUntilTheTlsClientHandshakeCompletes() throws Exception {
        try (StalledPeer peer = StalledPeer.open()) {
            Client receiver = new Client() {
                @Override
                public void onConnecting(TcpConnection c, int inflight) {
                    record("connecting: " + describe(c.setTimer(ms(50))));
                }

                @Override
                public void onTimer(TcpConnection c, TimerToken token) {
                    record("timer " + token.id());
                }
            };
            EventLoop loop = group.next();
            CompletableFuture<TcpConnection> created = new CompletableFuture<>();
            loop.execute(() -> {
                TcpConnection c = TcpConnection.sslClient(Loopback.CONNECT, loop, "127.0.0.1", peer.port(),
                        clientContext, receiver);
                record("before init: " + describe(c.setTimer(ms(50))));
                created.complete(c);
            });
            TcpConnection c = Loopback.await(created);
            expect("before init: NOT_OPEN", "connecting: NOT_OPEN");
            peer.awaitClientHello();
            c.execute(() -> record("handshaking: " + describe(c.setTimer(ms(50))) + ", open " + c.isOpen()
                    + ", send " + describe(c.send("x"))));
            expect("handshaking: NOT_OPEN, open false, send NOT_CONNECTED");
            peer.hangUp(); // FIN in the middle of the handshake
            expect("failure SSL");
            expectBeforeMarker(loop);
        }
    }

    /**
     * Port of lori _TestSetTimerNotOpenDuringSSLHandshakeServer: a TLS server connection's
     * {@code setTimer} is refused before it initialised (checked in {@code onAccept}, on the one
     * loop of a single-loop group) and during its handshake with a plain client that never sends
     * a ClientHello; when that client leaves, the server fails with {@code onStartFailure(SSL)},
     * never started and with no timer fired.
     */
    @Test
    void setTimerIsRefusedUntilTheTlsServerHandshakeCompletes() throws Exception {
        group.close();
        group = EventLoopGroup.create(1); // onAccept and the accepted connection share the loop
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        int port = listen(socket -> {
            TcpConnection c = TcpConnection.sslServer(Loopback.SERVE, socket, serverContext, new TlsServer() {
                @Override
                public void onTimer(TcpConnection c, TimerToken token) {
                    serverEvents.add("timer " + token.id());
                }
            });
            serverEvents.add("before init: " + describe(c.setTimer(ms(50))));
            accepted.complete(c);
            return c;
        });
        try (SocketChannel plain = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
            assertTrue(plain.isConnected()); // and it never writes: no ClientHello
            TcpConnection c = Loopback.await(accepted);
            expectServer("before init: NOT_OPEN");
            // Queued after the connection's initialisation: it is handshaking, waiting for a ClientHello.
            c.execute(() -> serverEvents.add("handshaking: " + describe(c.setTimer(ms(50))) + ", open "
                    + c.isOpen() + ", closed " + c.isClosed()));
            expectServer("handshaking: NOT_OPEN, open false, closed false");
        }
        expectServer("start failure SSL");
        TcpConnection c = Loopback.await(accepted);
        c.execute(() -> serverEvents.add("marker"));
        expectServer("marker");
    }

    // ------------------------------------------------------------------ connection timeout

    /**
     * Port of lori _TestSSLConnectionTimeoutFires: TCP connects but the peer never answers the
     * ClientHello; the connection timeout ends the handshake with {@code onConnectionFailure(TIMEOUT)}
     * (the handshake's teardown, not the connecting one's), nothing else follows, and the socket
     * is closed.
     */
    @Test
    void connectionTimeoutEndsAStalledTlsHandshake() throws Exception {
        try (StalledPeer peer = StalledPeer.open()) {
            TcpConnection c = sslClient(peer.port(), new Client(),
                    ClientOptions.DEFAULT.withConnectionTimeout(new ConnectionTimeout(300)));
            expect("failure TIMEOUT");
            expectBeforeMarker(c.loop());
            byte[] hello = peer.received();
            // On a machine too slow to connect on loopback within 300 ms this test proves nothing.
            Assumptions.assumeTrue(hello.length >= 5, "timed out before the handshake began");
            assertEquals(0x16, hello[0], "the peer got a TLS handshake record");
            assertEquals(StalledPeer.EOF, peer.awaitEnd(), "the timed-out connection closed its socket");
        }
    }

    /**
     * Port of lori _TestSSLConnectionTimeoutCancelledOnConnect: a completed handshake cancels the
     * connection timeout (its timer leaves the loop's heap before {@code onConnected}), and the
     * connection then works: an echo comes back and it closes with {@code onClosed}.
     */
    @Test
    void completedHandshakeCancelsTheConnectionTimeout() throws Exception {
        int port = tlsListen(socket -> new TlsServer() {
            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                c.send(data.toArray(ValueLayout.JAVA_BYTE));
            }
        });
        int[] baseline = {-1};
        sslClient(port, new Client() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                if (baseline[0] < 0) {
                    baseline[0] = reactor(c).pendingTimers();
                }
            }

            @Override
            public void onConnected(TcpConnection c) {
                record("connected, pending " + (reactor(c).pendingTimers() - baseline[0]));
                c.send("ping");
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                record("received " + Loopback.text(data));
                c.close();
            }
        }, ClientOptions.DEFAULT.withConnectionTimeout(new ConnectionTimeout(30_000)));
        expect("connected, pending -1", "received ping", "closed");
    }

    // ------------------------------------------------------------------ helpers

    /**
     * A plain JDK peer on 127.0.0.1:0 that accepts one connection, reads until the stream ends and
     * never writes: a TLS handshake with it stalls after the ClientHello. Its thread is its own;
     * {@link #close()} closes both sockets and waits for it.
     */
    static final class StalledPeer implements AutoCloseable {
        static final long EOF = -1;

        private final ServerSocketChannel listener;
        private final Thread thread;
        private final CompletableFuture<byte[]> firstBytes = new CompletableFuture<>();
        private final CompletableFuture<Long> end = new CompletableFuture<>();
        // -- guarded by this
        private SocketChannel accepted;
        private boolean closed;

        private StalledPeer(ServerSocketChannel listener) {
            this.listener = listener;
            this.thread = Thread.ofPlatform().daemon(true).name("stalled-peer").start(this::run);
        }

        static StalledPeer open() throws IOException {
            ServerSocketChannel listener = ServerSocketChannel.open();
            try {
                listener.bind(new InetSocketAddress("127.0.0.1", 0));
            } catch (IOException | RuntimeException e) {
                listener.close();
                throw e;
            }
            return new StalledPeer(listener);
        }

        int port() {
            try {
                return ((InetSocketAddress) listener.getLocalAddress()).getPort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void run() {
            ByteBuffer first = ByteBuffer.allocate(5); // a TLS record header
            try {
                SocketChannel s = listener.accept();
                synchronized (this) {
                    if (closed) {
                        s.close();
                        return;
                    }
                    accepted = s;
                }
                ByteBuffer rest = ByteBuffer.allocate(16 * 1024);
                while (s.read(first.hasRemaining() ? first : rest) >= 0) {
                    rest.clear();
                    if (!first.hasRemaining()) {
                        firstBytes.complete(first.array());
                    }
                }
                end.complete(EOF);
            } catch (IOException | RuntimeException e) {
                end.complete(0L); // closed by close(), or reset
            } finally {
                end.complete(0L);
                firstBytes.complete(Arrays.copyOf(first.array(), first.position()));
            }
        }

        /** Waits until the peer holds the first 5 bytes sent to it (a TLS record header). */
        void awaitClientHello() throws Exception {
            byte[] header = Loopback.await(firstBytes);
            assertTrue(header.length == 5 && header[0] == 0x16, "expected a TLS handshake record");
        }

        /** {@return the first bytes received (up to 5), once 5 arrived or the stream ended} */
        byte[] received() throws Exception {
            return Loopback.await(firstBytes);
        }

        /** {@return {@link #EOF} once the stream ended with a FIN} */
        long awaitEnd() throws Exception {
            return Loopback.await(end);
        }

        /** Closes the accepted connection: the client gets FIN (in the middle of its handshake). */
        void hangUp() throws IOException {
            SocketChannel s;
            synchronized (this) {
                s = accepted;
            }
            assertTrue(s != null, "no connection was accepted");
            s.close();
        }

        @Override
        public void close() throws IOException {
            SocketChannel s;
            synchronized (this) {
                closed = true;
                s = accepted;
            }
            try {
                if (s != null) {
                    s.close();
                }
            } finally {
                listener.close(); // also ends an accept() still waiting
                try {
                    thread.join(TimeUnit.SECONDS.toMillis(Loopback.WAIT_SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** A client recording its failure and close. */
    private class Client implements ClientLifecycleReceiver {
        @Override
        public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
            record("failure " + reason);
        }

        @Override
        public void onConnected(TcpConnection c) {
            record("connected");
        }

        @Override
        public void onClosed(TcpConnection c) {
            record("closed");
        }
    }

    /** A TLS server connection recording start, start failure and close into the server events. */
    private class TlsServer implements ServerLifecycleReceiver {
        @Override
        public void onStarted(TcpConnection c) {
            serverEvents.add("started");
        }

        @Override
        public void onStartFailure(TcpConnection c, StartFailure reason) {
            serverEvents.add("start failure " + reason);
        }

        @Override
        public void onClosed(TcpConnection c) {
            serverEvents.add("closed");
        }
    }

    private int tlsListen(Function<AcceptedSocket, ServerLifecycleReceiver> factory) throws Exception {
        return listen(socket -> TcpConnection.sslServer(Loopback.SERVE, socket, serverContext, factory.apply(socket)));
    }

    private int listen(Function<AcceptedSocket, TcpConnection> onAccept) throws Exception {
        CompletableFuture<InetSocketAddress> listening = new CompletableFuture<>();
        TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l.localAddress());
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                listening.completeExceptionally(new AssertionError("listen failed: " + failure));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return onAccept.apply(socket);
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        return Loopback.await(listening).getPort();
    }

    private TcpConnection sslClient(int port, ClientLifecycleReceiver receiver) {
        return sslClient(port, receiver, ClientOptions.DEFAULT);
    }

    private TcpConnection sslClient(int port, ClientLifecycleReceiver receiver, ClientOptions options) {
        return TcpConnection.sslClient(Loopback.CONNECT, group.next(), "127.0.0.1", port, clientContext, receiver,
                options);
    }

    private static IdleTimeout idle(long millis) {
        return new IdleTimeout(millis);
    }

    private static TimerDuration ms(long millis) {
        return new TimerDuration(millis);
    }

    private static Reactor reactor(TcpConnection c) {
        return (Reactor) c.loop();
    }

    private static String describe(SetTimerResult result) {
        return switch (result) {
            case TimerToken token -> "token " + token.id();
            case SetTimerError error -> error.name();
        };
    }

    private static String describe(SendResult result) {
        return switch (result) {
            case SendToken token -> "token " + token.id();
            case SendError error -> error.name();
        };
    }

    private void record(String event) {
        events.add(event);
    }

    private String next() throws InterruptedException {
        return Loopback.poll(events);
    }

    private void expect(String... expected) throws InterruptedException {
        for (String e : expected) {
            assertEquals(e, next());
        }
    }

    private void expectServer(String... expected) throws InterruptedException {
        for (String e : expected) {
            assertEquals(e, Loopback.poll(serverEvents));
        }
    }

    /** Queues a marker on {@code loop}; asserts no client event comes before it. */
    private void expectBeforeMarker(EventLoop loop) throws InterruptedException {
        loop.execute(() -> record("marker"));
        assertEquals("marker", next());
    }
}
