package dev.loriffm.tcp;

import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mute()}, {@code unmute()} and {@code yieldRead()} on TLS connections: the TLS tests of
 * lori's {@code _test_flow_control.pony} and {@code _test_yield_read.pony}. Our TLS client sends
 * several 4-byte messages in one {@code send}, so they cross the wire as one TLS record and are
 * decrypted from one socket read; our TLS server frames them with {@code bufferUntil(4)}.
 *
 * <p>Nothing is judged by elapsed time: unmutes come from short user timers, and "nothing more
 * was delivered" is checked with a marker task on the server's loop, queued once the connection
 * is closed (after which nothing may be delivered at all).
 */
@ExtendWith(FdLeakCheck.class)
class TlsFlowControlTest extends TlsFixture {
    private final BlockingQueue<String> server = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> client = new LinkedBlockingQueue<>();


    /**
     * Port of lori _TestSSLMute (regression for lori#313: TLS ignored {@code mute()}): five
     * messages decrypted from one record; the server mutes on the first, the second (a message the
     * first unmute went back for) and the fifth (nothing left to hold), and a timer unmutes each
     * time. Nothing arrives while muted, all five arrive in order, and after the last unmute (which
     * found the held data exhausted) the read path still works: the client's PONG to the server's
     * PING arrives as a sixth message.
     */
    @Test
    void muteHoldsDecryptedMessagesAndUnmuteDeliversThemInOrder() throws Exception {
        Set<Integer> muteOn = Set.of(1, 2, 5);
        int port = tlsListen(socket -> new TlsServer() {
            private boolean muted;
            private int received;
            private int unmutes;

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                String text = Loopback.text(data);
                if (muted) {
                    server.add("received while muted: " + text);
                    return;
                }
                received++;
                server.add("received " + text);
                if (muteOn.contains(received)) {
                    muted = true;
                    c.mute();
                    server.add("muted, unmute timer " + describe(c.setTimer(new TimerDuration(20))));
                }
                if (text.equals("PONG")) {
                    c.close();
                }
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                unmutes++;
                muted = false;
                c.unmute();
                server.add("unmuted " + unmutes);
                if (unmutes == muteOn.size()) {
                    server.add("ping " + describe(c.send("PING")));
                }
            }
        });
        connect(port, new TlsClient() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send("AAAABBBBCCCCDDDDEEEE"); // one send: one TLS record
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (Loopback.text(data).equals("PING")) {
                    c.send("PONG");
                }
            }
        });
        expect(server, "started",
                "received AAAA", "muted, unmute timer token", "unmuted 1",
                "received BBBB", "muted, unmute timer token", "unmuted 2",
                "received CCCC", "received DDDD", "received EEEE", "muted, unmute timer token", "unmuted 3",
                "ping token", "received PONG", "closed");
        expect(client, "closed");
    }

    /**
     * Port of lori _TestSSLMuteCloseDropsHeld: {@code close()} on a muted TLS connection is a hard
     * close (a muted connection would never see the peer's FIN), so it closes instead of hanging,
     * and the two decrypted messages the mute was holding are dropped with the session.
     */
    @Test
    void closingAMutedConnectionDropsTheHeldMessages() throws Exception {
        CompletableFuture<TcpConnection> serverConnection = new CompletableFuture<>();
        int port = tlsListen(socket -> new TlsServer() {
            @Override
            public void onStarted(TcpConnection c) {
                serverConnection.complete(c);
                super.onStarted(c);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                server.add("received " + Loopback.text(data));
                c.mute();
                c.setTimer(new TimerDuration(20));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                server.add("close, muted " + c.isMuted());
                c.close();
                server.add("close returned");
            }
        });
        connect(port, new TlsClient() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send("AAAABBBBCCCC"); // one TLS record, three messages
            }
        });
        expect(server, "started", "received AAAA", "close, muted true", "closed", "close returned");
        Loopback.await(serverConnection).execute(() -> server.add("marker"));
        expect(server, "marker");
        expect(client, "closed");
    }

    /**
     * Port of lori _TestSSLYieldRead (lori PR #315: TLS ignored the yield): five messages decrypted
     * from one record; on the first the server queues a marker task with {@code execute} and
     * yields. Honoured as lori honours it, the yield lets the work queued before it run before the
     * remaining messages are delivered, so the marker has run by the fifth (lori checks the fifth,
     * not the second, because a read already queued may deliver the second first).
     */
    @Test
    void yieldReadLetsWorkQueuedBeforeItRunBeforeTheRestOfTheTlsRecord() throws Exception {
        yieldOverOneRecord(false);
        String marker = Loopback.poll(server);
        assertEquals("messages [AAAA, BBBB, CCCC, DDDD, EEEE]", Loopback.poll(server));
        assertTrue(marker.startsWith("marker ran after message "), marker);
        expect(server, "closed");
        expect(client, "closed");
    }

    /**
     * Not in lori: the TLS yield is honoured message by message. As in the plaintext port (lori
     * _TestYieldRead), the server yields after every one of five messages decrypted from one record;
     * the marker task queued on the first runs before the fifth, and all five arrive in order.
     */
    @Test
    void yieldingOnEveryTlsMessageLetsQueuedWorkRunBetweenThem() throws Exception {
        yieldOverOneRecord(true);
        String marker = Loopback.poll(server);
        assertEquals("messages [AAAA, BBBB, CCCC, DDDD, EEEE]", Loopback.poll(server));
        assertTrue(marker.startsWith("marker ran after message "), marker);
        int markedAt = Integer.parseInt(marker.substring("marker ran after message ".length()));
        assertTrue(markedAt < 5, marker);
        expect(server, "closed");
        expect(client, "closed");
    }

    /** The yield scenario: a 20-byte record, {@code bufferUntil(4)}, a marker queued on the first message. */
    private void yieldOverOneRecord(boolean yieldEveryMessage) throws Exception {
        int port = tlsListen(socket -> new TlsServer() {
            private final List<String> messages = new ArrayList<>();
            private int markedAt = -1;

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                messages.add(Loopback.text(data));
                if (messages.size() == 1) {
                    c.execute(() -> markedAt = messages.size());
                }
                if (messages.size() == 1 || yieldEveryMessage) {
                    c.yieldRead();
                }
                if (messages.size() == 5) {
                    server.add(markedAt < 0 ? "fifth message before the marker ran" : "marker ran after message "
                            + markedAt);
                    server.add("messages " + messages);
                    c.close();
                }
            }
        });
        connect(port, new TlsClient() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send("AAAABBBBCCCCDDDDEEEE"); // one send: one TLS record, read at once on loopback
            }
        });
        expect(server, "started");
    }

    // ------------------------------------------------------------------ helpers

    /** A TLS server connection framing 4-byte messages, recording start, start failure and close. */
    private class TlsServer implements ServerLifecycleReceiver {
        @Override
        public void onStarted(TcpConnection c) {
            c.bufferUntil(BufferSize.of(4)); // before any plaintext is decrypted into the buffer
            server.add("started");
        }

        @Override
        public void onStartFailure(TcpConnection c, StartFailure reason) {
            server.add("start failure " + reason + " " + c.failureDetail());
        }

        @Override
        public void onClosed(TcpConnection c) {
            server.add("closed");
        }
    }

    /** A TLS client recording its failure and close. */
    private class TlsClient implements ClientLifecycleReceiver {
        @Override
        public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
            client.add("failure " + reason + " " + c.failureDetail());
        }

        @Override
        public void onClosed(TcpConnection c) {
            client.add("closed");
        }
    }

    private int tlsListen(Function<AcceptedSocket, ServerLifecycleReceiver> factory) throws Exception {
        return Loopback.listenTls(group, serverContext, factory).address().getPort();
    }

    private void connect(int port, ClientLifecycleReceiver receiver) {
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", port, clientContext, receiver);
    }

    private static String describe(SetTimerResult result) {
        return switch (result) {
            case TimerToken token -> "token";
            case SetTimerError error -> error.name();
        };
    }

    private static String describe(SendResult result) {
        return switch (result) {
            case SendToken token -> "token";
            case SendError error -> error.name();
        };
    }

    private static void expect(BlockingQueue<String> events, String... expected) throws InterruptedException {
        for (String e : expected) {
            assertEquals(e, Loopback.poll(events));
        }
    }
}
