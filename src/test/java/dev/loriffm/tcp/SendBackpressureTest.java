package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The send path under kernel backpressure on real loopback sockets (the backpressure half of lori's
 * {@code _test_send.pony}). Our connection is the client; its peer is a plain JDK socket with a
 * tiny receive buffer that reads nothing until the test says so, and the client floods 1 MiB sends
 * until {@code send} refuses with NOT_WRITEABLE (we have no {@code SO_SNDBUF} setter, so a fixed
 * payload might not throttle). The peer's byte count is the oracle for what reached the kernel.
 *
 * <p>Adaptation: our {@code send} flushes before it returns and refuses while throttled, and
 * {@code onUnthrottled} comes only once the queue is empty, so at most one send is ever partly
 * queued (lori can queue several from {@code _on_unthrottled}).
 */
@ExtendWith(FdLeakCheck.class)
class SendBackpressureTest {
    private EventLoopGroup group;

    @BeforeAll
    static void warmUpJdkSockets() throws Exception {
        JdkPeer.warmUp();
    }

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** A client that remembers the size of every accepted send, by token id. */
    static class Sender extends Recorder {
        final Map<Long, Integer> sizes = new ConcurrentHashMap<>();
        volatile long lastToken;

        SendResult send(TcpConnection c, byte[] data) {
            SendResult r = c.send(data);
            if (r instanceof SendToken token) {
                sizes.put(token.id(), data.length);
                lastToken = token.id();
            }
            return r;
        }

        /** {@link Recorder#flood}, remembering the sizes; records {@code "flooded to <last id>"}. */
        List<SendToken> floodTracked(TcpConnection c) {
            return floodTracked(c, MIB, MAX_FLOOD_SENDS);
        }

        List<SendToken> floodTracked(TcpConnection c, byte[] chunk, int maxSends) {
            List<SendToken> tokens = Recorder.flood(c, chunk, maxSends);
            for (SendToken token : tokens) {
                sizes.put(token.id(), chunk.length);
            }
            lastToken = tokens.getLast().id();
            record("flooded to " + lastToken);
            return tokens;
        }

        long acceptedBytes() {
            return sizes.values().stream().mapToLong(Integer::longValue).sum();
        }

        /** {@return the bytes of tokens 1..id} */
        long endOffset(long id) {
            long end = 0;
            for (long i = 1; i <= id; i++) {
                end += sizes.get(i);
            }
            return end;
        }
    }

    /** The terminal callbacks seen, in order. */
    record Outcome(List<Long> sent, List<Long> failed) {
        static Outcome of(List<String> events) {
            List<Long> sent = new ArrayList<>();
            List<Long> failed = new ArrayList<>();
            for (String e : events) {
                if (e.startsWith("sent ")) {
                    sent.add(Long.parseLong(e.substring(5)));
                } else if (e.startsWith("send failed ")) {
                    failed.add(Long.parseLong(e.substring(12)));
                }
            }
            return new Outcome(sent, failed);
        }

        /** Every token 1..last got exactly one terminal callback: sent ones first, then failed ones. */
        void assertCleanSplit(long last) {
            List<Long> all = new ArrayList<>(sent);
            all.addAll(failed);
            List<Long> expected = new ArrayList<>();
            for (long i = 1; i <= last; i++) {
                expected.add(i);
            }
            assertEquals(expected, all, () -> "onSent " + sent + " then onSendFailed " + failed);
        }
    }

    private TcpConnection connect(JdkPeer.Server peer, Recorder client) {
        return TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", peer.address().getPort(), client);
    }

