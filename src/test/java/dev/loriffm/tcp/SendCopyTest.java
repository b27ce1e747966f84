package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TcpConnection#sendCopy}: the caller may overwrite or free the buffer as soon as the call
 * returns, including when the kernel took only part of it, and the peer still receives exactly the
 * bytes it held at the call; echoing each received slice with it returns the stream intact.
 */
@ExtendWith(FdLeakCheck.class)
class SendCopyTest {
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

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void bytesTheKernelDidNotTakeSurviveTheCallerFreeingTheBuffer() throws Exception {
        byte[] payload = random(4 << 20, 1); // far more than a non-reading peer's socket buffers hold
        try (JdkPeer.Server peerServer = JdkPeer.listen(JdkPeer.TINY_RCVBUF)) {
            Recorder client = new Recorder() {
                @Override
                public void onConnected(TcpConnection c) {
                    SendResult first;
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment buffer = arena.allocate(payload.length);
                        MemorySegment.copy(payload, 0, buffer, ValueLayout.JAVA_BYTE, 0, payload.length);
                        first = c.sendCopy(buffer);
                        buffer.fill((byte) 0); // reuse at once: must not change what is sent
                    } // and free it: the queued tail must not point into it
                    record("first " + first);
                    record("second " + c.sendCopy(MemorySegment.ofArray(new byte[] {1})));
                }

                @Override
                public void onSent(TcpConnection c, SendToken token) {
                    super.onSent(c, token);
                    c.close();
                }
            };
            TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", peerServer.address().getPort(), client);
            try (JdkPeer peer = peerServer.accept()) {
                assertEquals("connecting 1", client.next());
                assertEquals("first SendToken[id=1]", client.next());
                // The peer is not reading, so the kernel took only part: the send is throttled.
                assertEquals("second NOT_WRITEABLE", client.next());
                byte[] received = peer.readExactly(payload.length);
                assertArrayEquals(payload, received);
                client.until("sent 1");
                assertEquals(0, peer.readToEnd(), "nothing after the payload: the refused send sent nothing");
                peer.shutdownOutput(); // answer our FIN, so the graceful close completes
                client.until("closed");
            }
        }
    }

    @Test
    void echoingEachReceivedSliceReturnsTheStreamIntact() throws Exception {
        byte[] payload = random(8 << 20, 2);
        Loopback.Started server = Loopback.listen(group, socket -> new ServerLifecycleReceiver() {
            // Reads that arrived while the client was not reading its echo; sent once unthrottled.
            private final ArrayDeque<byte[]> held = new ArrayDeque<>();

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (held.isEmpty() && c.sendCopy(data) instanceof SendToken) {
                    return;
                }
                held.addLast(data.toArray(ValueLayout.JAVA_BYTE));
                c.mute();
            }

            @Override
            public void onUnthrottled(TcpConnection c) {
                while (!held.isEmpty()) {
                    if (!(c.send(held.peekFirst()) instanceof SendToken)) {
                        return;
                    }
                    held.removeFirst();
                }
                c.unmute();
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) { }
        });
        try (JdkPeer client = JdkPeer.connect(server.address(), JdkPeer.TINY_RCVBUF)) {
            CompletableFuture<Void> written = client.writeInBackground(payload);
            byte[] echoed = client.readExactly(payload.length);
            Loopback.await(written);
            assertTrue(Arrays.equals(payload, echoed), "the echo differs from what was sent");
        } finally {
            server.listener().close();
        }
    }
}
