package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connections hold read memory of their own only for bytes left over after a read turn: a
 * streaming read is delivered from the loop's shared receive area and leaves nothing behind; a
 * partial frame moves to own memory, which the loop frees once it is empty and a whole sweep
 * period passes without use. This is what keeps 10,000 idle connections cheap.
 */
@ExtendWith(FdLeakCheck.class)
class IdleReadBufferTest {
    private EventLoopGroup group;

    @BeforeAll
    static void warmUpJdkSockets() throws Exception {
        JdkPeer.warmUp(); // the JDK's own lifelong descriptor exists before the leak check's snapshot
    }

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(1);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** {@return whether {@code c}'s read buffer holds memory, asked on its loop} */
    private static boolean held(TcpConnection c) throws Exception {
        CompletableFuture<Boolean> answer = new CompletableFuture<>();
        c.execute(() -> answer.complete(c.readBufferHeld()));
        return answer.get(Loopback.WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** {@return the server's connection, framed at 8 bytes, echoing every frame with sendCopy} */
    private static Loopback.Started framedEcho(EventLoopGroup group, CompletableFuture<TcpConnection> accepted)
            throws Exception {
        return Loopback.listen(group, socket -> new ServerLifecycleReceiver() {
            @Override
            public void onStarted(TcpConnection c) {
                c.bufferUntil(BufferSize.of(8));
                accepted.complete(c);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                c.sendCopy(data);
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) { }
        });
    }

    /** Polls (no sleep decides the outcome) until {@code c}'s own read memory is {@code wanted}. */
    private static void awaitHeld(TcpConnection c, boolean wanted, String failure) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Loopback.WAIT_SECONDS);
        while (held(c) != wanted) {
            assertTrue(System.nanoTime() < deadline, failure);
            Thread.sleep(20);
        }
    }

    @Test
    void whatIsLeftOfAReadMovesToOwnMemoryWhichTheSweepFreesOnceIdle() throws Exception {
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        Loopback.Started server = framedEcho(group, accepted);
        try (Socket client = new Socket("127.0.0.1", server.address().getPort())) {
            client.setSoTimeout((int) TimeUnit.SECONDS.toMillis(Loopback.WAIT_SECONDS));
            client.setTcpNoDelay(true);
            OutputStream out = client.getOutputStream();
            InputStream in = client.getInputStream();
            TcpConnection c = Loopback.await(accepted);
            assertFalse(held(c), "no memory before the first read");
            out.write(ascii("abcdefgh"));
            assertEquals("abcdefgh", text(in.readNBytes(8)));
            assertFalse(held(c), "a whole frame was delivered from the shared area: nothing left over");
            out.write(ascii("1234"));
            awaitHeld(c, true, "half a frame never moved to the connection's own memory");
            out.write(ascii("5678"));
            assertEquals("12345678", text(in.readNBytes(8)), "the frame joined across the two reads");
            awaitHeld(c, false, "the emptied own memory was never freed");
            out.write(ascii("ABCDEFGHIJKL"));
            out.write(ascii("MNOP"));
            assertEquals("ABCDEFGHIJKLMNOP", text(in.readNBytes(16)), "frames flow as before after the sweep");
        } finally {
            server.listener().close();
        }
    }

    @Test
    void manyConnectionsShareTheAreaWithoutMixingTheirBytes() throws Exception {
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        Loopback.Started server = framedEcho(group, accepted);
        int clients = 20;
        Socket[] sockets = new Socket[clients];
        try {
            for (int i = 0; i < clients; i++) {
                sockets[i] = new Socket("127.0.0.1", server.address().getPort());
                sockets[i].setSoTimeout((int) TimeUnit.SECONDS.toMillis(Loopback.WAIT_SECONDS));
                sockets[i].setTcpNoDelay(true);
            }
            // Every client sends half a frame first, so all twenty hold leftovers at once, then
            // the rest; each must get back exactly its own frames.
            for (int round = 0; round < 50; round++) {
                for (int i = 0; i < clients; i++) {
                    sockets[i].getOutputStream().write(ascii(String.format("%02d%02d", i, round % 100)));
                }
                for (int i = 0; i < clients; i++) {
                    sockets[i].getOutputStream().write(ascii(String.format("-%03d", round)));
                }
                for (int i = 0; i < clients; i++) {
                    String expected = String.format("%02d%02d-%03d", i, round % 100, round);
                    assertEquals(expected, text(sockets[i].getInputStream().readNBytes(8)));
                }
            }
        } finally {
            for (Socket socket : sockets) {
                if (socket != null) {
                    socket.close();
                }
            }
            server.listener().close();
        }
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.US_ASCII);
    }
}
