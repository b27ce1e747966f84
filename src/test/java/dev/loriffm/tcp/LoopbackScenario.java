package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The harness the timer-driven loopback tests share: a two-loop group per test, one accepted server
 * connection whose receiver records events, a client that connects and stays silent, and an ordered
 * check of the recorded events. Tests that must show an event did not happen compare it against a
 * later marker timer, so nothing here waits on elapsed time.
 */
@ExtendWith(FdLeakCheck.class)
abstract class LoopbackScenario {
    final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    EventLoopGroup group;

    @BeforeEach
    void startGroup() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stopGroup() {
        group.close();
    }

    static TimerDuration ms(long millis) {
        return new TimerDuration(millis);
    }

    static Reactor reactor(TcpConnection c) {
        return (Reactor) c.loop();
    }

    void record(String event) {
        events.add(event);
    }

    /** {@return the next recorded event, waiting a bounded time for it} */
    String next() throws InterruptedException {
        return Loopback.poll(events);
    }

    /** Takes the next events, in order, and checks each is the expected one. */
    void expect(String... expected) throws InterruptedException {
        for (String e : expected) {
            assertEquals(e, next());
        }
    }

    /** Listens on loopback, handing every accepted connection {@code receiver}. {@return the port} */
    int serve(ServerLifecycleReceiver receiver) throws Exception {
        return Loopback.listen(group, socket -> receiver).address().getPort();
    }

    void connect(int port, ClientLifecycleReceiver receiver) {
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, receiver);
    }

    /** A server connection that records a start failure (one accepted connection per test). */
    class Server implements ServerLifecycleReceiver {
        @Override
        public void onStartFailure(TcpConnection c, StartFailure reason) {
            record("start failure " + reason);
        }
    }

    /** A client that connects and does nothing else, recording a connection failure. */
    class SilentClient implements ClientLifecycleReceiver {
        @Override
        public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
            record("connection failure " + reason + " " + c.failureDetail());
        }
    }
}
