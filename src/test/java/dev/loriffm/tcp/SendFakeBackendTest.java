package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The send path on fake backends (lori's {@code _TestFakeSend*}): server connections whose writes
 * are scripted, so token accounting, write errors and closing are checked without sockets.
 */
@ExtendWith(FdLeakCheck.class)
class SendFakeBackendTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** A recorder that mutes when it starts, so the fake's reads never matter. */
    static class Muted extends Recorder {
        @Override
        public void onStarted(TcpConnection c) {
            super.onStarted(c);
            c.mute();
            started(c);
        }

        /** What the test does in {@code onStarted}. */
        void started(TcpConnection c) { }
    }

    /** Port of lori _TestFakeSendOk: a write the kernel takes whole completes with the returned token. */
    @Test
    void sendTakenWholeCompletesWithTheReturnedToken() throws Exception {
        SendFakes.SendOkRecvRetryBackend backend = new SendFakes.SendOkRecvRetryBackend();
        Muted server = new Muted() {
            @Override
            void started(TcpConnection c) {
                record("send returned " + c.send("hello"));
            }
        };
        SendFakes.serve(group, backend, server);
        assertEquals(List.of("started", "send returned SendToken[id=1]", "sent 1"),
                List.of(server.next(), server.next(), server.next()));
        assertEquals("hello", backend.writtenText());
    }

    /**
     * Port of lori _TestFakeSendMultipleTokenOrder: three sends get three distinct tokens, and
     * {@code onSent} reports them in send order.
     */
    @Test
    void threeSendsCompleteInSendOrder() throws Exception {
        SendFakes.SendOkRecvRetryBackend backend = new SendFakes.SendOkRecvRetryBackend();
        Muted server = new Muted() {
            @Override
            void started(TcpConnection c) {
                for (String payload : List.of("aaa", "bbb", "ccc")) {
                    record("send returned " + c.send(payload));
                }
            }
        };
        SendFakes.serve(group, backend, server);
        assertEquals(List.of("started", "send returned SendToken[id=1]", "send returned SendToken[id=2]",
                "send returned SendToken[id=3]", "sent 1", "sent 2", "sent 3"), next(server, 7));
        assertEquals("aaabbbccc", backend.writtenText());
    }

    /**
     * Port of lori _TestFakeSendOnClosed: a send on a hard-closed connection is refused as
     * NOT_CONNECTED and nothing about it follows.
     */
    @Test
    void sendOnAHardClosedConnectionIsRefused() throws Exception {
        SendFakes.SendOkRecvRetryBackend backend = new SendFakes.SendOkRecvRetryBackend();
        Muted server = new Muted() {
            @Override
            void started(TcpConnection c) {
                c.hardClose();
            }

            @Override
            public void onClosed(TcpConnection c) {
                super.onClosed(c);
                record("send after close: " + c.send("hello"));
            }
        };
        TcpConnection connection = SendFakes.serve(group, backend, server);
        assertEquals(List.of("started", "closed", "send after close: NOT_CONNECTED"), next(server, 3));
        Recorder.settle(connection, () -> { });
        assertTrue(server.events.isEmpty(), () -> "unexpected " + server.events);
        assertEquals(0, backend.writeCalls.get());
        assertEquals(List.of(backend.acceptedFd), backend.closed);
    }

    /**
     * Port of lori _TestFakeSendError: a write error hard-closes the connection; the send was
     * accepted (its token returned) and its token fails after {@code onClosed}, in a later turn.
     */
    @Test
    void writeErrorClosesAndFailsTheAcceptedSendAfterOnClosed() throws Exception {
        SendFakes.SendOkRecvRetryBackend backend = new SendFakes.SendErrorRecvRetryBackend();
        Muted server = new Muted() {
            @Override
            void started(TcpConnection c) {
                record("send returned " + c.send("hello"));
                record("callback returned");
            }

            @Override
            public void onClosed(TcpConnection c) {
                record("closed: " + c.failureDetail());
            }
        };
        SendFakes.serve(group, backend, server);
        List<String> events = server.until("send failed 1");
        int closed = indexStartingWith(events, "closed: ");
        assertTrue(closed > 0 && events.get(closed).contains("ECONNRESET"), events::toString);
        assertTrue(events.contains("send returned SendToken[id=1]"), events::toString);
        assertEquals("callback returned", events.getLast(), "onSendFailed comes in a later turn");
        assertEquals(List.of(backend.acceptedFd), backend.closed);
    }

    /**
     * Port of lori _TestFakeSendFailedAfterClosed: a hard close with bytes still queued reports
     * {@code onClosed} at once and {@code onSendFailed} in a later turn; the pending throttle is
     * not reported on a closed connection.
     */
    @Test
    void hardCloseWithQueuedBytesFailsTheSendAfterOnClosed() throws Exception {
        SendFakes.SendOkRecvRetryBackend backend = new SendFakes.SendRetryThenOkBackend();
        Muted server = new Muted() {
            @Override
            void started(TcpConnection c) {
                record("send returned " + c.send("hello"));
                c.hardClose();
                record("hardClose returned");
            }
        };
        TcpConnection connection = SendFakes.serve(group, backend, server);
        assertEquals(List.of("started", "send returned SendToken[id=1]", "closed", "hardClose returned",
                "send failed 1"), next(server, 5));
        Recorder.settle(connection, () -> { });
        assertTrue(server.events.isEmpty(), () -> "unexpected " + server.events);
        assertEquals("", backend.writtenText());
    }

    /**
     * Port of lori _TestFakeGracefulClose: after {@code close()} sends are refused as
     * NOT_CONNECTED, the completed send still reports {@code onSent}, and with nothing queued the
     * FIN goes out at once. (lori's version mutes first, which turns its close into a hard close;
     * this one stays unmuted so the close is graceful: the fake never has data to read.)
     */
    @Test
    void gracefulCloseRefusesLaterSendsAndSendsFin() throws Exception {
        SendFakes.SendOkRecvRetryBackend backend = new SendFakes.SendOkRecvRetryBackend();
        Recorder server = new Recorder() {
            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                record("send returned " + c.send("aaa"));
                c.close();
                record("after close: " + c.send("bbb") + ", closed=" + c.isClosed());
            }
        };
        TcpConnection connection = SendFakes.serve(group, backend, server);
        assertEquals(List.of("started", "send returned SendToken[id=1]", "after close: NOT_CONNECTED, closed=true",
                "sent 1"), next(server, 4));
        assertEquals("aaa", backend.writtenText());
        assertEquals(List.of(backend.acceptedFd), backend.finished);
        Recorder.settle(connection, () -> { });
        assertTrue(server.events.isEmpty(), () -> "closing waits for the peer's FIN: " + server.events);
        assertEquals(List.of(), backend.closed);
    }

    /**
     * A token completes only when its last byte is written, across partial writes and write
     * events; while throttled {@code isWriteable()} is false and sends are refused.
     */
    @Test
    void aTokenCompletesOnlyOnceItsLastByteIsWritten() throws Exception {
        SendFakes.TrickleBackend backend = new SendFakes.TrickleBackend(3);
        Muted server = new Muted() {
            @Override
            void started(TcpConnection c) {
                record("send returned " + c.send("abcde"));
            }

            @Override
            public void onThrottled(TcpConnection c) {
                super.onThrottled(c);
                record("writeable=" + c.isWriteable() + ", send=" + c.send("x"));
            }

            @Override
            public void onUnthrottled(TcpConnection c) {
                super.onUnthrottled(c);
                if (c.isWriteable()) {
                    record("send returned " + c.send("fg"));
                }
            }
        };
        SendFakes.serve(group, backend, server);
        assertEquals(List.of("started", "send returned SendToken[id=1]", "throttled",
                "writeable=false, send=NOT_WRITEABLE"), next(server, 4));
        assertEquals("abc", backend.writtenText());
        backend.drained();
        backend.fire(backend.acceptedFd, FakeBackend.WRITEABLE);
        // "de" goes out: token 1 completes; "fg" then meets a full buffer and queues.
        assertEquals(List.of("sent 1", "unthrottled", "send returned SendToken[id=2]", "throttled",
                "writeable=false, send=NOT_WRITEABLE"), next(server, 5));
        assertEquals("abcde", backend.writtenText());
        backend.drained();
        backend.fire(backend.acceptedFd, FakeBackend.WRITEABLE);
        assertEquals(List.of("sent 2", "unthrottled", "send returned SendToken[id=3]", "throttled",
                "writeable=false, send=NOT_WRITEABLE"), next(server, 5));
        assertEquals("abcdefg", backend.writtenText());
    }

    private static List<String> next(Recorder r, int n) throws InterruptedException {
        String[] events = new String[n];
        for (int i = 0; i < n; i++) {
            events[i] = r.next();
        }
        return List.of(events);
    }

    private static int indexStartingWith(List<String> events, String prefix) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
