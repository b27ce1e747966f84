package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mute()} and {@code unmute()} on real loopback connections (lori's
 * {@code _test_flow_control.pony}, plaintext). lori holds each test open for 0.5 s with a timer to
 * show a muted connection read nothing; here the "nothing happened" point is a checkpoint task on
 * the muted connection's loop, run in a turn that polled epoll after the peer's data was provably
 * with the kernel ({@link Recorder#settle}). A slow machine can only make the check vacuous, never
 * fail it.
 */
@ExtendWith(FdLeakCheck.class)
class FlowControlTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** A server recorder that remembers its connection, so the test can reach its loop. */
    static class Server extends Recorder {
        final CompletableFuture<TcpConnection> connection = new CompletableFuture<>();

        @Override
        public void onStarted(TcpConnection c) {
            connection.complete(c);
            super.onStarted(c);
            started(c);
        }

        /** What the test does in {@code onStarted}. */
        void started(TcpConnection c) { }
    }

    /** A client that answers every message with {@code reply}. */
    static Recorder replying(String reply) {
        return new Recorder() {
            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                c.send(reply);
            }
        };
    }

    private InetSocketAddress listen(ServerLifecycleReceiver server, ReadBufferSize size) throws Exception {
        CompletableFuture<InetSocketAddress> listening = new CompletableFuture<>();
        TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
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
                return TcpConnection.server(Loopback.SERVE, socket, server, size);
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        return Loopback.await(listening);
    }

    private void connect(InetSocketAddress server, Recorder client) {
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.getPort(), client);
    }

    /**
     * Port of lori _TestMute: a muted connection delivers nothing while the peer's answer waits in
     * its socket; closing it (a hard close, since it is muted) drops the held data undelivered.
     */
    @Test
    void mutedConnectionDeliversNothing() throws Exception {
        Server server = new Server() {
            @Override
            void started(TcpConnection c) {
                c.mute();
                c.send("send me some data that i won't ever read");
            }
        };
        InetSocketAddress address = listen(server, ReadBufferSize.DEFAULT);
        Recorder client = replying("it's sad that you won't ever read this");
        connect(address, client);
        client.until("sent 1"); // the answer is with the kernel
        TcpConnection c = Loopback.await(server.connection);
        Recorder.settle(c, () -> server.record("checkpoint"));
        c.execute(c::close);
        assertEquals(List.of("started", "sent 1", "checkpoint"), server.until("closed"));
        Recorder.settle(c, () -> { });
        assertEquals(List.of(), List.copyOf(server.events));
    }

    /**
     * Port of lori _TestUnmute: data held while muted is delivered after {@code unmute()}, and only
     * then.
     */
    @Test
    void unmuteDeliversTheHeldData() throws Exception {
        String answer = "i'm happy you will receive this";
        Server server = new Server() {
            @Override
            void started(TcpConnection c) {
                c.bufferUntil(BufferSize.of(answer.length()));
                c.mute();
                c.send("send me some data");
            }
        };
        InetSocketAddress address = listen(server, ReadBufferSize.DEFAULT);
        Recorder client = replying(answer);
        connect(address, client);
        client.until("sent 1");
        TcpConnection c = Loopback.await(server.connection);
        Recorder.settle(c, () -> {
            server.record("unmuting");
            c.unmute();
        });
        assertEquals(List.of("started", "sent 1", "unmuting"), server.until("received " + answer));
    }

    /**
     * Port of lori _TestMuteWithFullReadBuffer (regression for lori#324): muting in
     * {@code onReceived} when the read filled the buffer to its last byte holds the data instead of
     * closing, and after unmute all 1024 bytes arrive in order. The first mute only holds the
     * payload in the socket so that one read can fill the 256-byte buffer; the mute under test
     * happens at the first message whose read left no free tail, which the test checks it built.
     */
    @Test
    void muteWithAFullReadBufferHoldsTheDataAndResumes() throws Exception {
        Server server = new Server() {
            private boolean sawPing;
            private boolean mutedFull;
            private boolean muted;
            private int received;

            @Override
            void started(TcpConnection c) {
                record("bufferUntil " + c.bufferUntil(BufferSize.of(4)));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (muted) {
                    record("received while muted");
                }
                if (!sawPing) {
                    sawPing = true;
                    record("ping " + Loopback.text(data));
                    c.send("ACK!");
                    c.mute(); // scaffolding: hold the payload in the socket
                    return;
                }
                byte[] bytes = data.toArray(ValueLayout.JAVA_BYTE);
                for (byte b : bytes) {
                    if (b != (byte) (received % 256)) {
                        record("byte " + received + " out of order");
                    }
                    received++;
                }
                if (!mutedFull && freeTail(c) == 0) {
                    mutedFull = true;
                    muted = true;
                    record("muted with a full buffer after " + received + " bytes");
                    c.mute();
                    c.execute(() -> {
                        muted = false;
                        c.unmute();
                    });
                }
                if (received == 1024) {
                    record("all 1024 in order");
                }
            }
        };
        InetSocketAddress address = listen(server, ReadBufferSize.of(256));
        byte[] payload = new byte[1024];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        Recorder client = new Recorder() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.send("PING");
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                record("payload token " + c.send(payload));
            }
        };
        connect(address, client);
        client.until("payload token SendToken[id=2]");
        assertEquals("sent 2", client.next()); // the payload is with the kernel
        TcpConnection c = Loopback.await(server.connection);
        Recorder.settle(c, () -> {
            server.record("unmuting");
            c.unmute();
        });
        List<String> events = server.until("all 1024 in order");
        assertEquals(List.of("started", "bufferUntil SET", "ping PING", "sent 1", "unmuting"), events.subList(0, 5));
        assertEquals(6, events.size(), events::toString);
        assertTrue(events.get(5).startsWith("muted with a full buffer after "), events::toString);
        Recorder.settle(c, () -> server.record("still open: " + c.isOpen()));
        assertEquals("still open: true", server.next());
    }

    /**
     * Port of lori _TestMuteFromOnSent: a mute from {@code onSent} (of a send made in
     * {@code onStarted}, before any read) takes effect before the first read.
     */
    @Test
    void muteFromOnSentTakesEffectBeforeTheFirstRead() throws Exception {
        String answer = "the muted server will not read this";
        Server server = new Server() {
            @Override
            void started(TcpConnection c) {
                c.bufferUntil(BufferSize.of(answer.length()));
                c.send("ask");
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                super.onSent(c, token);
                c.mute();
            }
        };
        InetSocketAddress address = listen(server, ReadBufferSize.DEFAULT);
        Recorder client = replying(answer);
        connect(address, client);
        client.until("sent 1");
        TcpConnection c = Loopback.await(server.connection);
        Recorder.settle(c, () -> {
            server.record("unmuting");
            c.unmute();
        });
        assertEquals(List.of("started", "sent 1", "unmuting"), server.until("received " + answer));
        assertFalse(server.events.contains("closed"));
    }

    /** {@return how many bytes the buffer has free behind its unprocessed data, without moving it} */
    static long freeTail(TcpConnection c) {
        return c.readBufferFreeTail();
    }
}
