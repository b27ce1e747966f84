package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A throttled connection never loses read or write readiness (lori's
 * {@code _test_backpressure_drain.pony}: lori#276, #294, #306). Our connection is the server; the
 * peer is a plain JDK client with a tiny receive buffer that reads only when the test says so.
 * The server floods 1 MiB sends until refused, so it is throttled whatever the kernel's send
 * buffer size. A lost readiness shows as a wait that times out.
 */
@ExtendWith(FdLeakCheck.class)
class BackpressureDrainTest {
    private static final byte[] PING = "ping".getBytes();

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

    /**
     * A server that waits for "ready", floods the peer until throttled (recording
     * {@code "flooded <bytes>"}), then frames at 4 bytes for the "ping"; it closes on the ping.
     * With {@code muteWhileThrottled} it mutes on {@code onThrottled} and unmutes on
     * {@code onUnthrottled}, as lori's BackpressureDrain server does.
     */
    static Recorder floodingServer(boolean muteWhileThrottled) {
        return new Recorder() {
            private boolean ready;

            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.bufferUntil(BufferSize.of(5));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                if (!ready) {
                    ready = true;
                    c.bufferUntil(BufferSize.of(4));
                    record("flooded " + (long) Recorder.flood(c).size() * MIB.length);
                } else {
                    c.close();
                }
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                // Only the last token matters here; the rest would only lengthen the record.
            }

            @Override
            public void onThrottled(TcpConnection c) {
                super.onThrottled(c);
                if (muteWhileThrottled) {
                    c.mute();
                }
            }

            @Override
            public void onUnthrottled(TcpConnection c) {
                super.onUnthrottled(c);
                if (muteWhileThrottled) {
                    c.unmute();
                }
            }
        };
    }

    private void drainAndPing(boolean muteWhileThrottled) throws Exception {
        Recorder server = floodingServer(muteWhileThrottled);
        Loopback.Started listener = Loopback.listen(group, socket -> server);
        try (JdkPeer peer = JdkPeer.connect(listener.address(), JdkPeer.TINY_RCVBUF)) {
            peer.write("ready".getBytes());
            List<String> flooded = server.until("throttled");
            assertEquals(List.of("started", "received ready"), flooded.subList(0, 2));
            long bytes = Long.parseLong(flooded.get(2).substring("flooded ".length()));
            byte[] payload = peer.readExactly(Math.toIntExact(bytes));
            assertEquals(bytes, payload.length);
            peer.write(PING);
            assertEquals(List.of("unthrottled", "received ping"), List.of(server.next(), server.next()));
            assertEquals(0, peer.readToEnd()); // the server's FIN
            peer.shutdownOutput();
            assertEquals("closed", server.next());
        }
    }

    /**
     * Port of lori _TestBackpressureDrain (regression for lori#276): a server that mutes while
     * throttled and unmutes when the large write drains still receives the peer's "ping".
     */
    @Test
    void mutedThrottledServerReadsAgainAfterTheDrain() throws Exception {
        drainAndPing(true);
    }

    /**
     * Port of lori _TestWriteOnlyEventReadRecovery (regression for lori#294): a server that never
     * mutes keeps its read interest through write-only events that drain the queue, and receives
     * the "ping".
     */
    @Test
    void writeOnlyReadinessDoesNotCostReadInterest() throws Exception {
        drainAndPing(false);
    }

    /**
     * Port of lori _TestReadableEventWriteRecovery (regression for lori#306): a readable event
     * that arrives while throttled and ends in {@code mute()} before EAGAIN does not cost the
     * write interest: once the peer reads, the server unthrottles, echoes what it held, and the
     * peer gets every byte back.
     */
    @Test
    void readableEventEndingInMuteDoesNotCostWriteInterest() throws Exception {
        int frame = 64 * 1024;
        int poke = 512 * 1024;
        Recorder server = new Recorder() {
            private final List<byte[]> held = new ArrayList<>();
            private boolean gotFrame;
            private boolean reportedMute;

            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.bufferUntil(BufferSize.of(frame));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                byte[] copy = data.toArray(ValueLayout.JAVA_BYTE);
                if (!gotFrame) {
                    gotFrame = true;
                    c.bufferUntil(Streaming.STREAMING);
                    c.send(copy);
                    // Make sure the echo leaves us throttled, whatever the kernel's buffer sizes.
                    long extra = c.isWriteable() ? (long) Recorder.flood(c).size() * MIB.length : 0;
                    record("echoed frame, sending " + (frame + extra));
                } else if (c.isWriteable() && held.isEmpty()) {
                    c.send(copy);
                } else {
                    held.add(copy);
                    c.mute();
                    if (!reportedMute) {
                        reportedMute = true;
                        record("muted while throttled");
                    }
                }
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                // Not part of the check.
            }

            @Override
            public void onUnthrottled(TcpConnection c) {
                super.onUnthrottled(c);
                if (!held.isEmpty()) {
                    c.send(List.copyOf(held));
                    held.clear();
                    c.unmute();
                }
            }
        };
        Loopback.Started listener = Loopback.listen(group, socket -> server);
        try (JdkPeer peer = JdkPeer.connect(listener.address(), JdkPeer.TINY_RCVBUF)) {
            byte[] frameBytes = new byte[frame];
            Arrays.fill(frameBytes, (byte) 'x');
            peer.write(frameBytes);
            List<String> before = server.until("throttled");
            String echoed = before.getLast();
            assertTrue(echoed.startsWith("echoed frame, sending "), before::toString);
            long first = Long.parseLong(echoed.substring("echoed frame, sending ".length()));
            byte[] pokeBytes = new byte[poke];
            Arrays.fill(pokeBytes, (byte) 'y');
            CompletableFuture<Void> written = peer.writeInBackground(pokeBytes);
            assertEquals("muted while throttled", server.next());
            CompletableFuture<byte[]> echo = peer.readExactlyInBackground(Math.toIntExact(first + poke));
            byte[] got = Loopback.await(echo);
            Loopback.await(written);
            for (int i = 0; i < poke; i++) {
                if (got[Math.toIntExact(first) + i] != 'y') {
                    throw new AssertionError("echo byte " + i + " of the poke is " + got[(int) first + i]);
                }
            }
            peer.shutdownOutput();
            assertEquals(List.of(), server.until("closed").stream()
                    .filter(e -> !e.equals("throttled") && !e.equals("unthrottled")).toList());
        }
    }
}
