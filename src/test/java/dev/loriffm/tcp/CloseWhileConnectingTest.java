package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Ports of lori's {@code _test_close_while_connecting.pony}: closing a client from
 * {@code onConnecting}, while its attempt is in flight to a listening server, fails the connection
 * (TCP: an attempt had started) and it never goes live. {@code onConnecting} runs in the same loop
 * task that started the attempt, so the close always precedes the attempt's result.
 */
@ExtendWith(FdLeakCheck.class)
class CloseWhileConnectingTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** Port of lori _TestHardCloseWhileConnecting: hardClose() while connecting fails at once; no onConnected. */
    @Test
    void hardCloseWhileConnectingFailsAndNeverConnects() throws Exception {
        closeFromOnConnecting(true);
    }

    /**
     * Port of lori _TestCloseWhileConnecting: close() while connecting waits for the attempt in
     * flight, which connects to the live server, and still fails instead of going live.
     */
    @Test
    void closeWhileConnectingFailsAndNeverConnects() throws Exception {
        closeFromOnConnecting(false);
    }

    private void closeFromOnConnecting(boolean hard) throws Exception {
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
                add("closed " + c.isClosed());
            }
        };
        TcpConnection c = TcpConnection.client(Loopback.CONNECT, group.next(), "localhost",
                server.address().getPort(), client);
        if (hard) {
            client.expect("connecting 1", "failure TCP", "closed true");
        } else {
            client.expect("connecting 1", "closed true", "failure TCP");
        }
        client.expectBeforeMarker(c.loop()); // no onConnected, no onClosed
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }
}
