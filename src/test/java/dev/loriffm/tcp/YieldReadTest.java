package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code yieldRead()} pauses delivery until a later loop turn (lori's {@code _test_yield_read.pony}, plaintext). */
@ExtendWith(FdLeakCheck.class)
class YieldReadTest {
    private static final int MESSAGES = 20;

    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /**
     * Port of lori _TestYieldRead: twenty 4-byte messages sent in one write come out of one read;
     * the server yields after each. On the first it submits a marker task with
     * {@code execute}: with the yield honoured the marker runs between two deliveries, so it has
     * run by the last message; a yield that was ignored would deliver all twenty first. Every
     * message still arrives, in order, with no unmute needed.
     */
    @Test
    void yieldReadLetsOtherWorkRunBetweenMessagesWithoutLosingAny() throws Exception {
        Recorder server = new Recorder() {
            private final List<String> messages = new ArrayList<>();
            private boolean marked;
            private int markedAt = -1;

            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.bufferUntil(BufferSize.of(4));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                messages.add(Loopback.text(data));
                if (messages.size() == 1) {
                    c.execute(() -> {
                        marked = true;
                        markedAt = messages.size();
                    });
                }
                c.yieldRead();
                if (messages.size() == MESSAGES) {
                    record("marker ran " + (marked ? "after message " + markedAt : "not yet"));
                    record("messages " + messages);
                    c.close();
                }
            }
        };
        Loopback.Started listener = Loopback.listen(group, socket -> server);
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.send("Ping".repeat(MESSAGES)); // one write, so one read takes every message
            }
        };
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", listener.address().getPort(), client);
        List<String> events = server.until("closed");
        assertEquals("started", events.getFirst());
        String marker = events.get(1);
        assertTrue(marker.startsWith("marker ran after message "), events::toString);
        int markedAt = Integer.parseInt(marker.substring("marker ran after message ".length()));
        assertTrue(markedAt < MESSAGES, marker);
        List<String> pings = new ArrayList<>();
        for (int i = 0; i < MESSAGES; i++) {
            pings.add("Ping");
        }
        assertEquals("messages " + pings, events.get(2));
        assertEquals(3, events.size(), events::toString);
        client.until("closed");
    }
}
