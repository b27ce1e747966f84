package dev.loriffm.tcp;

import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS connections made by {@code sslClient}/{@code sslServer} on loopback (lori's
 * {@code _test_ssl.pony}): data over TLS, handshake failures on either side, the handshaking state,
 * and closing from inside the callbacks the TLS read path calls. lori's contexts turn verification
 * off; ours verify the server against the test CA, which the handshakes here satisfy.
 */
@ExtendWith(FdLeakCheck.class)
class SslTest extends TlsFixture {


    /** A {@link Recorder} that also frames received data at {@code frame} bytes from the start (0: streaming). */
    static class Framed extends Recorder {
        private final int frame;

        Framed(int frame) {
            this.frame = frame;
        }

        @Override
        public void onConnected(TcpConnection c) {
            frame(c);
            super.onConnected(c);
        }

        @Override
        public void onStarted(TcpConnection c) {
            frame(c);
            super.onStarted(c);
        }

        private void frame(TcpConnection c) {
            if (frame > 0) {
                c.bufferUntil(BufferSize.of(frame));
            }
        }
    }

    /** A listener on 127.0.0.1:0 whose accepted sockets become TLS servers; they are offered to {@code accepted}. */
    private Loopback.Started listenTls(Function<AcceptedSocket, ServerLifecycleReceiver> receivers,
                                       BlockingQueue<TcpConnection> accepted) throws Exception {
        CompletableFuture<InetSocketAddress> listening = new CompletableFuture<>();
        TcpListener listener = TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
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
                TcpConnection c = TcpConnection.sslServer(Loopback.SERVE, socket, serverContext,
                        receivers.apply(socket));
                accepted.add(c);
                return c;
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        return new Loopback.Started(listener, Loopback.await(listening), new LinkedBlockingQueue<>());
    }

    private Loopback.Started listenTls(ServerLifecycleReceiver server) throws Exception {
        return listenTls(socket -> server, new LinkedBlockingQueue<>());
    }

