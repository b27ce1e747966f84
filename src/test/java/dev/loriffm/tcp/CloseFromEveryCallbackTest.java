package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import dev.loriffm.tls.SslContext;
import dev.loriffm.tls.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code close()} and {@code hardClose()} called from every callback, in every state a callback
 * can run in, on client and server connections, plaintext and TLS: nothing throws, the connection
 * reports exactly one terminal callback (lori's matrix: {@code onConnectionFailure} for a client
 * closed while connecting, {@code onClosed} for anything that was ready, nothing more from
 * {@code onClosed} or {@code onSendFailed}, where both calls are no-ops), no callback but
 * {@code onSendFailed} follows it, every accepted send gets exactly one of
 * {@code onSent}/{@code onSendFailed}, and no descriptor leaks.
 *
 * <p>The states covered: connecting ({@code onConnecting}), open (ready, received, sent,
 * throttled, unthrottled, idle timeout, timer), TLS upgrading's end ({@code onTlsReady}), closing
 * (a timer that fires after {@code close()} while the peer has not answered the FIN), and closed
 * ({@code onClosed}, {@code onSendFailed}).
 */
@ExtendWith(FdLeakCheck.class)
class CloseFromEveryCallbackTest {
    /** Where the subject connection closes itself. */
    enum Callback {
        CONNECTING, READY, RECEIVED, SENT, THROTTLED, UNTHROTTLED, IDLE_TIMEOUT, TIMER, TIMER_WHILE_CLOSING,
        TLS_READY, CLOSED, SEND_FAILED
    }

    enum Action { CLOSE, HARD_CLOSE }

    enum Side { CLIENT, SERVER }

    enum Transport { PLAIN, TLS }

    private static SslContext serverContext;
    private static SslContext clientContext;
    private EventLoopGroup group;

    @BeforeAll
    static void contexts() throws Exception {
        JdkPeer.warmUp();
        serverContext = SslContext.server()
                .certificateChain(TestCertificates.serverCertificate(), TestCertificates.serverKey())
                .buildOrThrow();
        clientContext = SslContext.client().trustedCertificates(TestCertificates.caCertificate()).buildOrThrow();
    }

