package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Listener behaviour on real loopback sockets and, for accept errors, on the fake backend. */
@ExtendWith(FdLeakCheck.class)
class ListenerTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** A client receiver that records its life in a queue. */
    static ClientLifecycleReceiver recorder(BlockingQueue<String> events) {
        return new ClientLifecycleReceiver() {
            @Override
            public void onConnected(TcpConnection c) {
                events.add("connected");
            }

            @Override
            public void onClosed(TcpConnection c) {
                events.add("closed");
            }

            @Override
            public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                events.add("failure " + reason);
            }
        };
    }

    /** A dual-stack listener on every interface accepts IPv4 and IPv6 clients. */
    @Test
    void dualStackListenerAcceptsIpv4AndIpv6Clients() throws Exception {
        Loopback.Started server = Loopback.listen(group, "", IpVersion.DUAL_STACK, socket -> Loopback.echo());
        int port = server.address().getPort();
        assertTrue(port > 0);
        for (String host : new String[] {"127.0.0.1", "::1"}) {
            BlockingQueue<String> events = new LinkedBlockingQueue<>();
            TcpConnection.client(Loopback.CONNECT, group.next(), host, port, recorder(events));
            assertEquals("connected", Loopback.poll(events), "client over " + host);
        }
    }

    /** Binding a port another listener holds fails at the bind stage with EADDRINUSE. */
    @Test
    void bindingABusyPortReportsTheBindFailure() throws Exception {
        Loopback.Started first = Loopback.listen(group, socket -> Loopback.echo());
        CompletableFuture<ListenFailure> failure = new CompletableFuture<>();
        TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", first.address().getPort(), new ListenerReceiver() {
            @Override
            public void onListenFailure(TcpListener l, ListenFailure f) {
                failure.complete(f);
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                throw new AssertionError("must not accept");
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        ListenFailure f = Loopback.await(failure);
        assertEquals("bind", f.stage());
        assertTrue(f.message().contains("EADDRINUSE"), f.message());
    }

    /** A host that does not resolve fails at the resolve stage with the resolver's text. */
    @Test
    void unresolvableHostReportsTheResolveFailure() throws Exception {
        CompletableFuture<ListenFailure> failure = new CompletableFuture<>();
        // A 64-character label cannot be encoded as a DNS query, so the resolver fails at once
        // without sending anything off this machine.
        TcpListener.create(Loopback.LISTEN, group, "x".repeat(64) + ".invalid", 0, new ListenerReceiver() {
            @Override
            public void onListenFailure(TcpListener l, ListenFailure f) {
                failure.complete(f);
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                throw new AssertionError("must not accept");
            }
        }, IpVersion.DUAL_STACK, MaxSpawn.DEFAULT);
        ListenFailure f = Loopback.await(failure);
        assertEquals("resolve", f.stage());
        assertTrue(f.message().contains("EAI_"), f.message());
    }

    /** Port of lori notifier/RejectConnection: a rejected socket is closed and the listener goes on. */
    @Test
    void rejectedConnectionsAreClosedAndTheListenerKeepsAccepting() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        Loopback.Started server = Loopback.listen(group, socket -> Loopback.echo());
        server.listener().close();
        assertEquals("closed", Loopback.poll(server.events()));
        CompletableFuture<InetSocketAddress> listening = new CompletableFuture<>();
        TcpListener rejecting = TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l.localAddress());
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure f) {
                listening.completeExceptionally(new AssertionError(f.toString()));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                if (accepted.getAndIncrement() == 0) {
                    return null; // reject the first
                }
                return TcpConnection.server(Loopback.SERVE, socket, Loopback.echo());
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        int port = Loopback.await(listening).getPort();
        BlockingQueue<String> first = new LinkedBlockingQueue<>();
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, recorder(first));
        assertEquals("connected", Loopback.poll(first));
        assertEquals("closed", Loopback.poll(first), "the rejected connection is closed by the listener");
        BlockingQueue<String> second = new LinkedBlockingQueue<>();
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, recorder(second));
        assertEquals("connected", Loopback.poll(second));
        rejecting.close();
    }

    /** Accepted connections are spread over the group's loops. */
    @Test
    void acceptedConnectionsSpreadOverTheLoops() throws Exception {
        Set<String> loops = ConcurrentHashMap.newKeySet();
        BlockingQueue<String> started = new LinkedBlockingQueue<>();
        Loopback.Started server = Loopback.listen(group, socket -> new ServerLifecycleReceiver() {
            @Override
            public void onStarted(TcpConnection c) {
                loops.add(Thread.currentThread().getName());
                started.add("started");
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) {
            }
        });
        for (int i = 0; i < 4; i++) {
            TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(),
                    recorder(new LinkedBlockingQueue<>()));
        }
        for (int i = 0; i < 4; i++) {
            Loopback.poll(started);
        }
        assertEquals(2, loops.size(), "server connections ran on " + loops);
    }

    /** With MaxSpawn 1 the second connection is accepted only once the first closes. */
    @Test
    void connectionLimitPausesAndResumesAccepting() throws Exception {
        BlockingQueue<TcpConnection> started = new LinkedBlockingQueue<>();
        CompletableFuture<TcpListener> listening = new CompletableFuture<>();
        TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l);
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure f) {
                listening.completeExceptionally(new AssertionError(f.toString()));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return TcpConnection.server(Loopback.SERVE, socket, new ServerLifecycleReceiver() {
                    @Override
                    public void onStarted(TcpConnection c) {
                        started.add(c);
                    }

                    @Override
                    public void onStartFailure(TcpConnection c, StartFailure reason) {
                    }
                });
            }
        }, IpVersion.IP4, MaxSpawn.of(1));
        TcpListener listener = Loopback.await(listening);
        int port = listener.localAddress().getPort();
        BlockingQueue<String> a = new LinkedBlockingQueue<>();
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, recorder(a));
        TcpConnection firstServer = Loopback.poll(started);
        BlockingQueue<String> b = new LinkedBlockingQueue<>();
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, recorder(b));
        assertEquals("connected", Loopback.poll(a));
        assertEquals("connected", Loopback.poll(b), "the kernel completes the handshake in the backlog");
        CompletableFuture<Long> open = new CompletableFuture<>();
        listener.loop().execute(() -> open.complete(listener.openConnections()));
        assertEquals(1L, Loopback.await(open), "the second connection waits in the backlog");
        assertTrue(started.isEmpty());
        firstServer.execute(firstServer::hardClose);
        assertEquals("closed", Loopback.poll(a));
        TcpConnection secondServer = Loopback.poll(started);
        assertTrue(secondServer != firstServer);
        listener.close();
    }

    /** SO_REUSEPORT lets two listeners share a port; the other listener options are accepted by the kernel. */
    @Test
    void listenerSocketOptions() throws Exception {
        ListenerOptions options = ListenerOptions.DEFAULT.withIpVersion(IpVersion.IP4).withReusePort(true)
                .withBacklog(64).withDeferAccept(5).withFastOpen(16);
        CompletableFuture<InetSocketAddress> first = new CompletableFuture<>();
        TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, listening(first), options);
        int port = Loopback.await(first).getPort();
        CompletableFuture<InetSocketAddress> second = new CompletableFuture<>();
        TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", port, listening(second), options);
        assertEquals(port, Loopback.await(second).getPort(), "both listeners bound the port");
        // With TCP_DEFER_ACCEPT the server sees the connection once data arrived: echo proves both work.
        BlockingQueue<String> echoed = new LinkedBlockingQueue<>();
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, new ClientLifecycleReceiver() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send("deferred");
            }

            @Override
            public void onReceived(TcpConnection c, java.lang.foreign.MemorySegment data) {
                echoed.add(Loopback.text(data));
            }

            @Override
            public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                echoed.add("failure " + reason);
            }
        });
        assertEquals("deferred", Loopback.poll(echoed));
    }

    private static ListenerReceiver listening(CompletableFuture<InetSocketAddress> address) {
        return new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                address.complete(l.localAddress());
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure f) {
                address.completeExceptionally(new AssertionError(f.toString()));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return TcpConnection.server(Loopback.SERVE, socket, Loopback.echo());
            }
        };
    }

    /** lori#206: a persistent accept error (EMFILE) must not make the listener spin; it retries later. */
    @Test
    void persistentAcceptErrorsDoNotSpin() throws Exception {
        AtomicInteger accepts = new AtomicInteger();
        AtomicInteger emfileLeft = new AtomicInteger(3);
        CompletableFuture<Void> recovered = new CompletableFuture<>();
        FakeBackend fake = new FakeBackend() {
            @Override
            public int accept(Reactor loop, int listenFd) {
                accepts.incrementAndGet();
                if (emfileLeft.getAndDecrement() > 0) {
                    return -Errno.EMFILE;
                }
                recovered.complete(null);
                return -Errno.EAGAIN;
            }
        };
        CompletableFuture<TcpListener> listening = new CompletableFuture<>();
        TcpListener.create(fake, Loopback.LISTEN, group, "", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l);
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure f) {
                listening.completeExceptionally(new AssertionError(f.toString()));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                throw new AssertionError("nothing to accept");
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        Loopback.await(listening);
        Loopback.await(recovered);
        // One failed accept per back-off, then the successful EAGAIN: no busy loop on EMFILE.
        assertEquals(4, accepts.get());
    }
}
