package dev.loriffm.tcp;

import dev.loriffm.internal.sys.NativeAccounting;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import dev.loriffm.tls.SslContext;
import dev.loriffm.tls.TestCertificates;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing a group with live connections and listeners: every connection reports closed (or, if it
 * never became ready, its failure), every accepted send completes, and nothing leaks: no file
 * descriptor, no arena, no OpenSSL session.
 */
@ExtendWith(FdLeakCheck.class)
class GroupShutdownTest {

    @BeforeAll
    static void warmUp() throws Exception {
        JdkPeer.warmUp();
        TestCertificates.dir();
    }

    @Test
    void closingTheGroupClosesEveryConnectionAndListener() throws Exception {
        EventLoopGroup group = EventLoopGroup.create(2);
        BlockingQueue<String> serverEvents = new LinkedBlockingQueue<>();
        Loopback.Started server = Loopback.listen(group, socket -> new ServerLifecycleReceiver() {
            @Override
            public void onStarted(TcpConnection c) {
                serverEvents.add("started");
            }

            @Override
            public void onClosed(TcpConnection c) {
                serverEvents.add("closed");
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) {
                serverEvents.add("start failure");
            }
        });
        int clients = 5;
        CountDownLatch connected = new CountDownLatch(clients);
        CountDownLatch closed = new CountDownLatch(clients);
        for (int i = 0; i < clients; i++) {
            TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(),
                    new ClientLifecycleReceiver() {
                        @Override
                        public void onConnected(TcpConnection c) {
                            connected.countDown();
                        }

                        @Override
                        public void onClosed(TcpConnection c) {
                            closed.countDown();
                        }

                        @Override
                        public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                            throw new AssertionError("connection failed: " + reason);
                        }
                    });
        }
        assertTrue(connected.await(Loopback.WAIT_SECONDS, TimeUnit.SECONDS));
        for (int i = 0; i < clients; i++) {
            assertEquals("started", Loopback.poll(serverEvents));
        }
        group.close();
        assertEquals(0, closed.getCount(), "every client reported onClosed before close() returned");
        for (int i = 0; i < clients; i++) {
            assertEquals("closed", Loopback.poll(serverEvents));
        }
        assertEquals("closed", Loopback.poll(server.events()), "the listener reported onClosed");
    }

    /** A per-connection recorder that keeps its whole log and the last token of its flood. */
    static class Tally extends Recorder {
        final String name;
        final List<String> log = Collections.synchronizedList(new ArrayList<>());
        volatile long lastToken;

        Tally(String name) {
            this.name = name;
        }

        @Override
        void record(String event) {
            log.add(event);
            super.record(event);
        }

        @Override
        public String toString() {
            return name;
        }

        /** Floods {@code c} until it refuses, and records {@code "flooded"}. */
        void floodFrom(TcpConnection c) {
            lastToken = flood(c).getLast().id();
            record("flooded");
        }

        /** Checks the whole log: exactly one terminal callback, and one per token 1..lastToken. */
        void assertAccounted(String terminal) {
            List<String> copy = List.copyOf(log);
            List<String> terminals = copy.stream()
                    .filter(e -> e.equals("closed") || e.startsWith("failure") || e.startsWith("start failure"))
                    .toList();
            assertEquals(1, terminals.size(), () -> name + ": one terminal callback: " + copy);
            assertTrue(terminals.getFirst().startsWith(terminal), () -> name + ": " + copy);
            SendBackpressureTest.Outcome.of(copy).assertCleanSplit(lastToken);
        }
    }

    /** Listens on 127.0.0.1:0; {@code wrap} turns each accepted socket into a connection. */
    private static InetSocketAddress listen(EventLoopGroup group, Function<AcceptedSocket, TcpConnection> wrap)
            throws Exception {
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
                return wrap.apply(socket);
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        return Loopback.await(listening);
    }

    /**
     * A group closed while its connections are in every kind of activity, plaintext and TLS:
     * flooding a peer that does not read (data queued), flooding a muted server, muted, idle,
     * still connecting, mid-handshake, and a server connection flooding a client that does not
     * read. After {@code close()} returns, each connection has reported exactly one terminal
     * callback ({@code onClosed}, or {@code onConnectionFailure} for those never connected), each
     * accepted send exactly one of {@code onSent}/{@code onSendFailed}, and the runtime holds no
     * arena and no OpenSSL session more than before the group existed ({@link FdLeakCheck}
     * checks the descriptors).
     */
    @Test
    void closingTheGroupMidActivityReportsEveryConnectionAndReleasesEverything() throws Exception {
        long arenasBefore = NativeAccounting.liveArenas();
        long sessionsBefore = NativeAccounting.liveSslSessions();
        SslContext serverContext = SslContext.server()
                .certificateChain(TestCertificates.serverCertificate(), TestCertificates.serverKey())
                .buildOrThrow();
        SslContext clientContext = SslContext.client().trustedCertificates(TestCertificates.caCertificate())
                .buildOrThrow();
        EventLoopGroup group = EventLoopGroup.create(2);
        BlockingQueue<Tally> accepted = new LinkedBlockingQueue<>();
        List<Tally> clients = new ArrayList<>();
        try (JdkPeer.Server nonReader = JdkPeer.listen(JdkPeer.TINY_RCVBUF);
             JdkPeer.Server tlsBlackHole = JdkPeer.listen(JdkPeer.TINY_RCVBUF);
             SilentPeer silent = SilentPeer.open()) {
            InetSocketAddress muting = listen(group, socket -> {
                Tally t = new Tally("plain server, muted") {
                    @Override
                    public void onStarted(TcpConnection c) {
                        super.onStarted(c);
                        c.mute();
                    }
                };
                accepted.add(t);
                return TcpConnection.server(Loopback.SERVE, socket, t);
            });
            InetSocketAddress flooding = listen(group, socket -> {
                Tally t = new Tally("plain server flooding a client that does not read") {
                    @Override
                    public void onStarted(TcpConnection c) {
                        super.onStarted(c);
                        c.mute();
                        floodFrom(c);
                    }
                };
                accepted.add(t);
                return TcpConnection.server(Loopback.SERVE, socket, t);
            });
            InetSocketAddress tlsMuting = listen(group, socket -> {
                Tally t = new Tally("tls server, muted") {
                    @Override
                    public void onStarted(TcpConnection c) {
                        super.onStarted(c);
                        c.mute();
                    }
                };
                accepted.add(t);
                return TcpConnection.sslServer(Loopback.SERVE, socket, serverContext, t);
            });

            Tally floodsNonReader = flooder("plain client flooding a peer that does not read");
            Tally floodsMutedServer = flooder("plain client flooding a muted server");
            Tally muted = new Tally("plain client, muted") {
                @Override
                public void onConnected(TcpConnection c) {
                    super.onConnected(c);
                    c.mute();
                }
            };
            Tally connecting = new Tally("plain client still connecting");
            Tally tlsIdle = new Tally("tls client, idle");
            Tally tlsFlooding = flooder("tls client flooding a muted server");
            Tally tlsHandshaking = new Tally("tls client mid-handshake");
            clients.addAll(List.of(floodsNonReader, floodsMutedServer, muted, connecting, tlsIdle, tlsFlooding,
                    tlsHandshaking));

            TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", nonReader.address().getPort(),
                    floodsNonReader);
            TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", muting.getPort(), floodsMutedServer);
            TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", muting.getPort(), muted);
            TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", silent.port(), connecting);
            TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", tlsMuting.getPort(),
                    clientContext, tlsIdle);
            TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", tlsMuting.getPort(),
                    clientContext, tlsFlooding);
            TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", tlsBlackHole.address().getPort(),
                    clientContext, tlsHandshaking);
            try (JdkPeer _ = nonReader.accept(); // never reads: the client stays throttled
                 JdkPeer handshakePeer = tlsBlackHole.accept();
                 JdkPeer _ = JdkPeer.connect(flooding, JdkPeer.TINY_RCVBUF)) { // never reads either
                floodsNonReader.until("flooded");
                floodsMutedServer.until("flooded");
                muted.until("connected");
                assertEquals("connecting 1", connecting.next());
                tlsIdle.until("connected");
                tlsFlooding.until("flooded");
                assertEquals("connecting 1", tlsHandshaking.next());
                handshakePeer.readExactly(1); // the ClientHello is out: the client is handshaking
                List<Tally> servers = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    Tally server = Loopback.poll(accepted);
                    servers.add(server);
                    server.until(server.name.contains("flooding") ? "flooded" : "started");
                }
                Tally floodingServer = servers.stream().filter(t -> t.name.contains("flooding")).findFirst().orElseThrow();

                group.close();

                for (Tally client : clients) {
                    client.assertAccounted(client == connecting || client == tlsHandshaking ? "failure" : "closed");
                }
                assertTrue(accepted.isEmpty(), "no other connection was accepted");
                for (Tally server : servers) {
                    server.assertAccounted("closed");
                }
                for (Tally flooder : List.of(floodsNonReader, floodsMutedServer, tlsFlooding, floodingServer)) {
                    assertTrue(SendBackpressureTest.Outcome.of(List.copyOf(flooder.log)).failed().size() > 0,
                            () -> flooder.name + " had data queued, which must fail: " + flooder.log);
                }
            }
        } finally {
            group.close();
            serverContext.close();
            clientContext.close();
        }
        assertEquals(arenasBefore, NativeAccounting.liveArenas(), "every arena the runtime opened is closed");
        assertEquals(sessionsBefore, NativeAccounting.liveSslSessions(), "every OpenSSL session is freed");
    }

    private static Tally flooder(String name) {
        return new Tally(name) {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                floodFrom(c);
            }
        };
    }
}