    @AfterAll
    static void closeContexts() {
        serverContext.close();
        clientContext.close();
    }

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Callback callback : Callback.values()) {
            for (Side side : Side.values()) {
                for (Transport transport : Transport.values()) {
                    if (callback == Callback.CONNECTING && side == Side.SERVER
                            || callback == Callback.TLS_READY && transport == Transport.TLS) {
                        continue; // servers do not connect; startTls is for plaintext connections
                    }
                    for (Action action : Action.values()) {
                        cases.add(Arguments.of(callback, action, side, transport));
                    }
                }
            }
        }
        return cases.stream();
    }

    /** Both ends' receiver: the subject closes itself at its callback; the peer sets the scene. */
    final class End extends Recorder {
        final boolean subject;
        final Callback callback;
        final Action action;
        final boolean client;
        final List<String> log = Collections.synchronizedList(new ArrayList<>());
        volatile TcpConnection connection;
        private boolean acted;
        private long lastToken;

        End(boolean subject, Callback callback, Action action, boolean client) {
            this.subject = subject;
            this.callback = callback;
            this.action = action;
            this.client = client;
        }

        @Override
        void record(String event) {
            log.add(event);
            super.record(event);
        }

        private void act(TcpConnection c, Callback where) {
            if (!subject || where != callback || acted) {
                return;
            }
            acted = true;
            try {
                if (action == Action.CLOSE) {
                    c.close();
                } else {
                    c.hardClose();
                }
                record("acted");
            } catch (Throwable t) {
                record("threw " + t);
            }
        }

        private void track(SendResult result) {
            if (result instanceof SendToken token) {
                lastToken = token.id();
            }
        }

        private void ready(TcpConnection c) {
            if (!subject) {
                switch (callback) {
                    case RECEIVED -> c.send("ping");
                    case THROTTLED, UNTHROTTLED, SEND_FAILED, TIMER_WHILE_CLOSING -> c.mute();
                    case CLOSED -> c.close();
                    case TLS_READY -> c.startTls(client ? clientContext : serverContext, "localhost");
                    default -> { }
                }
                return;
            }
            act(c, Callback.READY);
            switch (callback) {
                case SENT -> track(c.send("x"));
                case THROTTLED, UNTHROTTLED, SEND_FAILED -> {
                    lastToken = flood(c).getLast().id();
                    record("flooded");
                }
                case IDLE_TIMEOUT -> c.idleTimeout(new IdleTimeout(20));
                case TIMER -> c.setTimer(new TimerDuration(1));
                case TLS_READY -> c.startTls(client ? clientContext : serverContext, "localhost");
                default -> { }
            }
        }

        @Override
        public void onConnecting(TcpConnection c, int inflight) {
            super.onConnecting(c, inflight);
            act(c, Callback.CONNECTING);
        }

        @Override
        public void onConnected(TcpConnection c) {
            connection = c; // before the record: the test thread acts on it once it sees the event
            super.onConnected(c);
            ready(c);
        }

        @Override
        public void onStarted(TcpConnection c) {
            connection = c;
            super.onStarted(c);
            ready(c);
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            super.onReceived(c, data);
            act(c, Callback.RECEIVED);
        }

        @Override
        public void onSent(TcpConnection c, SendToken token) {
            super.onSent(c, token);
            act(c, Callback.SENT);
        }

        @Override
        public void onThrottled(TcpConnection c) {
            super.onThrottled(c);
            act(c, Callback.THROTTLED);
            if (subject && callback == Callback.SEND_FAILED) {
                c.hardClose(); // queued data: its tokens get onSendFailed
            }
        }

        @Override
        public void onUnthrottled(TcpConnection c) {
            super.onUnthrottled(c);
            act(c, Callback.UNTHROTTLED);
        }

        @Override
        public void onIdleTimeout(TcpConnection c) {
            record("idle");
            act(c, Callback.IDLE_TIMEOUT);
        }

        @Override
        public void onTimer(TcpConnection c, TimerToken token) {
            record("timer, closed " + c.isClosed());
            act(c, callback == Callback.TIMER_WHILE_CLOSING ? Callback.TIMER_WHILE_CLOSING : Callback.TIMER);
        }

        @Override
        public void onTlsReady(TcpConnection c) {
            record("tls ready");
            act(c, Callback.TLS_READY);
        }

        @Override
        public void onTlsFailure(TcpConnection c, TlsFailure reason) {
            record("tls failure " + reason);
        }

        @Override
        public void onClosed(TcpConnection c) {
            super.onClosed(c);
            act(c, Callback.CLOSED);
        }

        @Override
        public void onSendFailed(TcpConnection c, SendToken token) {
            super.onSendFailed(c, token);
            act(c, Callback.SEND_FAILED);
        }

        boolean terminal(String e) {
            return e.equals("closed") || e.startsWith("failure") || e.startsWith("start failure");
        }
    }

    @ParameterizedTest(name = "{2} {3}: {1} from {0}")
    @MethodSource("cases")
    void closingFromACallbackEndsTheConnectionOnce(Callback callback, Action action, Side side, Transport transport)
            throws Exception {
        boolean tls = transport == Transport.TLS;
        End subject = new End(true, callback, action, side == Side.CLIENT);
        End peer = new End(false, callback, action, side == Side.SERVER);
        End server = side == Side.SERVER ? subject : peer;
        End client = side == Side.CLIENT ? subject : peer;
        int port = tls ? listenTls(server) : Loopback.listen(group, socket -> server).address().getPort();
        if (tls) {
            TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", port, clientContext, client);
        } else {
            TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, client);
        }
        if (callback == Callback.TIMER_WHILE_CLOSING) {
            // Once the peer is muted (in its ready callback) it does not see our FIN, so we stay
            // closing until the test unmutes it, and the timer fires in that state.
            awaitLog(subject, log -> log.stream().anyMatch(CloseFromEveryCallbackTest::isReady));
            awaitLog(peer, log -> log.stream().anyMatch(CloseFromEveryCallbackTest::isReady));
            TcpConnection c = subject.connection;
            c.execute(() -> {
                c.setTimer(new TimerDuration(20));
                c.close();
            });
        }
        if (callback == Callback.UNTHROTTLED) {
            awaitLog(subject, log -> log.contains("throttled"));
            awaitLog(peer, log -> log.stream().anyMatch(e -> isReady(e) || peer.terminal(e)));
            peer.connection.execute(peer.connection::unmute);
        }
        awaitLog(subject, log -> log.stream().anyMatch(e -> e.equals("acted") || e.startsWith("threw")));
        if (callback != Callback.CONNECTING) {
            // Let a muted peer read what is queued and the FIN, so a graceful close can complete.
            awaitLog(peer, log -> log.stream().anyMatch(e -> isReady(e) || peer.terminal(e)));
            TcpConnection p = peer.connection;
            if (p != null) {
                p.execute(() -> {
                    if (!p.isClosed()) {
                        p.unmute();
                    }
                });
            }
        }
        awaitLog(subject, log -> log.stream().anyMatch(subject::terminal));
        if (subject.lastToken > 0) {
            Recorder.settle(subject.connection, () -> { }); // onSendFailed comes one turn later
        }
        String expected = callback == Callback.CONNECTING ? "failure TCP" : "closed";

        group.close();

        List<String> log = List.copyOf(subject.log);
        assertTrue(log.stream().noneMatch(e -> e.startsWith("threw")), () -> "an exception escaped: " + log);
        List<String> terminals = log.stream().filter(subject::terminal).toList();
        assertEquals(1, terminals.size(), () -> "one terminal callback: " + log);
        assertTrue(terminals.getFirst().startsWith(expected), () -> log.toString());
        List<String> after = log.subList(log.indexOf(terminals.getFirst()) + 1, log.size());
        assertTrue(after.stream().allMatch(e -> e.startsWith("send failed") || e.equals("acted")),
                () -> "only onSendFailed may follow the terminal callback: " + log);
        SendBackpressureTest.Outcome.of(log).assertCleanSplit(subject.lastToken);
        if (callback == Callback.TIMER_WHILE_CLOSING) {
            assertTrue(log.contains("timer, closed true"), () -> "the timer fired while closing: " + log);
        }
        List<String> peerLog = List.copyOf(peer.log);
        long peerTerminals = peerLog.stream().filter(peer::terminal).count();
        boolean peerReady = peerLog.stream().anyMatch(CloseFromEveryCallbackTest::isReady);
        assertTrue(peerReady ? peerTerminals == 1 : peerTerminals <= 1, () -> "peer: " + peerLog);
    }

    private static boolean isReady(String event) {
        return event.equals("connected") || event.equals("started");
    }

    /** Takes {@code end}'s events until its whole log satisfies {@code condition}. */
    private static void awaitLog(End end, Predicate<List<String>> condition) throws InterruptedException {
        while (!condition.test(List.copyOf(end.log))) {
            end.next();
        }
    }

    private int listenTls(End server) throws Exception {
        CompletableFuture<Integer> port = new CompletableFuture<>();
        TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                port.complete(l.localAddress().getPort());
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                port.completeExceptionally(new AssertionError("listen failed: " + failure));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return TcpConnection.sslServer(Loopback.SERVE, socket, serverContext, server);
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        return Loopback.await(port);
    }
}
