package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closing a group with live connections and a listener: everything reports closed, nothing leaks. */
@ExtendWith(FdLeakCheck.class)
class GroupShutdownTest {

    @Test
    void closingTheGroupClosesEveryConnectionAndListener() throws Exception {
        EventLoopGroup group = EventLoopGroup.create(2);
        BlockingQueue<String> serverEvents = new LinkedBlockingQueue<>();
        Loopback.Started server = Loopback.listen(group, socket -> new ServerLifecycleReceiver() {
            @Override
            public void onStarted(TcpConnection c) {
                serverEvents.add("started");
            }

            @Override
            public void onClosed(TcpConnection c) {
                serverEvents.add("closed");
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) {
                serverEvents.add("start failure");
            }
        });
        int clients = 5;
        CountDownLatch connected = new CountDownLatch(clients);
        CountDownLatch closed = new CountDownLatch(clients);
        for (int i = 0; i < clients; i++) {
            TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(),
                    new ClientLifecycleReceiver() {
                        @Override
                        public void onConnected(TcpConnection c) {
                            connected.countDown();
                        }

                        @Override
                        public void onClosed(TcpConnection c) {
                            closed.countDown();
                        }

                        @Override
                        public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                            throw new AssertionError("connection failed: " + reason);
                        }
                    });
        }
        assertTrue(connected.await(Loopback.WAIT_SECONDS, TimeUnit.SECONDS));
        for (int i = 0; i < clients; i++) {
            assertEquals("started", Loopback.poll(serverEvents));
        }
        group.close();
        assertEquals(0, closed.getCount(), "every client reported onClosed before close() returned");
        for (int i = 0; i < clients; i++) {
            assertEquals("closed", Loopback.poll(serverEvents));
        }
        assertEquals("closed", Loopback.poll(server.events()), "the listener reported onClosed");
    }
}
