package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;

import static dev.loriffm.tcp.ConnectionFakes.onLoop;
import static dev.loriffm.tcp.FakeBackend.READABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A read buffer that grows past the loop's shared receive area inside {@code onReceived} keeps
 * reading in the same turn, into its own memory. Regression for a bug {@code ReadPathFuzzTest}
 * found: the next window of that turn was cut from the lent 64 KiB area at the new size, and
 * {@code IndexOutOfBoundsException} escaped into the loop (the corpus input
 * {@code minimum-above-receive-area-from-onReceived} replays the fuzzer's sequence).
 */
@ExtendWith(FdLeakCheck.class)
class ReceiveAreaGrowthTest {
    private static final int ABOVE_THE_AREA = Reactor.RECEIVE_AREA_BYTES + 1000;
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(1);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** Fails without the fix in {@code ReadBuffer.window()}: "BB" never comes (the loop caught the exception). */
    @Test
    void minimumRaisedAboveTheAreaInOnReceivedKeepsReadingThatTurn() throws Exception {
        // The first read fills the 4-byte window, so the loop reads again in the same turn.
        var backend = new ConnectionFakes.ServingBackend(1).script("AAAA", "BB");
        var log = new ConnectionFakes.Log() {
            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                c.setReadBufferMinimum(ReadBufferSize.of(ABOVE_THE_AREA));
            }
        };
        TcpListener.create(backend, Loopback.LISTEN, group, "fake-host", 12345, new ListenerReceiver() {
            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                throw new AssertionError("fake listen failed: " + failure);
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return TcpConnection.server(Loopback.SERVE, socket, log, ReadBufferSize.of(4));
            }
        }, IpVersion.DUAL_STACK, MaxSpawn.DEFAULT);
        log.expect("started");
        backend.fire(backend.accepted.getFirst(), READABLE);
        log.expect("received AAAA", "received BB");
        log.expectBeforeMarker(log.connection.loop());
        assertEquals(0, ConnectionFakes.callbackFailures(group), "no exception escaped into the loop");
        assertEquals(ABOVE_THE_AREA, (int) onLoop(log.connection.loop(), log.connection::readBufferSize));
    }
}
