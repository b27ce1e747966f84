package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** A client and an echo server on loopback exchange data and close cleanly. */
@ExtendWith(FdLeakCheck.class)
class EchoSmokeTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    @org.junit.jupiter.api.RepeatedTest(5)
    void clientSendsAndGetsItsBytesBack() throws Exception {
        Loopback.Started server = Loopback.listen(group, socket -> Loopback.echo());
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        StringBuilder received = new StringBuilder();
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(),
                new ClientLifecycleReceiver() {
                    @Override
                    public void onConnecting(TcpConnection c, int inflight) {
                        events.add("connecting " + inflight);
                    }

                    @Override
                    public void onConnected(TcpConnection c) {
                        events.add("connected");
                        assertInstanceOf(SendToken.class, c.send("hello, "));
                        assertInstanceOf(SendToken.class, c.send(java.util.List.of("lori", "-", "ffm".getBytes())));
                    }

                    @Override
                    public void onSent(TcpConnection c, SendToken token) {
                        events.add("sent " + token.id());
                    }

                    @Override
                    public void onReceived(TcpConnection c, MemorySegment data) {
                        received.append(Loopback.text(data));
                        if (received.length() == "hello, lori-ffm".length()) {
                            events.add("got " + received);
                            c.close();
                        }
                    }

                    @Override
                    public void onClosed(TcpConnection c) {
                        events.add("closed");
                    }

                    @Override
                    public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                        events.add("failure " + reason + " " + c.failureDetail());
                    }
                });
        assertEquals("connecting 1", Loopback.poll(events));
        assertEquals("connected", Loopback.poll(events));
        assertEquals("sent 1", Loopback.poll(events));
        assertEquals("sent 2", Loopback.poll(events));
        assertEquals("got hello, lori-ffm", Loopback.poll(events));
        assertEquals("closed", Loopback.poll(events));
        server.listener().close();
        assertEquals("closed", Loopback.poll(server.events()));
    }
}
