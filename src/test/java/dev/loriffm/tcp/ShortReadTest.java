package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A read that returns less than it asked for ends the read turn without the {@code recv} that
 * would only say EAGAIN. That must never lose the end of the stream: bytes and FIN arriving
 * together (one epoll edge) are delivered, then the connection closes, every time.
 */
@ExtendWith(FdLeakCheck.class)
class ShortReadTest {
    private EventLoopGroup group;

    @BeforeAll
    static void warmUpJdkSockets() throws Exception {
        JdkPeer.warmUp();
    }

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(1);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    @Test
    void bytesFollowedAtOnceByFinAreDeliveredThenTheConnectionCloses() throws Exception {
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        Loopback.Started server = Loopback.listen(group, socket -> new ServerLifecycleReceiver() {
            private final StringBuilder received = new StringBuilder();

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                received.append(Loopback.text(data));
            }

            @Override
            public void onClosed(TcpConnection c) {
                events.add(received + " then closed");
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) { }
        });
        int connections = 50; // the edge carrying FIN is shared with the data's on most of them
        try {
            for (int i = 0; i < connections; i++) {
                String message = "message " + i;
                try (Socket client = new Socket("127.0.0.1", server.address().getPort())) {
                    OutputStream out = client.getOutputStream();
                    out.write(message.getBytes(StandardCharsets.US_ASCII));
                    client.shutdownOutput(); // FIN right behind the bytes
                    assertEquals(message + " then closed", Loopback.poll(events), "connection " + i);
                }
            }
        } finally {
            server.listener().close();
        }
    }
}
