package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile and failing peers on real loopback sockets (issue #7, "Faults and hostile peers"): a
 * peer that resets the connection mid-stream, one that sends FIN while our writes are queued, one
 * that never reads, and slowloris peers that hold a connection open without ever completing a
 * message. Each test checks the callbacks lori's semantics prescribe, that every accepted send
 * gets exactly one terminal callback, and (through {@link FdLeakCheck}) that no descriptor leaks.
 *
 * <p>The peers that misbehave at the socket level are plain JDK sockets ({@link JdkPeer}), with a
 * tiny receive buffer so that not reading closes the window at once.
 */
@ExtendWith(FdLeakCheck.class)
class FaultInjectionTest {
    /** The chunk the steady sender sends: what the runtime may hold for a peer that never reads. */
    private static final byte[] CHUNK = new byte[64 * 1024];

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

    private TcpConnection connect(int port, ClientLifecycleReceiver client) {
        return TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, client);
    }

    /** A client that floods its peer as soon as it connects and records the last token it got. */
    static class Flooder extends Recorder {
        /** Every event, including those the test consumed from the queue. */
        final List<String> log = Collections.synchronizedList(new ArrayList<>());

        @Override
        void record(String event) {
            log.add(event);
            super.record(event);
        }

        volatile TcpConnection connection;

        @Override
        public void onConnected(TcpConnection c) {
            super.onConnected(c);
            connection = c;
            record("flooded to " + flood(c).getLast().id());
        }
    }

    /** Reads events up to {@code "flooded to N"}; {@return N}. */
    private static long floodedTo(Recorder recorder) throws InterruptedException {
        for (String e = recorder.next(); ; e = recorder.next()) {
            if (e.startsWith("flooded to ")) {
                return Long.parseLong(e.substring("flooded to ".length()));
            }
        }
    }

    /**
     * After a hard close caused by the peer: waits for {@code closed} and for a terminal callback
     * of every token {@code 1..last}, then checks them against lori's rules: every token exactly
     * once, {@code onSent} ones in order before {@code onSendFailed} ones, every failure after
     * {@code onClosed}, and at least one failure (the flood left bytes queued).
     */
    private static void assertClosedThenQueuedSendsFailed(Flooder client, long last) throws Exception {
        client.until("closed");
        while (SendBackpressureTest.Outcome.of(List.copyOf(client.log)).failed().isEmpty()) {
            client.next(); // the failures come in a later loop turn
        }
        Recorder.settle(client.connection, () -> { }); // and all in that one turn
        List<String> log = List.copyOf(client.log);
        int closed = log.indexOf("closed");
        assertTrue(log.subList(0, closed).stream().noneMatch(e -> e.startsWith("send failed")),
                () -> "onSendFailed must come after onClosed: " + log);
        SendBackpressureTest.Outcome outcome = SendBackpressureTest.Outcome.of(log);
        outcome.assertCleanSplit(last);
        assertFalse(outcome.failed().isEmpty(), () -> "the queued send must fail: " + log);
    }

    /** After the group closed: nothing more than what the test consumed (no second onClosed). */
    private void assertNoFurtherLifecycleEvents(Recorder recorder) {
        group.close();
        List<String> rest = new ArrayList<>(recorder.events);
        assertTrue(rest.stream().noneMatch(e -> e.equals("closed") || e.startsWith("failure")),
                () -> "a second terminal callback: " + rest);
    }

    /**
     * A peer that resets the connection (close with {@code SO_LINGER} 0) while we are both
     * receiving from it and sending to it, with data queued: {@code onClosed} once, every send
     * written before the reset {@code onSent}, the queued ones {@code onSendFailed} after
     * {@code onClosed}.
     */
    @Test
    void peerResetMidStreamClosesAndFailsTheQueuedSends() throws Exception {
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Flooder client = new Flooder();
            connect(peerServer.address().getPort(), client);
            JdkPeer peer = peerServer.accept();
            long last = floodedTo(client);
            peer.write("hello".getBytes());
            assertEquals("hello", receivedText(client, 5));
            peer.abort();
            assertClosedThenQueuedSendsFailed(client, last);
            assertNoFurtherLifecycleEvents(client);
        }
    }

    /** Reads events until {@code n} received bytes have been recorded; {@return their text}. */
    private static String receivedText(Recorder recorder, int n) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        while (text.length() < n) {
            String e = recorder.next();
            if (e.startsWith("received ")) {
                text.append(e.substring("received ".length()));
            }
        }
        return text.toString();
    }

    /**
     * A peer that stops reading and then shuts down its output while our send queue is not empty.
     * lori does not support half-close: the FIN hard-closes the connection, so {@code onClosed}
     * comes at once and the queued sends fail after it.
     */
    @Test
    void peerFinWithQueuedWritesHardClosesAndFailsTheQueuedSends() throws Exception {
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Flooder client = new Flooder();
            connect(peerServer.address().getPort(), client);
            try (JdkPeer peer = peerServer.accept()) {
                long last = floodedTo(client);
                peer.shutdownOutput();
                assertClosedThenQueuedSendsFailed(client, last);
                assertNoFurtherLifecycleEvents(client);
            }
        }
    }

    /**
     * A sender that honours backpressure: it sends {@link #CHUNK}s until {@code send} refuses
     * with NOT_WRITEABLE, resumes from {@code onUnthrottled}, and closes once all {@code total}
     * bytes are written. It tracks the most bytes the runtime ever held queued.
     */
    static final class SteadySender extends Recorder {
        private final long total;
        private long accepted;
        private long sentTokens;
        private long acceptedTokens;
        volatile long maxQueued;
        volatile TcpConnection connection;

        SteadySender(long total) {
            this.total = total;
        }

        @Override
        public void onConnected(TcpConnection c) {
            super.onConnected(c);
            connection = c;
            pump(c);
        }

        @Override
        public void onUnthrottled(TcpConnection c) {
            super.onUnthrottled(c);
            pump(c);
        }

        @Override
        public void onSent(TcpConnection c, SendToken token) {
            sentTokens++;
            if (accepted == total && sentTokens == acceptedTokens) {
                record("all sent");
                c.close();
            }
        }

        private void pump(TcpConnection c) {
            while (accepted < total) {
                SendResult result = c.send(CHUNK);
                maxQueued = Math.max(maxQueued, c.queuedBytes());
                switch (result) {
                    case SendToken token -> {
                        accepted += CHUNK.length;
                        acceptedTokens++;
                    }
                    case SendError error -> {
                        if (error != SendError.NOT_WRITEABLE || c.isWriteable()) {
                            record("unexpected refusal " + error + ", writeable " + c.isWriteable());
                        }
                        return;
                    }
                }
            }
        }
    }

    /**
     * A peer that never reads: the sender is throttled, every send is refused while it is, and
     * the runtime holds at most one send's bytes (the kernel holds the rest), however much the
     * application tries to push. When the peer finally reads, {@code onUnthrottled} follows every
     * {@code onThrottled}, every token is {@code onSent}, and the peer gets every byte.
     */
    @Test
    void neverReadingPeerThrottlesTheSenderAndItsQueueStaysBounded() throws Exception {
        long total = 32L << 20; // far more than the kernel's socket buffers hold
        SteadySender client = new SteadySender(total);
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            connect(peerServer.address().getPort(), client);
            try (JdkPeer peer = peerServer.accept()) {
                assertEquals(List.of("connecting 1"), client.until("connected"));
                assertEquals("throttled", client.next(), "the peer reads nothing, so the sender is throttled");
                TcpConnection c = client.connection;
                long[] queued = new long[1];
                for (int probe = 0; probe < 20; probe++) {
                    Recorder.settle(c, () -> {
                        assertFalse(c.isWriteable());
                        assertEquals(SendError.NOT_WRITEABLE, c.send(CHUNK), "sends are refused while throttled");
                        queued[0] = c.queuedBytes();
                    });
                    assertTrue(queued[0] > 0 && queued[0] <= CHUNK.length,
                            "the runtime holds part of one send, not more: " + queued[0]);
                }
                CompletableFuture<Long> read = peer.readInBackground();
                List<String> events = client.until("all sent");
                assertEquals(total, Loopback.await(read), "the peer got every byte once we closed");
                peer.shutdownOutput(); // our connection is closing: the FIN completes it
                events.addAll(client.until("closed"));
                long throttled = events.stream().filter("throttled"::equals).count() + 1;
                long unthrottled = events.stream().filter("unthrottled"::equals).count();
                assertEquals(throttled, unthrottled, () -> "every throttle was released: " + events);
                assertTrue(events.stream().noneMatch(e -> e.startsWith("unexpected") || e.startsWith("send failed")),
                        () -> events.toString());
                assertTrue(client.maxQueued <= CHUNK.length, "most bytes ever queued: " + client.maxQueued);
            }
        }
        assertNoFurtherLifecycleEvents(client);
    }

    /**
     * A server that sends a greeting and closes at once: the greeting and the FIN can both arrive
     * before the client has processed its connect, so the event that completes the connect
     * already reports the FIN. The client must still read on to the end of the stream and report
     * {@code onClosed}. Regression: it took the short read of the greeting as "drained" and waited
     * for an edge that had already been spent, hanging in CLOSE-WAIT (about one run in three here;
     * 30 connections make a miss all but impossible).
     */
    @Test
    void clientSeesTheCloseOfAServerThatGreetsAndClosesAtOnce() throws Exception {
        int port = Loopback.listen(group, socket -> new Recorder() {
            @Override
            public void onStarted(TcpConnection c) {
                c.send("hi");
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                c.close();
            }
        }).address().getPort();
        for (int i = 0; i < 30; i++) {
            Recorder client = new Recorder();
            connect(port, client);
            assertEquals(List.of("connecting 1", "connected", "received hi"), client.until("closed"),
                    "connection " + i);
        }
    }

    /** A server that frames 1 KiB messages and records what it receives and when its timers fire. */
    static class FramingServer extends Recorder {
        @Override
        public void onStarted(TcpConnection c) {
            super.onStarted(c);
            c.bufferUntil(BufferSize.of(1024));
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            record("message of " + data.byteSize());
        }
    }

    /**
     * Slowloris that stops: a peer sends a few bytes of a 1 KiB message and then nothing. The idle
     * timeout fires (the partial message is never delivered) and the close from
     * {@code onIdleTimeout} ends the connection on both sides.
     */
    @Test
    void idleTimeoutClosesAPeerThatStallsMidMessage() throws Exception {
        FramingServer server = new FramingServer() {
            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.idleTimeout(new IdleTimeout(100));
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                record("idle");
                c.close();
            }
        };
        int port = Loopback.listen(group, socket -> server).address().getPort();
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.send("GET / HTTP/1.1\r\nHost: x\r\n"); // and never the rest
            }
        };
        connect(port, client);
        assertEquals(List.of("started"), server.until("idle"));
        assertEquals(List.of(), server.until("closed"), "no message was delivered");
        assertEquals(List.of("connecting 1", "connected", "sent 1"), client.until("closed"));
        assertNoFurtherLifecycleEvents(server);
    }

    /**
     * Slowloris that trickles: a peer sends one byte every 10 ms and so never completes a 1 KiB
     * message.
     *
     * <p>What lori-ffm guarantees: the idle timeout measures silence. Every byte received or
     * written resets it (lori#300; shown by {@code IdleTimeoutTest.receivedDataPostponesTheIdleTimeout}),
     * so a peer that sends more often than the idle period is never idle, and the idle timeout
     * alone cannot drop a slowloris. The defence is an application deadline: a {@code setTimer}
     * for "the message must be complete by then", armed at start. Here the deadline fires while
     * bytes are still arriving, its hard close ends the connection at once on both sides, and no
     * message was ever delivered. The server's idle timeout is set too and only recorded: whether
     * it fires depends on how regularly the trickle arrives on a loaded machine.
     */
    @Test
    void deadlineTimerClosesATricklingPeerTheIdleTimeoutCannotCatch() throws Exception {
        AtomicInteger trickled = new AtomicInteger();
        FramingServer server = new FramingServer() {
            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.idleTimeout(new IdleTimeout(200));
                c.setTimer(new TimerDuration(1000));
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                record("idle");
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("deadline after " + trickled.get() + " bytes");
                c.hardClose();
            }
        };
        int port = Loopback.listen(group, socket -> server).address().getPort();
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.setTimer(new TimerDuration(10));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                if (c.send(new byte[] {'x'}) instanceof SendToken) {
                    trickled.incrementAndGet();
                }
                c.setTimer(new TimerDuration(10));
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) { }
        };
        connect(port, client);
        assertEquals("started", server.next());
        String deadline;
        do {
            deadline = server.next();
        } while (deadline.equals("idle"));
        assertTrue(deadline.startsWith("deadline after "), deadline);
        int bytes = Integer.parseInt(deadline.replaceAll("\\D", ""));
        assertTrue(bytes > 1 && bytes < 1024, "bytes kept arriving, short of a message: " + bytes);
        List<String> serverEvents = server.until("closed");
        assertTrue(serverEvents.stream().noneMatch(e -> e.startsWith("message")), serverEvents::toString);
        assertEquals(List.of("connecting 1", "connected"), client.until("closed"),
                "the hard close ended the client too");
        assertNoFurtherLifecycleEvents(server);
    }
}