    private TcpConnection sslConnect(Loopback.Started server, ClientLifecycleReceiver client) {
        return TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.address().getPort(),
                clientContext, client);
    }

    /** Asserts that {@code recorder} heard nothing more from {@code c} once its loop has settled. */
    private static void assertNothingMore(TcpConnection c, Recorder recorder) throws Exception {
        Recorder.settle(c, () -> { });
        assertTrue(recorder.events.isEmpty(), () -> "unexpected " + recorder.events);
    }

    /** Port of lori _TestSSLPingPong: 100 framed pings and pongs round-trip over TLS. */
    @Test
    void pingPongOverTls() throws Exception {
        int pings = 100;
        Recorder serverSide = new Framed(4) {
            private int received;

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                String text = Loopback.text(data);
                if (!text.equals("Ping")) {
                    record("server got " + text);
                }
                received++;
                c.send("Pong");
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                // Not recorded: 100 of them.
            }

            @Override
            public void onClosed(TcpConnection c) {
                record("closed after " + received + " pings");
            }
        };
        Loopback.Started server = listenTls(serverSide);
        Recorder client = new Framed(4) {
            private int sent;
            private int pongs;

            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                ping(c);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                String text = Loopback.text(data);
                if (!text.equals("Pong")) {
                    record("client got " + text);
                }
                pongs++;
                if (sent < pings) {
                    ping(c);
                } else {
                    record("pongs " + pongs);
                    c.close();
                }
            }

            private void ping(TcpConnection c) {
                if (!(c.send("Ping") instanceof SendToken)) {
                    record("ping refused");
                }
                sent++;
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                // Not recorded: 100 of them.
            }
        };
        sslConnect(server, client);
        assertEquals(List.of("connecting 1"), client.until("connected"));
        assertEquals("pongs " + pings, client.next());
        assertEquals("closed", client.next());
        assertEquals("started", serverSide.next());
        assertEquals("closed after " + pings + " pings", serverSide.next());
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }

    /**
     * Port of lori _TestSSLSendv: several buffers sent in one call over TLS arrive as one stream,
     * under the one token that {@code onSent} then reports.
     */
    @Test
    void multiBufferSendOverTlsArrivesWholeUnderOneToken() throws Exception {
        Recorder serverSide = new Framed(15) {
            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                c.close();
            }
        };
        Loopback.Started server = listenTls(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("send returned " + c.send(List.of("SSL ", "Hello", " World")));
            }
        };
        sslConnect(server, client);
        assertEquals(List.of("connecting 1"), client.until("send returned SendToken[id=1]"));
        assertEquals("sent 1", client.next());
        assertEquals("closed", client.next(), "the server's close_notify closes us gracefully");
        assertEquals(List.of("started", "received SSL Hello World"), serverSide.until("closed"));
    }

    /**
     * A gathered send of a thousand 1-byte buffers is encrypted as one stream, not as a record per
     * buffer: the server (streaming; a TLS read delivers at most a record) gets the thousand bytes
     * in order in a few messages. Written one by one they were a thousand records, each 22+ bytes
     * of overhead on the wire and a decryption and a callback at the peer.
     */
    @Test
    void gatheredTinyBuffersOverTlsAreCoalescedIntoFewRecords() throws Exception {
        int parts = 1000;
        StringBuilder expected = new StringBuilder();
        java.util.ArrayList<String> buffers = new java.util.ArrayList<>();
        for (int i = 0; i < parts; i++) {
            String one = String.valueOf((char) ('a' + i % 26));
            buffers.add(one);
            expected.append(one);
        }
        CompletableFuture<String> whole = new CompletableFuture<>();
        int[] messages = new int[1];
        StringBuilder got = new StringBuilder();
        Recorder serverSide = new Recorder() {
            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                messages[0]++;
                got.append(Loopback.text(data));
                if (got.length() >= parts) {
                    whole.complete(got + " in " + messages[0] + " messages");
                    c.close();
                }
            }
        };
        Loopback.Started server = listenTls(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("send returned " + c.send(buffers));
            }
        };
        sslConnect(server, client);
        assertEquals(List.of("connecting 1"), client.until("send returned SendToken[id=1]"));
        String result = Loopback.await(whole);
        assertTrue(result.startsWith(expected + " in "), result);
        assertTrue(messages[0] <= 4, "a thousand buffers became " + messages[0] + " TLS records");
        assertEquals("sent 1", client.next());
        assertEquals("closed", client.next());
    }

    /**
     * Raising the read buffer above the loop's shared receive area from inside {@code onReceived},
     * in the middle of a read turn that borrowed the area, moves the buffer to memory of its own:
     * the stream arrives intact and nothing throws on the loop. (The swarm found this: the next
     * record was decrypted into a view of the 64 KiB area as large as the new buffer, which threw
     * out of the I/O handler.)
     */
    @Test
    void growingTheReadBufferPastTheReceiveAreaMidTurnKeepsTheStream() throws Exception {
        int total = 300_000;
        byte[] payload = new byte[total];
        for (int i = 0; i < total; i++) {
            payload[i] = (byte) (i * 31 + 7);
        }
        CompletableFuture<byte[]> whole = new CompletableFuture<>();
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        Recorder serverSide = new Recorder() {
            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (got.size() == 0) {
                    record("minimum " + c.setReadBufferMinimum(ReadBufferSize.of(100_000)));
                }
                got.writeBytes(data.toArray(ValueLayout.JAVA_BYTE));
                if (got.size() >= total) {
                    whole.complete(got.toByteArray());
                    c.close();
                }
            }
        };
        Loopback.Started server = listenTls(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("send returned " + c.send(payload));
            }
        };
        sslConnect(server, client);
        assertEquals(List.of("connecting 1"), client.until("send returned SendToken[id=1]"));
        org.junit.jupiter.api.Assertions.assertArrayEquals(payload, Loopback.await(whole));
        assertEquals(List.of("started", "minimum RESIZED"), serverSide.until("closed"));
        assertEquals(0, ConnectionFakes.callbackFailures(group), "exceptions reached the loop");
    }

    /**
     * Port of lori _TestSSLLargePayload: 100,000 bytes in one send cross several TLS records and
     * 16 KiB reads, none aligned with the server's 1000-byte frames; every frame arrives whole, in
     * order (frame n holds the byte n % 256). The server uses the default 16 KiB read buffer.
     */
    @Test
    void largePayloadArrivesAsWholeFramesInOrder() throws Exception {
        int frames = 100;
        int frameSize = 1000;
        Recorder serverSide = new Framed(frameSize) {
            private int frame;

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                byte[] bytes = data.toArray(ValueLayout.JAVA_BYTE);
                if (bytes.length != frameSize) {
                    record("frame " + frame + " has " + bytes.length + " bytes");
                }
                for (byte b : bytes) {
                    if (b != (byte) frame) {
                        record("frame " + frame + " holds byte " + b);
                        break;
                    }
                }
                frame++;
                if (frame == frames) {
                    record("frames " + frame);
                }
            }
        };
        Loopback.Started server = listenTls(socket -> serverSide, new LinkedBlockingQueue<>());
        byte[] payload = new byte[frames * frameSize];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i / frameSize);
        }
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("send returned " + c.send(payload));
            }
        };
        sslConnect(server, client);
        assertEquals(List.of("connecting 1"), client.until("send returned SendToken[id=1]"));
        assertEquals("sent 1", client.next());
        assertEquals("started", serverSide.next());
        assertEquals("frames " + frames, serverSide.next());
    }

    /**
     * Port of lori _TestSSLHandshakeFailureClient: a TLS client whose peer answers with plaintext
     * garbage gets {@code onConnectionFailure(SSL)}, never {@code onConnected} or {@code onClosed}.
     */
    @Test
    void clientHandshakeAgainstGarbageFailsWithSsl() throws Exception {
        Loopback.Started plain = Loopback.listen(group, socket -> new Recorder() {
            @Override
            public void onStarted(TcpConnection c) {
                c.send("XXXXXXXXXX");
                c.close();
            }
        });
        Recorder client = new Recorder();
        TcpConnection connection = sslConnect(plain, client);
        assertEquals("connecting 1", client.next());
        String failure = client.next();
        assertTrue(failure.startsWith("failure SSL"), failure);
        assertNothingMore(connection, client);
    }

    /**
     * Port of lori _TestSSLHandshakeFailureServer: a TLS server whose peer sends plaintext garbage
     * gets {@code onStartFailure(SSL)}, never {@code onStarted} or {@code onClosed}.
     */
    @Test
    void serverHandshakeAgainstGarbageFailsWithSsl() throws Exception {
        Recorder serverSide = new Recorder();
        BlockingQueue<TcpConnection> accepted = new LinkedBlockingQueue<>();
        Loopback.Started server = listenTls(socket -> serverSide, accepted);
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(),
                new Recorder() {
                    @Override
                    public void onConnected(TcpConnection c) {
                        c.send("XXXXXXXXXX");
                        c.close();
                    }
                });
        assertEquals("start failure SSL", serverSide.next());
        assertNothingMore(Loopback.poll(accepted), serverSide);
    }

    /**
     * Port of lori _TestSSLHandshakeCompleteTransitionsToOpen: once the handshake completes the
     * connection is open and accepts sends.
     */
    @Test
    void completedHandshakeLeavesTheConnectionOpenForSends() throws Exception {
        Loopback.Started server = listenTls(new Recorder());
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("open " + c.isOpen() + ", writeable " + c.isWriteable() + ", "
                        + c.tlsInfo().protocol());
                record("send returned " + c.send("test"));
                c.close();
            }
        };
        sslConnect(server, client);
        assertEquals(List.of("connecting 1"), client.until("open true, writeable true, TLSv1.3"));
        assertEquals("send returned SendToken[id=1]", client.next());
        assertEquals(List.of("sent 1"), client.until("closed"));
    }

    /**
     * Port of lori _TestSSLIsWriteableDuringHandshake: a TLS server whose plaintext peer never sends
     * a ClientHello stays handshaking, where it is not writeable, refuses sends and timers, and
     * reports no TLS info; closing it then is a start failure.
     */
    @Test
    void handshakingServerIsNotWriteable() throws Exception {
        Recorder serverSide = new Recorder();
        BlockingQueue<TcpConnection> accepted = new LinkedBlockingQueue<>();
        Loopback.Started server = listenTls(socket -> serverSide, accepted);
        Recorder plainClient = new Recorder();
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(), plainClient);
        TcpConnection connection = Loopback.poll(accepted);
        // execute() queues behind the connection's own initialisation, as lori's self-sends do.
        connection.execute(() -> {
            serverSide.record(connection.toString().contains("SslHandshaking") + " writeable "
                    + connection.isWriteable() + ", open " + connection.isOpen() + ", send "
                    + connection.send("x") + ", timer " + connection.setTimer(new TimerDuration(1_000))
                    + ", info " + connection.tlsInfo());
            connection.hardClose();
        });
        assertEquals("true writeable false, open false, send NOT_CONNECTED, timer NOT_OPEN, info null",
                serverSide.next());
        assertEquals("start failure SSL", serverSide.next());
        assertNothingMore(connection, serverSide);
        assertEquals(List.of("connecting 1", "connected"), plainClient.until("closed"));
    }

    /**
     * Port of lori _TestSSLHardCloseDuringReceive (lori#309/#311): a hard close inside
     * {@code onReceived} stops delivery at once, though the peer's second record was already read,
     * and nothing touches the freed session.
     */
    @Test
    void hardCloseDuringReceiveStopsDeliveryOfLaterRecords() throws Exception {
        Recorder serverSide = new Framed(4) {
            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                c.hardClose();
            }
        };
        BlockingQueue<TcpConnection> accepted = new LinkedBlockingQueue<>();
        Loopback.Started server = listenTls(socket -> serverSide, accepted);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send(List.of("AAAA", "BBBB")); // two buffers: two TLS records, written together
            }
        };
        sslConnect(server, client);
        assertEquals(List.of("started", "received AAAA"), serverSide.until("closed"));
        assertNothingMore(Loopback.poll(accepted), serverSide);
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }

    /**
     * Port of lori _TestSSLHardCloseOnConnected (lori#309/#310): a hard close inside the client's
     * {@code onConnected}, which the handshake's completion calls, is safe and ends in {@code onClosed}.
     */
    @Test
    void hardCloseInsideOnConnectedIsSafe() throws Exception {
        Loopback.Started server = listenTls(socket -> new Recorder(), new LinkedBlockingQueue<>());
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.hardClose();
            }
        };
        TcpConnection connection = sslConnect(server, client);
        assertEquals(List.of("connecting 1", "connected"), client.until("closed"));
        assertNothingMore(connection, client);
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }

    /**
     * Port of lori _TestSSLHardCloseOnStarted (lori#309/#310): a hard close inside the server's
     * {@code onStarted}, which the handshake's completion calls, is safe and ends in {@code onClosed}.
     */
    @Test
    void hardCloseInsideOnStartedIsSafe() throws Exception {
        Recorder serverSide = new Recorder() {
            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.hardClose();
            }
        };
        BlockingQueue<TcpConnection> accepted = new LinkedBlockingQueue<>();
        Loopback.Started server = listenTls(socket -> serverSide, accepted);
        sslConnect(server, new Recorder());
        assertEquals(List.of("started"), serverSide.until("closed"));
        assertNothingMore(Loopback.poll(accepted), serverSide);
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }

    /**
     * Port of lori _TestSSLCloseDuringReceive (lori#311): a graceful close inside {@code onReceived}
     * keeps the session, so the peer's next record is still delivered before {@code onClosed}.
     */
    @Test
    void gracefulCloseDuringReceiveKeepsDeliveringLaterRecords() throws Exception {
        Recorder serverSide = new Framed(4) {
            private boolean closing;

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                if (!closing) {
                    closing = true;
                    c.close();
                }
            }
        };
        Loopback.Started server = listenTls(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.send(List.of("AAAA", "BBBB"));
            }
        };
        sslConnect(server, client);
        assertEquals(List.of("started", "received AAAA", "received BBBB"), serverSide.until("closed"));
        assertEquals(List.of("connecting 1", "connected", "sent 1"), client.until("closed"));
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }
}
