package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.IoHandler;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Dns;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.loriffm.tcp.ConnectionFakes.onLoop;
import static dev.loriffm.tcp.FakeBackend.READABLE;
import static dev.loriffm.tcp.FakeBackend.address;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ports of lori's fake-backend tests in {@code _test_connection.pony}: the receive path, the
 * connecting states and the listener, driven through {@link FakeBackend} subclasses with no sockets.
 * A server connection reads only once epoll reports it readable, so the server tests
 * {@link FakeBackend#fire fire} {@code READABLE} as the kernel would after registration.
 */
@ExtendWith(FdLeakCheck.class)
class ConnectionFakeBackendTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    private static int acceptedFd(ConnectionFakes.ServingBackend backend) throws InterruptedException {
        return backend.accepted.getFirst();
    }

    // ------------------------------------------------------------------ receive path (server side)

    /** Port of lori _TestFakeRecvError: a receive error hard-closes the connection; nothing is delivered. */
    @Test
    void receiveErrorClosesTheConnectionWithoutDelivering() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(1).script((long) -Errno.ECONNRESET);
        var log = new ConnectionFakes.Log();
        ConnectionFakes.serve(group, backend, log);
        log.expect("started");
        int fd = acceptedFd(backend);
        backend.fire(fd, READABLE);
        log.expect("closed");
        log.expectBeforeMarker(log.connection.loop());
        assertTrue(backend.closed.contains(fd), "the socket was closed");
        String detail = onLoop(log.connection.loop(), () -> log.connection.failureDetail());
        assertTrue(detail.contains("ECONNRESET"), detail);
    }

    /** Like lori _TestFakeRecvError for end of stream: lori treats the peer's FIN as a close (no half-close). */
    @Test
    void peerEndOfStreamClosesTheConnection() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(1).script(0L);
        var log = new ConnectionFakes.Log();
        ConnectionFakes.serve(group, backend, log);
        log.expect("started");
        backend.fire(acceptedFd(backend), READABLE);
        log.expect("closed");
        log.expectBeforeMarker(log.connection.loop());
    }

    /** Port of lori _TestFakeRecvRetry: a receive that would block delivers nothing and keeps the connection open. */
    @Test
    void receiveRetryDeliversNothingAndWaits() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(1);
        var log = new ConnectionFakes.Log();
        ConnectionFakes.serve(group, backend, log);
        log.expect("started");
        backend.fire(acceptedFd(backend), READABLE);
        log.expectBeforeMarker(log.connection.loop());
        assertTrue(backend.receiveCalls.get() >= 1, "the readable event made it read");
        assertTrue(onLoop(log.connection.loop(), () -> log.connection.isOpen()));
    }

    /** Port of lori _TestFakeRecvData: received bytes reach onReceived. */
    @Test
    void receivedDataIsDelivered() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(1).script("hello");
        var log = new ConnectionFakes.Log();
        ConnectionFakes.serve(group, backend, log);
        log.expect("started");
        backend.fire(acceptedFd(backend), READABLE);
        log.expect("received hello");
        log.expectBeforeMarker(log.connection.loop());
    }

    /** Port of lori _TestFakeRecvFramed: 10 bytes with bufferUntil(4) make two 4-byte messages; 2 bytes wait. */
    @Test
    void framedReceiveDeliversWholeMessagesAndHoldsTheRest() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(1).script("AAAAAAAAAA");
        var log = new ConnectionFakes.Log() {
            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                add("bufferUntil " + c.bufferUntil(BufferSize.of(4)));
            }
        };
        ConnectionFakes.serve(group, backend, log);
        log.expect("started", "bufferUntil SET");
        backend.fire(acceptedFd(backend), READABLE);
        log.expect("received AAAA", "received AAAA");
        log.expectBeforeMarker(log.connection.loop());
    }

    /** Port of lori _TestFakeMute: a connection muted before its first read delivers nothing until unmuted. */
    @Test
    void muteBeforeTheFirstReadHoldsDataUntilUnmute() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(1).script("hello");
        var log = new ConnectionFakes.Log() {
            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.mute();
            }
        };
        ConnectionFakes.serve(group, backend, log);
        log.expect("started");
        backend.fire(acceptedFd(backend), READABLE);
        log.expectBeforeMarker(log.connection.loop());
        assertEquals(0, backend.receiveCalls.get(), "a muted connection does not read");
        TcpConnection c = log.connection;
        c.execute(() -> {
            log.add("unmuting");
            c.unmute();
        });
        log.expect("unmuting", "received hello");
        log.expectBeforeMarker(c.loop());
    }

    /**
     * Port of lori _TestFakeYieldReading: after yieldRead() the next message waits for a later loop
     * turn. A task deferred from the first onReceived must run before the second message.
     */
    @Test
    void yieldReadDefersTheNextMessageToALaterTurn() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(1).script("AAAAABBBBB");
        var log = new ConnectionFakes.Log() {
            private int received;

            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.bufferUntil(BufferSize.of(5));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                if (++received == 1) {
                    c.yieldRead();
                    ((Reactor) c.loop()).defer(() -> add("next turn"));
                }
            }
        };
        ConnectionFakes.serve(group, backend, log);
        log.expect("started");
        backend.fire(acceptedFd(backend), READABLE);
        log.expect("received AAAAA", "next turn", "received BBBBB");
        log.expectBeforeMarker(log.connection.loop());
    }

    // ------------------------------------------------------------------ connecting (client side)

    /** Port of lori _TestFakeConnectDNSFailure: a failed resolution fails the connection with DNS. */
    @Test
    void resolutionFailureFailsWithDns() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        backend.dnsFailure = new Dns.Failed(-2, "EAI_NONAME", "Name or service not known");
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        log.expect("failure DNS");
        log.expectBeforeMarker(c.loop());
        assertEquals(List.of(), backend.attempts, "no attempt started");
        String detail = onLoop(c.loop(), c::failureDetail);
        assertTrue(detail.contains("EAI_NONAME"), detail);
    }

    /** Port of lori _TestFakeConnectInflight: three resolved addresses make three attempts in flight. */
    @Test
    void everyResolvedAddressIsAnAttemptInFlight() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(
                address("127.0.0.1", 7000), address("127.0.0.2", 7000), address("::1", 7000));
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        log.expect("connecting 3");
        log.expectBeforeMarker(c.loop());
        assertEquals(3, backend.attempts.size());
    }

    /** Port of lori _TestFakeSendWhileConnecting: send while connecting is NOT_CONNECTED and burns no token id. */
    @Test
    void sendWhileConnectingIsRefused() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        var log = new ConnectionFakes.Log() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                super.onConnecting(c, inflight);
                add("send " + c.send("aaa") + ", writeable " + c.isWriteable());
            }
        };
        TcpConnection c = ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        log.expect("connecting 1", "send NOT_CONNECTED, writeable false");
        backend.connect(backend.nextAttempt());
        log.expect("connected");
        assertEquals(new SendToken(1), onLoop(c.loop(), () -> c.send("now")), "the refused send used no id");
    }

    /** Port of lori _TestFakeSendWhileUnconnectedClosing: send after close() while connecting is NOT_CONNECTED. */
    @Test
    void sendWhileClosingUnconnectedIsRefused() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        var log = new ConnectionFakes.Log() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                super.onConnecting(c, inflight);
                c.close();
                add("send " + c.send("aaa") + ", closed " + c.isClosed());
            }
        };
        ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        log.expect("connecting 1", "send NOT_CONNECTED, closed true");
        backend.connect(backend.nextAttempt());
        log.expect("failure TCP");
    }

    /**
     * Port of lori _TestFakeUnconnectedClosingDrain: close() while connecting waits for every attempt
     * in flight; the failure comes when the last one finishes, and an attempt that connects in the
     * meantime does not revive the connection.
     */
    @Test
    void closeWhileConnectingFailsOnceTheAttemptsDrain() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(
                address("127.0.0.1", 7000), address("127.0.0.2", 7000));
        var log = new ConnectionFakes.Log() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                super.onConnecting(c, inflight);
                c.close();
            }
        };
        TcpConnection c = ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        log.expect("connecting 2");
        int first = backend.nextAttempt();
        int second = backend.nextAttempt();
        backend.connect(first);
        log.expectBeforeMarker(c.loop());
        assertEquals(1, backend.closeCount(first), "the drained attempt is closed");
        backend.refuse(second);
        log.expect("failure TCP");
        log.expectBeforeMarker(c.loop());
        assertEquals(1, backend.closeCount(first));
        assertEquals(1, backend.closeCount(second));
    }

    /**
     * Port of lori _TestFakeHardCloseDuringUnconnectedClosing: hardClose() while draining fails at
     * once, without waiting for the attempts (which we close at once; lori leaves them to their events).
     */
    @Test
    void hardCloseWhileClosingUnconnectedFailsAtOnce() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(
                address("127.0.0.1", 7000), address("127.0.0.2", 7000));
        var log = new ConnectionFakes.Log() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                super.onConnecting(c, inflight);
                c.close();
                c.hardClose();
            }
        };
        TcpConnection c = ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        log.expect("connecting 2", "failure TCP");
        log.expectBeforeMarker(c.loop());
        for (int fd : backend.attempts) {
            assertEquals(1, backend.closeCount(fd), "attempt " + fd + " closed once");
        }
    }

    /**
     * Beyond lori (whose resolution is synchronous): close() while the host is still resolving
     * fails the connection once, as closed while connecting (TCP), not as a resolution failure;
     * the late resolution starts nothing.
     */
    @Test
    void closeWhileResolvingFailsAsClosedNotAsDns() throws Exception {
        closeWhileResolving(false);
    }

    /** Beyond lori: as {@link #closeWhileResolvingFailsAsClosedNotAsDns}, for hardClose(). */
    @Test
    void hardCloseWhileResolvingFailsAsClosedNotAsDns() throws Exception {
        closeWhileResolving(true);
    }

    private void closeWhileResolving(boolean hard) throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        backend.resolveGate = new CountDownLatch(1);
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        assertTrue(backend.resolving.await(Loopback.WAIT_SECONDS, TimeUnit.SECONDS));
        c.execute(hard ? c::hardClose : c::close);
        String failure = log.next();
        backend.resolveGate.countDown();
        assertEquals(1, backend.resolveCalls.get());
        onLoop(c.loop(), () -> null); // the resolution's result has reached the loop by now
        log.expectBeforeMarker(c.loop());
        assertEquals(List.of(), backend.attempts, "nothing started after the close");
        assertEquals("failure TCP", failure, "closed while resolving; the name did not fail to resolve");
    }

    // ------------------------------------------------------------------ listener

    /** A listener receiver that records its callbacks. */
    private static final class ListenerLog implements ListenerReceiver {
        final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        final List<TcpConnection> connections = new CopyOnWriteArrayList<>();
        final List<ConnectionFakes.Log> servers = new CopyOnWriteArrayList<>();
        volatile ListenFailure failure;

        @Override
        public void onListening(TcpListener l) {
            events.add("listening");
        }

        @Override
        public void onListenFailure(TcpListener l, ListenFailure f) {
            failure = f;
            events.add("listen failure " + f.stage());
        }

        @Override
        public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
            ConnectionFakes.Log server = new ConnectionFakes.Log();
            TcpConnection c = TcpConnection.server(Loopback.SERVE, socket, server);
            servers.add(server);
            connections.add(c);
            events.add("accept " + socket.fd());
            return c;
        }

        @Override
        public void onClosed(TcpListener l) {
            events.add("closed");
        }

        void expectBeforeMarker(TcpListener l, String... expected) throws InterruptedException {
            l.loop().execute(() -> events.add("marker"));
            List<String> seen = new ArrayList<>();
            String e;
            while (!(e = Loopback.poll(events)).equals("marker")) {
                seen.add(e);
            }
            assertEquals(List.of(expected), seen);
        }
    }

    private static TcpListener listen(EventLoopGroup group, FakeBackend backend, ListenerReceiver receiver,
                                      MaxSpawn limit) {
        return TcpListener.create(backend, Loopback.LISTEN, group, "fake-host", 12345, receiver,
                IpVersion.DUAL_STACK, limit);
    }

    /** Port of lori _TestFakeListenFailure: a listen failure reaches onListenFailure, naming the stage. */
    @Test
    void listenFailureIsReported() throws Exception {
        var backend = new FakeBackend() {
            @Override
            public ListenOutcome listen(Reactor loop, InetSocketAddress address, boolean dualStack,
                                        IoHandler handler) {
                return new ListenFailed("bind", Errno.EADDRINUSE);
            }
        };
        var log = new ListenerLog();
        TcpListener listener = listen(group, backend, log, MaxSpawn.DEFAULT);
        assertEquals("listen failure bind", Loopback.poll(log.events));
        assertTrue(log.failure.message().contains("EADDRINUSE"), log.failure.message());
        listener.close();
        log.expectBeforeMarker(listener); // no onClosed: it never listened
        assertEquals(null, listener.localAddress());
    }

    /** Port of lori _TestFakeAccept: an accepted socket reaches onAccept with its fd and starts a connection. */
    @Test
    void acceptedSocketReachesOnAccept() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(1);
        var log = new ListenerLog();
        TcpListener listener = listen(group, backend, log, MaxSpawn.DEFAULT);
        assertEquals("listening", Loopback.poll(log.events));
        String accept = Loopback.poll(log.events);
        assertEquals("accept " + acceptedFd(backend), accept);
        log.servers.getFirst().expect("started");
        log.expectBeforeMarker(listener);
        assertEquals(1L, onLoop(listener.loop(), listener::openConnections));
    }

    /** Port of lori _TestFakeConnectionLimit: MaxSpawn 2 pauses after two accepts; a close resumes accepting. */
    @Test
    void connectionLimitPausesAcceptingUntilAConnectionCloses() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(Integer.MAX_VALUE);
        var log = new ListenerLog();
        TcpListener listener = listen(group, backend, log, MaxSpawn.of(2));
        assertEquals("listening", Loopback.poll(log.events));
        List<String> firstTwo = List.of(Loopback.poll(log.events), Loopback.poll(log.events));
        assertEquals(List.of("accept " + backend.accepted.get(0), "accept " + backend.accepted.get(1)), firstTwo);
        log.expectBeforeMarker(listener);
        assertEquals(2, backend.acceptCalls.get(), "paused: accept not called at the limit");
        log.connections.getFirst().dispose();
        log.servers.getFirst().expect("started", "closed");
        String third = Loopback.poll(log.events);
        assertEquals("accept " + backend.accepted.get(2), third);
        log.expectBeforeMarker(listener);
        assertEquals(3, backend.acceptCalls.get(), "paused again at the limit");
        assertFalse(backend.accepted.size() > 3);
        // This fake never runs out of connections to accept: stop the listener before the group
        // closes, or a connection closing at shutdown would resume an endless accept loop.
        listener.close();
        assertEquals("closed", Loopback.poll(log.events));
    }
}
