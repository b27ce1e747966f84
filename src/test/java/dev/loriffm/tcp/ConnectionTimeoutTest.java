package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ports of the plaintext tests of lori's {@code _test_connection_timeout.pony}. lori gets a peer
 * that never answers from 192.0.2.1; here it is a {@link SilentPeer}: a real loopback listener
 * whose full accept queue makes the kernel drop our SYN, so the attempt stays in SYN-SENT (real
 * sockets, no fake backend).
 */
@ExtendWith(FdLeakCheck.class)
class ConnectionTimeoutTest {
    private static final ConnectionTimeout LONG = new ConnectionTimeout(30_000);

    private EventLoopGroup group;

    @BeforeAll
    static void warmUp() throws Exception {
        ConnectionFakes.warmUpJdkSockets();
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
     * Port of lori _TestConnectionTimeoutFires: an attempt the peer never answers fails with
     * TIMEOUT when the connection timeout elapses, never connecting; the attempt's socket is closed.
     */
    @Test
    void connectionTimeoutFiresWhenThePeerNeverAnswers() throws Exception {
        try (SilentPeer peer = SilentPeer.open()) {
            // The precondition the test stands on: a plain connect to the peer does not complete.
            try (SocketChannel probe = SocketChannel.open()) {
                probe.configureBlocking(false);
                assertFalse(probe.connect(peer.address()), "connected to the silent peer at once");
                assertFalse(probe.finishConnect(), "the silent peer answered");
            }
            var client = new ConnectionFakes.Log();
            TcpConnection c = TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", peer.port(), client,
                    ClientOptions.DEFAULT.withConnectionTimeout(new ConnectionTimeout(300)));
            client.expect("connecting 1", "failure TIMEOUT");
            client.expectBeforeMarker(c.loop());
            String detail = ConnectionFakes.onLoop(c.loop(), c::failureDetail);
            assertTrue(detail.contains("timeout"), detail);
        }
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }

    /**
     * Port of lori _TestConnectionTimeoutCancelledOnConnect: a connection that connects within its
     * timeout is connected and works normally: data flows and it closes with onClosed, never with a
     * timeout failure.
     */
    @Test
    void connectionTimeoutDoesNotAffectAConnectedConnection() throws Exception {
        Loopback.Started server = Loopback.listen(group, socket -> Loopback.echo());
        var client = new ConnectionFakes.Log() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.send("echo");
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                c.close();
            }
        };
        TcpConnection.client(Loopback.CONNECT, group.next(), "localhost", server.address().getPort(), client,
                ClientOptions.DEFAULT.withConnectionTimeout(LONG));
        client.expect("connecting 1", "connected", "sent 1", "received echo", "closed");
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }

    /**
     * Port of lori _TestCloseWhileConnectingWithTimeout: close() while connecting with a timeout
     * armed fails with TCP, not TIMEOUT.
     */
    @Test
    void closeWhileConnectingWithATimeoutFailsWithTcp() throws Exception {
        closeWhileConnecting(false);
    }

    /**
     * Port of lori _TestHardCloseWhileConnectingWithTimeout: hardClose() while connecting with a
     * timeout armed fails with TCP, not TIMEOUT.
     */
    @Test
    void hardCloseWhileConnectingWithATimeoutFailsWithTcp() throws Exception {
        closeWhileConnecting(true);
    }

    private void closeWhileConnecting(boolean hard) throws Exception {
        Loopback.Started server = Loopback.listen(group, socket -> new ConnectionFakes.Log());
        var client = new ConnectionFakes.Log() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                super.onConnecting(c, inflight);
                if (hard) {
                    c.hardClose();
                } else {
                    c.close();
                }
            }
        };
        TcpConnection c = TcpConnection.client(Loopback.CONNECT, group.next(), "localhost",
                server.address().getPort(), client, ClientOptions.DEFAULT.withConnectionTimeout(LONG));
        client.expect("connecting 1", "failure TCP");
        client.expectBeforeMarker(c.loop());
    }

    /**
     * Beyond lori (a documented difference): the timeout also covers name resolution, which runs
     * off the loop and can hang. A resolution that never returns fails with TIMEOUT; when it
     * finally returns, nothing starts.
     */
    @Test
    void connectionTimeoutCoversAHangingResolution() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        backend.resolveGate = new CountDownLatch(1);
        var client = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, group.next(), client,
                ClientOptions.DEFAULT.withConnectionTimeout(new ConnectionTimeout(100)));
        client.expect("failure TIMEOUT");
        backend.resolveGate.countDown();
        ConnectionFakes.onLoop(c.loop(), () -> null);
        client.expectBeforeMarker(c.loop());
        assertEquals(1, backend.resolveCalls.get());
        assertEquals(List.of(), backend.attempts);
    }

    /**
     * Beyond lori: close() while the only attempt hangs in SYN-SENT waits for it (it may still
     * finish), so the connection timeout ends the wait, reported as TIMEOUT.
     */
    @Test
    void connectionTimeoutEndsACloseWaitingForAHangingAttempt() throws Exception {
        try (SilentPeer peer = SilentPeer.open()) {
            var client = new ConnectionFakes.Log() {
                @Override
                public void onConnecting(TcpConnection c, int inflight) {
                    super.onConnecting(c, inflight);
                    c.close();
                }
            };
            TcpConnection c = TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", peer.port(), client,
                    ClientOptions.DEFAULT.withConnectionTimeout(new ConnectionTimeout(300)));
            client.expect("connecting 1", "failure TIMEOUT");
            client.expectBeforeMarker(c.loop());
        }
    }
}
