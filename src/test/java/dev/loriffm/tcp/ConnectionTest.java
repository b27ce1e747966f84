package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ports of lori's real-socket tests in {@code _test_connection.pony}: connecting, framing,
 * listening and hard closes from inside {@code onReceived}, on loopback with ephemeral ports.
 * Assertions run on the test thread; callbacks only record (a throw in a callback is caught by the
 * loop), and every test also checks that no callback threw.
 */
@ExtendWith(FdLeakCheck.class)
class ConnectionTest {
    private EventLoopGroup group;

    @BeforeAll
    static void warmUp() throws Exception {
        ConnectionFakes.warmUpJdkSockets();
    }

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    private void assertNoCallbackThrew() throws Exception {
        assertEquals(0, ConnectionFakes.callbackFailures(group), "a callback threw (see the log)");
    }

    /**
     * Port of lori _TestOutgoingFails: connecting to a port nobody listens on reports
     * onConnectionFailure(TCP), never onConnected or onClosed. The port stays bound to a socket that
     * does not listen, so connects to it are refused and nothing else can take it meanwhile.
     */
    @Test
    void connectingToAPortNobodyListensOnFails() throws Exception {
        try (Socket bound = new Socket()) {
            bound.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            var log = new ConnectionFakes.Log();
            TcpConnection c = TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1",
                    bound.getLocalPort(), log);
            log.expect("connecting 1", "failure TCP");
            log.expectBeforeMarker(c.loop());
            String detail = ConnectionFakes.onLoop(c.loop(), c::failureDetail);
            assertTrue(detail.contains("ECONNREFUSED"), detail);
        }
        assertNoCallbackThrew();
    }

    /** Port of lori _TestPingPong: 100 framed pings and pongs, client connecting by host name. */
    @Test
    void pingPongExchangesAHundredFramedMessages() throws Exception {
        PingPong.run(group, "127.0.0.1", IpVersion.IP4, "localhost", IpVersion.DUAL_STACK, 100);
        assertNoCallbackThrew();
    }

    /**
     * Port of lori _TestBasicBufferUntil: 24 bytes sent at once reach a server framing with
     * bufferUntil(4) as exactly six 4-byte messages, in order; the client receives nothing.
     */
    @Test
    void bufferUntilSplitsAStreamIntoFixedSizeMessages() throws Exception {
        var server = new ConnectionFakes.Log() {
            private int received;

            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.bufferUntil(BufferSize.of(4));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                if (++received == 6) {
                    c.close();
                }
            }
        };
        Loopback.Started listening = Loopback.listen(group, socket -> server);
        var client = new ConnectionFakes.Log() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.send("hi there, how are you???");
            }
        };
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", listening.address().getPort(), client);
        server.expect("started", "received hi t", "received here", "received , ho", "received w ar",
                "received e yo", "received u???", "closed");
        client.expect("connecting 1", "connected", "sent 1", "closed");
        assertTrue(client.events.isEmpty(), "the client received nothing: " + client.events);
        assertNoCallbackThrew();
    }

    /** Port of lori _TestCanListen: a listener reports onListening and accepts nothing unasked. */
    @Test
    void listenerReportsListening() throws Exception {
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        TcpListener listener = TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, recordingListener(events),
                IpVersion.IP4, MaxSpawn.DEFAULT);
        assertEquals("listening", Loopback.poll(events));
        listener.close();
        assertEquals("closed", Loopback.poll(events));
        assertTrue(events.isEmpty(), "nothing was accepted: " + events);
    }

    /** Port of lori _TestListenerLocalAddress: a listener on port 0 reports the port the kernel chose. */
    @Test
    void listenerOnPortZeroReportsItsActualPort() throws Exception {
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        AtomicReference<InetSocketAddress> seen = new AtomicReference<>();
        ListenerReceiver recording = recordingListener(events);
        TcpListener listener = TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                seen.set(l.localAddress());
                recording.onListening(l);
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                recording.onListenFailure(l, failure);
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return recording.onAccept(l, socket);
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        assertEquals("listening", Loopback.poll(events));
        InetSocketAddress address = seen.get();
        assertNotNull(address);
        assertTrue(address.getPort() > 0, "port " + address.getPort());
        assertEquals(InetAddress.getByName("127.0.0.1"), address.getAddress());
        assertEquals(address, listener.localAddress());
        // The port is really bound: a plain JDK client connects to it.
        try (Socket probe = new Socket(address.getAddress(), address.getPort())) {
            assertTrue(probe.isConnected());
        }
        listener.close();
    }

    private static ListenerReceiver recordingListener(BlockingQueue<String> events) {
        return new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                events.add("listening");
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                events.add("listen failure " + failure);
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                events.add("accept");
                return null;
            }

            @Override
            public void onClosed(TcpListener l) {
                events.add("closed");
            }
        };
    }

    /**
     * Port of lori _TestHardCloseDuringReceive: mute() + close() inside onReceived is a hard close,
     * and the read loop must stop there instead of reading the closed fd. Here the loop reading a
     * closed fd would surface as an error callback, a second delivery or a callback failure.
     */
    @Test
    void hardCloseFromOnReceivedStopsTheReadLoop() throws Exception {
        AtomicInteger afterClose = new AtomicInteger();
        var server = new ConnectionFakes.Log() {
            private boolean closedInReceive;

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (closedInReceive) {
                    afterClose.incrementAndGet();
                }
                super.onReceived(c, data);
                closedInReceive = true;
                c.mute();
                c.close(); // muted: a hard close
                add("closed in receive " + c.isClosed());
            }
        };
        Loopback.Started listening = Loopback.listen(group, socket -> server);
        var client = new ConnectionFakes.Log() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                add("send " + (c.send("ping") instanceof SendToken));
            }
        };
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", listening.address().getPort(), client);
        server.expect("started", "received ping", "closed", "closed in receive true");
        server.expectBeforeMarker(server.connection.loop());
        client.expect("connecting 1", "connected", "send true", "sent 1", "closed");
        assertEquals(0, afterClose.get());
        assertEquals("", ConnectionFakes.onLoop(server.connection.loop(), server.connection::failureDetail),
                "no read of the closed fd failed");
        assertNoCallbackThrew();
    }

    /**
     * Port of lori _TestHardCloseAfterFramedReceive: two 4-byte frames arrive in one read; a
     * hardClose() in the first frame's onReceived means the second is never delivered. The check
     * runs in a task queued from that callback, so it sees whatever the read loop did afterwards.
     * (Should the frames arrive in two reads, the test passes without exercising the path.)
     */
    @Test
    void hardCloseAfterTheFirstOfTwoBufferedFramesDropsTheSecond() throws Exception {
        List<String> delivered = new CopyOnWriteArrayList<>();
        var server = new ConnectionFakes.Log() {
            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.bufferUntil(BufferSize.of(4));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                delivered.add(Loopback.text(data));
                super.onReceived(c, data);
                if (delivered.size() == 1) {
                    c.hardClose();
                    c.execute(() -> add("delivered after the read loop: " + delivered));
                }
            }
        };
        Loopback.Started listening = Loopback.listen(group, socket -> server);
        var client = new ConnectionFakes.Log() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.send("AAAABBBB");
            }
        };
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", listening.address().getPort(), client);
        server.expect("started", "received AAAA", "closed", "delivered after the read loop: [AAAA]");
        client.expect("connecting 1", "connected", "sent 1", "closed");
        assertNoCallbackThrew();
    }

    /**
     * lori's ping-pong: a client sends "Ping", the server answers every ping with "Pong", both
     * framing with bufferUntil(4), until the client has its {@code pings} pongs. The client sets its
     * framing in onConnecting, before it is connected (lori: callable before connect).
     */
    static final class PingPong {
        private PingPong() { }

        static void run(EventLoopGroup group, String listenHost, IpVersion listenVersion, String clientHost,
                        IpVersion clientVersion, int pings) throws Exception {
            AtomicInteger pingsReceived = new AtomicInteger();
            List<String> wrong = new CopyOnWriteArrayList<>();
            Loopback.Started listening = Loopback.listen(group, listenHost, listenVersion,
                    socket -> new ConnectionFakes.Log() {
                        @Override
                        public void onStarted(TcpConnection c) {
                            c.bufferUntil(BufferSize.of(4));
                        }

                        @Override
                        public void onReceived(TcpConnection c, MemorySegment data) {
                            String ping = Loopback.text(data);
                            if (!ping.equals("Ping")) {
                                wrong.add("server got " + ping);
                            }
                            pingsReceived.incrementAndGet();
                            c.send("Pong");
                        }
                    });
            var client = new ConnectionFakes.Log() {
                private int sent;
                private int pongs;

                @Override
                public void onConnecting(TcpConnection c, int inflight) {
                    c.bufferUntil(BufferSize.of(4));
                }

                @Override
                public void onConnected(TcpConnection c) {
                    add("connected");
                    ping(c);
                }

                private void ping(TcpConnection c) {
                    if (!(c.send("Ping") instanceof SendToken)) {
                        wrong.add("ping " + sent + " refused");
                    }
                    sent++;
                }

                @Override
                public void onReceived(TcpConnection c, MemorySegment data) {
                    String pong = Loopback.text(data);
                    if (!pong.equals("Pong")) {
                        wrong.add("client got " + pong);
                    }
                    if (++pongs < pings) {
                        ping(c);
                    } else {
                        add("pongs " + pongs + " for " + sent + " pings");
                        c.close();
                    }
                }

                @Override
                public void onSent(TcpConnection c, SendToken token) {
                    // Not recorded: only the exchange matters here.
                }
            };
            TcpConnection.client(Loopback.CONNECT, group.next(), clientHost, listening.address().getPort(), client,
                    ClientOptions.DEFAULT.withIpVersion(clientVersion));
            client.expect("connected", "pongs " + pings + " for " + pings + " pings", "closed");
            assertEquals(pings, pingsReceived.get());
            assertEquals(List.of(), wrong);
            listening.listener().close();
        }
    }
}