    /**
     * Port of lori _TestSendPerTokenCompletion: three small sends, a flood that leaves the last
     * send queued, and one more large send from {@code onUnthrottled}; every token gets exactly one
     * {@code onSent}, in ascending order, and the peer gets every byte. (lori sends the second
     * large payload while the first is still queued; our {@code onUnthrottled} comes once the
     * queue is empty, so the two never overlap.)
     */
    @Test
    void everyTokenCompletesOnceInOrderAcrossBackpressure() throws Exception {
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Sender client = new Sender() {
                private boolean resent;

                @Override
                public void onConnected(TcpConnection c) {
                    for (String small : List.of("t1", "t2", "t3")) {
                        send(c, small.getBytes());
                    }
                    floodTracked(c);
                }

                @Override
                public void onUnthrottled(TcpConnection c) {
                    super.onUnthrottled(c);
                    if (!resent) {
                        resent = true;
                        record("resent " + send(c, new byte[4 << 20]));
                    }
                }

                @Override
                public void onSent(TcpConnection c, SendToken token) {
                    super.onSent(c, token);
                    if (resent && token.id() == lastToken) {
                        c.close();
                    }
                }
            };
            connect(peerServer, client);
            try (JdkPeer peer = peerServer.accept()) {
                List<String> beforeThrottle = client.until("throttled");
                CompletableFuture<Long> received = peer.readInBackground();
                long total = Loopback.await(received);
                peer.shutdownOutput();
                List<String> events = new ArrayList<>(beforeThrottle);
                events.addAll(client.until("closed"));
                Outcome outcome = Outcome.of(events);
                assertTrue(events.stream().anyMatch(e -> e.startsWith("resent SendToken")), events::toString);
                assertEquals(List.of(), outcome.failed());
                outcome.assertCleanSplit(client.lastToken);
                assertEquals(client.acceptedBytes(), total);
            }
        }
    }

    /**
     * Port of lori _TestSendMidFlightDropBoundary: a hard close with a send still queued splits
     * the tokens cleanly: a prefix gets {@code onSent} (before {@code onClosed}), the queued send
     * gets {@code onSendFailed} (after it); the peer received at least every byte reported sent
     * and not the queued send's tail.
     */
    @Test
    void hardCloseMidFlightSplitsTokensIntoSentThenFailed() throws Exception {
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Sender client = new Sender() {
                @Override
                public void onConnected(TcpConnection c) {
                    for (String small : List.of("t1", "t2", "t3")) {
                        send(c, small.getBytes());
                    }
                    floodTracked(c);
                    c.hardClose();
                }
            };
            TcpConnection connection = connect(peerServer, client);
            try (JdkPeer peer = peerServer.accept()) {
                List<String> beforeClose = client.until("closed");
                long last = client.lastToken;
                assertEquals("send failed " + last, client.next());
                Outcome outcome = Outcome.of(beforeClose);
                assertEquals(List.of(), outcome.failed(), "onSendFailed must follow onClosed");
                List<String> all = new ArrayList<>(beforeClose);
                all.add("send failed " + last);
                Outcome.of(all).assertCleanSplit(last);
                assertFalse(beforeClose.contains("throttled"), "no onThrottled after a hard close");
                long total = peer.readToEnd();
                assertTrue(total >= client.endOffset(last - 1), () -> "peer got " + total + " bytes but tokens 1.."
                        + (last - 1) + " (" + client.endOffset(last - 1) + " bytes) were reported sent");
                assertTrue(total < client.acceptedBytes(), () -> "peer got all " + total + " bytes, yet token "
                        + last + " was reported failed");
                Recorder.settle(connection, () -> { });
                assertTrue(client.events.isEmpty(), () -> "unexpected " + client.events);
            }
        }
    }

    /**
     * Port of lori _TestSendGracefulCloseWithPending (regression for lori#304): a graceful close
     * with a send still queued writes it before FIN: every token gets {@code onSent}, none fails,
     * and the peer receives every byte.
     */
    @Test
    void gracefulCloseWritesQueuedSendsBeforeFin() throws Exception {
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Sender client = new Sender() {
                @Override
                public void onConnected(TcpConnection c) {
                    for (String small : List.of("t1", "t2", "t3")) {
                        send(c, small.getBytes());
                    }
                    floodTracked(c);
                    c.close();
                    record("closing, writeable=" + c.isWriteable() + " closed=" + c.isClosed());
                }
            };
            connect(peerServer, client);
            try (JdkPeer peer = peerServer.accept()) {
                List<String> before = client.until("closing, writeable=false closed=true");
                long total = peer.readToEnd();
                peer.shutdownOutput();
                List<String> events = new ArrayList<>(before);
                events.addAll(client.until("closed"));
                Outcome outcome = Outcome.of(events);
                assertEquals(List.of(), outcome.failed());
                outcome.assertCleanSplit(client.lastToken);
                assertEquals(client.acceptedBytes(), total);
            }
        }
    }

    /**
     * Port of lori _TestSendCloseFromThrottled: a graceful close from {@code onThrottled} still
     * delivers the queued send: it gets {@code onSent} and the peer gets all of it.
     */
    @Test
    void closeFromOnThrottledStillDeliversTheQueuedSend() throws Exception {
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Sender client = new Sender() {
                @Override
                public void onConnected(TcpConnection c) {
                    floodTracked(c);
                }

                @Override
                public void onThrottled(TcpConnection c) {
                    super.onThrottled(c);
                    c.close();
                }
            };
            connect(peerServer, client);
            try (JdkPeer peer = peerServer.accept()) {
                List<String> before = client.until("throttled");
                long total = peer.readToEnd();
                peer.shutdownOutput();
                List<String> events = new ArrayList<>(before);
                events.addAll(client.until("closed"));
                Outcome outcome = Outcome.of(events);
                assertEquals(List.of(), outcome.failed());
                outcome.assertCleanSplit(client.lastToken);
                assertEquals(client.acceptedBytes(), total);
            }
        }
    }

    /**
     * Port of lori _TestSendHardCloseFromThrottled: a hard close from {@code onThrottled} fails the
     * queued send (after {@code onClosed}); it was still accepted, and the sends written before it
     * are reported sent.
     */
    @Test
    void hardCloseFromOnThrottledFailsTheUnwrittenSend() throws Exception {
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Sender client = new Sender() {
                @Override
                public void onConnected(TcpConnection c) {
                    floodTracked(c);
                }

                @Override
                public void onThrottled(TcpConnection c) {
                    super.onThrottled(c);
                    c.hardClose();
                }
            };
            connect(peerServer, client);
            try (JdkPeer peer = peerServer.accept()) {
                List<String> events = client.until("closed");
                long last = client.lastToken;
                assertEquals("throttled", events.getLast());
                assertEquals("send failed " + last, client.next());
                events.add("send failed " + last);
                Outcome outcome = Outcome.of(events);
                assertEquals(List.of(last), outcome.failed());
                outcome.assertCleanSplit(last);
                long total = peer.readToEnd();
                assertTrue(total >= client.endOffset(last - 1) && total < client.acceptedBytes(),
                        () -> "peer got " + total + " bytes");
            }
        }
    }

    /**
     * Port of lori _TestSendDeliveredNotFailedOnHardClose (lori#327/#328): after throttle cycles
     * with a peer that reads, a hard close from {@code onThrottled} reports a send as sent exactly
     * when the peer received all of it. The peer's byte count is the oracle: no {@code SO_LINGER},
     * so the kernel delivers everything it took before the FIN.
     */
    @Test
    void sendsThePeerReceivedAreReportedSentAndNoOthers() throws Exception {
        int cycles = 25;
        byte[] chunk = new byte[32_000];
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Sender client = new Sender() {
                private int floods;

                @Override
                public void onConnected(TcpConnection c) {
                    floodTracked(c);
                }

                @Override
                public void onUnthrottled(TcpConnection c) {
                    super.onUnthrottled(c);
                    floods++;
                    floodTracked(c, chunk, 100_000);
                }

                @Override
                public void onThrottled(TcpConnection c) {
                    super.onThrottled(c);
                    if (floods >= cycles) {
                        c.hardClose();
                    }
                }
            };
            connect(peerServer, client);
            try (JdkPeer peer = peerServer.accept()) {
                List<String> events = new ArrayList<>(client.until("throttled"));
                CompletableFuture<Long> received = peer.readInBackground();
                events.addAll(client.until("closed"));
                long last = client.lastToken;
                assertEquals("send failed " + last, client.next());
                events.add("send failed " + last);
                long total = Loopback.await(received);
                Outcome outcome = Outcome.of(events);
                outcome.assertCleanSplit(last);
                for (long id = 1; id <= last; id++) {
                    boolean delivered = client.endOffset(id) <= total;
                    assertEquals(delivered, outcome.sent().contains(id), "token " + id + " ends at byte "
                            + client.endOffset(id) + ", the peer got " + total);
                }
            }
        }
    }

    /**
     * Port of lori _TestSendOnSentPrecedesThrottleAndClose: the {@code onSent} of sends already
     * written comes before {@code onThrottled}, a send from {@code onThrottled} is refused as
     * NOT_WRITEABLE, and a hard close from there reports {@code onClosed} and then fails only the
     * queued send.
     */
    @Test
    void onSentOfWrittenSendsPrecedesOnThrottledAndOnClosed() throws Exception {
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Sender client = new Sender() {
                @Override
                public void onConnected(TcpConnection c) {
                    send(c, "go".getBytes());
                    floodTracked(c);
                }

                @Override
                public void onThrottled(TcpConnection c) {
                    super.onThrottled(c);
                    record("send while throttled: " + c.send("nope"));
                    c.hardClose();
                }
            };
            connect(peerServer, client);
            try (JdkPeer peer = peerServer.accept()) {
                List<String> events = client.until("closed");
                long last = client.lastToken;
                List<String> expected = new ArrayList<>(List.of("connecting 1"));
                expected.add("flooded to " + last);
                for (long id = 1; id < last; id++) {
                    expected.add("sent " + id);
                }
                expected.add("throttled");
                expected.add("send while throttled: NOT_WRITEABLE");
                assertEquals(expected, events);
                assertEquals("send failed " + last, client.next());
                assertTrue(peer.readToEnd() >= client.endOffset(last - 1));
            }
        }
    }

    /**
     * Port of lori _TestSendThrottleSuppressedByHardClose: a hard close from the {@code onSent}
     * delivered ahead of {@code onThrottled} suppresses {@code onThrottled}; the sends written
     * before it are still reported sent, and only the queued one fails.
     */
    @Test
    void hardCloseFromAnEarlierOnSentSuppressesOnThrottled() throws Exception {
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Sender client = new Sender() {
                @Override
                public void onConnected(TcpConnection c) {
                    send(c, "go".getBytes());
                    floodTracked(c);
                }

                @Override
                public void onSent(TcpConnection c, SendToken token) {
                    super.onSent(c, token);
                    if (token.id() == 1) {
                        c.hardClose();
                    }
                }
            };
            TcpConnection connection = connect(peerServer, client);
            try (JdkPeer peer = peerServer.accept()) {
                List<String> events = client.until("closed");
                long last = client.lastToken;
                assertEquals("send failed " + last, client.next());
                List<String> expected = new ArrayList<>(List.of("connecting 1", "flooded to " + last));
                for (long id = 1; id < last; id++) {
                    expected.add("sent " + id);
                }
                assertEquals(expected, events);
                Recorder.settle(connection, () -> { });
                assertTrue(client.events.isEmpty(), () -> "unexpected " + client.events);
                assertTrue(peer.readToEnd() >= client.endOffset(last - 1));
            }
        }
    }
}
