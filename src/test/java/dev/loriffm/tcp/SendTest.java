package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The send path on real loopback sockets without backpressure: tokens, multi-buffer sends, and
 * closing around a send (lori's {@code _test_send.pony}; the backpressure half is
 * {@link SendBackpressureTest}). Our {@code send} returns the token itself and reports
 * {@code onSent} after the calling callback returns, so lori's {@code _on_send_accepted} checks
 * become checks on the returned token.
 */
@ExtendWith(FdLeakCheck.class)
class SendTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    private TcpConnection connect(InetSocketAddress server, ClientLifecycleReceiver receiver) {
        return TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.getPort(), receiver);
    }

    /** A server receiver that frames received data at {@code frame} bytes and records it. */
    static class Framed extends Recorder {
        private final int frame;

        Framed(int frame) {
            this.frame = frame;
        }

        @Override
        public void onStarted(TcpConnection c) {
            c.bufferUntil(BufferSize.of(frame));
            super.onStarted(c);
        }
    }

    private Loopback.Started listen(Recorder server) throws Exception {
        return Loopback.listen(group, socket -> server);
    }

    /** Port of lori _TestSendToken: the token {@code send} returns is the one {@code onSent} reports. */
    @Test
    void sendReturnsTheTokenThatOnSentLaterReports() throws Exception {
        Loopback.Started server = listen(new Recorder());
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("send returned " + c.send("hello"));
            }
        };
        connect(server.address(), client);
        assertEquals("connecting 1", client.next());
        assertEquals("send returned SendToken[id=1]", client.next());
        assertEquals("sent 1", client.next());
    }

    /**
     * Port of lori _TestSendAfterClose: after {@code close()} a send is refused as NOT_CONNECTED and
     * uses no token, so no {@code onSent}/{@code onSendFailed} ever follows for it.
     */
    @Test
    void sendAfterCloseIsRefusedAndUsesNoToken() throws Exception {
        Recorder serverSide = new Recorder();
        Loopback.Started server = listen(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                c.close();
                record("send after close: " + c.send("should fail"));
            }
        };
        TcpConnection connection = connect(server.address(), client);
        assertEquals(List.of("connecting 1", "send after close: NOT_CONNECTED"), client.until("closed"));
        // The server saw our FIN without data, and our close completed with no token callback.
        assertEquals(List.of("started"), serverSide.until("closed"));
        Recorder.settle(connection, () -> { });
        assertTrue(client.events.isEmpty(), () -> "unexpected " + client.events);
    }

    /**
     * Port of lori _TestSendv: several buffers (of every supported kind) travel as one contiguous
     * stream under one token.
     */
    @Test
    void multiBufferSendArrivesAsOneStreamWithOneToken() throws Exception {
        Recorder serverSide = new Framed(13);
        Loopback.Started server = listen(serverSide);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment native6 = arena.allocateFrom("world!", StandardCharsets.US_ASCII);
            Recorder client = new Recorder() {
                @Override
                public void onConnected(TcpConnection c) {
                    List<Object> parts = List.of("Hel".getBytes(StandardCharsets.US_ASCII),
                            ByteBuffer.wrap("lo".getBytes(StandardCharsets.US_ASCII)), ", ",
                            native6.asSlice(0, 6));
                    record("send returned " + c.send(parts));
                }
            };
            connect(server.address(), client);
            assertEquals("connecting 1", client.next());
            assertEquals("send returned SendToken[id=1]", client.next());
            assertEquals("sent 1", client.next());
            assertEquals(List.of("started"), serverSide.until("received Hello, world!"));
        }
    }

    /** Port of lori _TestSendvEmpty: an empty multi-buffer send is accepted and completes. */
    @Test
    void emptyMultiBufferSendIsAcceptedAndCompletes() throws Exception {
        Loopback.Started server = listen(new Recorder());
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("send returned " + c.send(List.of()));
            }
        };
        connect(server.address(), client);
        assertEquals("connecting 1", client.next());
        assertEquals("send returned SendToken[id=1]", client.next());
        assertEquals("sent 1", client.next());
    }

    /** Port of lori _TestSendvMixedEmpty: empty buffers inside a multi-buffer send are skipped. */
    @Test
    void emptyBuffersInAMultiBufferSendAreSkipped() throws Exception {
        Recorder serverSide = new Framed(10);
        Loopback.Started server = listen(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send(List.of("Hello", "", new byte[0], ByteBuffer.allocate(0), "world"));
                c.send("!!!!!!!!!!");
            }
        };
        connect(server.address(), client);
        assertEquals(List.of("started"), serverSide.until("received Helloworld"));
        assertEquals("received !!!!!!!!!!", serverSide.next());
    }

    /**
     * Port of lori _TestSendAcceptedBeforeSent: a token is in the application's hands (returned by
     * {@code send}) before any {@code onSent} names it, for single and multi-buffer sends.
     */
    @Test
    void everyTokenIsReturnedBeforeOnSentNamesIt() throws Exception {
        Loopback.Started server = listen(new Recorder());
        Set<SendToken> returned = ConcurrentHashMap.newKeySet();
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                returned.add((SendToken) c.send("hello"));
                returned.add((SendToken) c.send(List.of("a", "bc")));
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                record((returned.contains(token) ? "sent known " : "sent unknown ") + token.id());
            }
        };
        connect(server.address(), client);
        assertEquals(List.of("sent known 1", "sent known 2"), List.of(skipConnecting(client), client.next()));
        assertEquals(Set.of(new SendToken(1), new SendToken(2)), returned);
    }

    private static String skipConnecting(Recorder r) throws InterruptedException {
        String e = r.next();
        return e.startsWith("connecting") ? r.next() : e;
    }

    /**
     * Port of lori _TestSendCloseFromAccepted: a graceful close right after an accepted send (the
     * moment lori's {@code _on_send_accepted} runs) still writes the data and sends FIN. Our send
     * has flushed by then; the close-with-bytes-still-queued case is
     * {@link SendBackpressureTest#gracefulCloseWritesQueuedSendsBeforeFin}.
     */
    @Test
    void closeRightAfterSendStillWritesTheDataAndSendsFin() throws Exception {
        Recorder serverSide = new Framed(7);
        Loopback.Started server = listen(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("send returned " + c.send("payload"));
                c.close();
            }
        };
        connect(server.address(), client);
        assertEquals(List.of("started", "received payload"), serverSide.until("closed"));
        assertEquals(List.of("connecting 1", "send returned SendToken[id=1]", "sent 1"), client.until("closed"));
    }

    /** Port of lori _TestSendCloseFromSent: a graceful close from {@code onSent} sends FIN at once. */
    @Test
    void closeFromOnSentSendsFin() throws Exception {
        Recorder serverSide = new Framed(7);
        Loopback.Started server = listen(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send("payload");
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                super.onSent(c, token);
                c.close();
            }
        };
        connect(server.address(), client);
        assertEquals(List.of("started", "received payload"), serverSide.until("closed"));
        assertEquals(List.of("connecting 1", "sent 1"), client.until("closed"));
    }

    /**
     * Port of lori _TestSendHardCloseFromAccepted, adapted: our {@code send} writes before it
     * returns, so a hard close right after it finds the bytes with the kernel. The send stays
     * accepted, and its token gets {@code onSent} (before {@code onClosed}), not
     * {@code onSendFailed}; the peer receives the bytes. The unwritten-bytes half of lori's test
     * is {@link SendBackpressureTest#hardCloseFromOnThrottledFailsTheUnwrittenSend}.
     */
    @Test
    void hardCloseRightAfterSendReportsTheWrittenSendAsSent() throws Exception {
        Recorder serverSide = new Framed(7);
        Loopback.Started server = listen(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("send returned " + c.send("payload"));
                c.hardClose();
                record("hardClose returned");
            }
        };
        TcpConnection connection = connect(server.address(), client);
        assertEquals(List.of("connecting 1", "send returned SendToken[id=1]", "sent 1", "closed",
                "hardClose returned"), List.of(client.next(), client.next(), client.next(), client.next(),
                client.next()));
        assertEquals(List.of("started", "received payload"), serverSide.until("closed"));
        Recorder.settle(connection, () -> { });
        assertTrue(client.events.isEmpty(), () -> "unexpected " + client.events);
    }

    /**
     * Port of lori _TestSendReentrantFromSent: sends made from {@code onSent} get ids 1..5 in send
     * order, and each {@code onSent} comes in order.
     */
    @Test
    void sendsChainedFromOnSentCompleteInOrder() throws Exception {
        Loopback.Started server = listen(new Recorder());
        Recorder client = new Recorder() {
            private int issued;

            private void sendNext(TcpConnection c) {
                issued++;
                SendResult r = c.send("m" + issued);
                record("issued " + issued + " -> " + r);
            }

            @Override
            public void onConnected(TcpConnection c) {
                sendNext(c);
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                super.onSent(c, token);
                if (issued < 5) {
                    sendNext(c);
                } else {
                    c.close();
                }
            }
        };
        connect(server.address(), client);
        List<String> expected = new ArrayList<>(List.of("connecting 1"));
        for (int i = 1; i <= 5; i++) {
            expected.add("issued " + i + " -> SendToken[id=" + i + "]");
            expected.add("sent " + i);
        }
        assertEquals(expected, client.until("closed"));
    }

    /**
     * Port of lori _TestSendOnSentPrecedesReceived: the {@code onSent} of a reply made from one
     * message's {@code onReceived} comes before the next message of the same read.
     */
    @Test
    void onSentOfAReplyPrecedesTheNextMessage() throws Exception {
        Recorder serverSide = new Framed(4) {
            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                if (Loopback.text(data).equals("AAAA")) {
                    c.send("ok");
                } else {
                    c.close();
                }
            }
        };
        Loopback.Started server = listen(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send("AAAABBBB"); // one write: both messages come out of one read
            }
        };
        connect(server.address(), client);
        assertEquals(List.of("started", "received AAAA", "sent 1"), serverSide.until("received BBBB"));
    }

    /**
     * Port of lori _TestSendHardCloseFromSentKeepsDelivered: a hard close from the first
     * {@code onSent} of two written sends still reports the second as sent, before
     * {@code onClosed}; neither fails, and the peer gets both.
     */
    @Test
    void hardCloseFromOnSentKeepsTheOtherWrittenSendSent() throws Exception {
        Recorder serverSide = new Framed(8);
        Loopback.Started server = listen(serverSide);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send("AAAA");
                c.send("BBBB");
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                super.onSent(c, token);
                if (token.id() == 1) {
                    c.hardClose();
                }
            }
        };
        TcpConnection connection = connect(server.address(), client);
        assertEquals(List.of("connecting 1", "sent 1", "sent 2"), client.until("closed"));
        assertEquals(List.of("started", "received AAAABBBB"), serverSide.until("closed"));
        Recorder.settle(connection, () -> { });
        assertFalse(client.events.stream().anyMatch(e -> e.startsWith("send failed")), client.events::toString);
    }
}
