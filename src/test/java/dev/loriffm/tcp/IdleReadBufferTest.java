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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An idle connection gives its read buffer back: after a read, once the buffer is empty and a
 * whole sweep period passes without a read, the loop frees it; the next read allocates it again
 * and data flows as before. This is what keeps 10,000 idle connections cheap.
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

    @Test
    void anIdleConnectionFreesItsReadBufferAndReallocatesItOnTheNextRead() throws Exception {
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        Loopback.Started server = Loopback.listen(group, socket -> new ServerLifecycleReceiver() {
            @Override
            public void onStarted(TcpConnection c) {
                accepted.complete(c);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                c.sendCopy(data);
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) { }
        });
        try (Socket client = new Socket("127.0.0.1", server.address().getPort())) {
            client.setSoTimeout((int) TimeUnit.SECONDS.toMillis(Loopback.WAIT_SECONDS));
            OutputStream out = client.getOutputStream();
            InputStream in = client.getInputStream();
            TcpConnection c = Loopback.await(accepted);
            out.write("one".getBytes(StandardCharsets.US_ASCII));
            assertEquals("one", new String(in.readNBytes(3), StandardCharsets.US_ASCII));
            // Polls a condition (no sleep decides the outcome): the sweep runs about once a second.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Loopback.WAIT_SECONDS);
            while (held(c)) {
                assertTrue(System.nanoTime() < deadline, "the idle read buffer was never freed");
                Thread.sleep(50);
            }
            out.write("two".getBytes(StandardCharsets.US_ASCII));
            assertEquals("two", new String(in.readNBytes(3), StandardCharsets.US_ASCII));
            assertTrue(held(c), "the read after the sweep allocated the buffer again");
        } finally {
            server.listener().close();
        }
    }
}
