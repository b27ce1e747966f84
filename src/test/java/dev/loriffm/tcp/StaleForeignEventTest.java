package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.IoHandler;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Dns;
import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A readiness event that reaches a connection for a Happy Eyeballs attempt it has already dealt
 * with is dropped: no second close of the fd, no second count of the attempt, and the close still
 * completes (lori's {@code _test_stale_foreign_event.pony}; lori#349/#352, where kqueue delivered
 * a second message for an attempt, double-closed its fd and drove the in-flight count below zero
 * so the graceful close never sent FIN).
 *
 * <p>The reactor already drops events for deregistered fds (by registration generation); these
 * tests hand the stale event straight to the connection's handler, as lori's test hands it to
 * {@code _event_notify}, so they check the connection itself.
 */
@ExtendWith(FdLeakCheck.class)
class StaleForeignEventTest {
    private static final int ALL_EVENTS = Epoll.EPOLLIN | Epoll.EPOLLOUT | Epoll.EPOLLERR | Epoll.EPOLLHUP;

    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(1);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /**
     * A client backend resolving to {@code count} addresses; every attempt stays in flight until the
     * test fires it. Handlers are kept after close so a stale event can still be delivered, and the
     * peer's FIN can be scripted.
     */
    static final class StaleEventBackend extends FakeBackend {
        private final int count;
        /** Attempt fds, in start order. */
        final BlockingQueue<Integer> attempts = new LinkedBlockingQueue<>();
        private final Map<Integer, IoHandler> everRegistered = new ConcurrentHashMap<>();
        private final Map<Integer, Integer> socketErrors = new ConcurrentHashMap<>();
        private volatile boolean peerClosed;

        StaleEventBackend(int count) {
            this.count = count;
        }

        @Override
        public Dns.Resolution resolve(String host, int port, IpVersion ipVersion, boolean passive) {
            List<InetSocketAddress> addresses = new ArrayList<>();
            for (int i = 1; i <= count; i++) {
                addresses.add(address("127.0.0." + i, port));
            }
            return new Dns.Resolved(addresses);
        }

        @Override
        public int startConnect(Reactor loop, InetSocketAddress target, InetSocketAddress from, IoHandler handler) {
            int fd = super.startConnect(loop, target, from, handler);
            everRegistered.put(fd, handler);
            attempts.add(fd);
            return fd;
        }

        @Override
        public int socketError(Reactor loop, int fd) {
            return socketErrors.getOrDefault(fd, 0);
        }

        @Override
        public long receive(Reactor loop, int fd, MemorySegment into) {
            return peerClosed ? 0 : -Errno.EAGAIN;
        }

        int nextAttempt() throws InterruptedException {
            return Loopback.poll(attempts);
        }

        void connect(int fd) {
            fire(fd, WRITEABLE);
        }

        void refuse(int fd) {
            socketErrors.put(fd, Errno.ECONNREFUSED);
            fire(fd, WRITEABLE | Epoll.EPOLLERR | Epoll.EPOLLHUP);
        }

        /** The peer sends FIN on {@code fd}. */
        void peerCloses(int fd) {
            peerClosed = true;
            fire(fd, READABLE | Epoll.EPOLLRDHUP);
        }

        /** Delivers {@code events} for {@code fd} to its handler even though the fd was closed. */
        void fireStale(int fd, int events) {
            IoHandler handler = everRegistered.get(fd);
            loops.get(fd).execute(() -> handler.onIo(fd, events));
        }

        int closeCount(int fd) {
            return Collections.frequency(closed, fd);
        }
    }

    private static TcpConnection client(StaleEventBackend backend, EventLoopGroup group, Recorder receiver) {
        return TcpConnection.client(backend, Loopback.CONNECT, group.next(), "fake-host", 7000, receiver,
                ClientOptions.DEFAULT);
    }

    /**
     * Port of lori _TestStaleForeignEventDropped: stale events for the losing attempt, delivered
     * after the race is decided (while open, and again while closing), change nothing, and the
     * graceful close still sends FIN and completes on the peer's FIN.
     */
    @Test
    void staleEventForTheLosingAttemptIsDroppedAndTheCloseCompletes() throws Exception {
        StaleEventBackend backend = new StaleEventBackend(2);
        Recorder receiver = new Recorder();
        TcpConnection c = client(backend, group, receiver);
        int winner = backend.nextAttempt();
        int loser = backend.nextAttempt();
        assertEquals("connecting 2", receiver.next());
        backend.connect(winner);
        assertEquals("connected", receiver.next());
        backend.fireStale(loser, ALL_EVENTS);
        c.execute(c::close);
        backend.fireStale(loser, ALL_EVENTS);
        Recorder.settle(c, () -> receiver.record("fin sent: " + backend.finished));
        assertEquals("fin sent: [" + winner + "]", receiver.next());
        backend.peerCloses(winner);
        assertEquals("closed", receiver.next());
        Recorder.settle(c, () -> { });
        assertTrue(receiver.events.isEmpty(), () -> "unexpected " + receiver.events);
        assertEquals(List.of(loser, winner), backend.closed, "each fd closed exactly once");
    }

    /** A stale event for the connection's own fd and for an attempt, after a hard close, does nothing. */
    @Test
    void staleEventsAfterAHardCloseAreDropped() throws Exception {
        StaleEventBackend backend = new StaleEventBackend(2);
        Recorder receiver = new Recorder();
        TcpConnection c = client(backend, group, receiver);
        int winner = backend.nextAttempt();
        int loser = backend.nextAttempt();
        backend.connect(winner);
        assertEquals(List.of("connecting 2"), receiver.until("connected"));
        c.execute(c::hardClose);
        assertEquals("closed", receiver.next());
        backend.fireStale(winner, ALL_EVENTS);
        backend.fireStale(loser, ALL_EVENTS);
        Recorder.settle(c, () -> { });
        assertTrue(receiver.events.isEmpty(), () -> "unexpected " + receiver.events);
        assertEquals(1, backend.closeCount(winner));
        assertEquals(1, backend.closeCount(loser));
    }

    /**
     * While a {@code close()} drains in-flight attempts, a second event for an attempt already
     * drained must not count as another one: the failure waits for the last real attempt and is
     * reported once.
     */
    @Test
    void staleEventWhileClosingUnconnectedDoesNotCountTwice() throws Exception {
        StaleEventBackend backend = new StaleEventBackend(3);
        Recorder receiver = new Recorder();
        TcpConnection c = client(backend, group, receiver);
        int a = backend.nextAttempt();
        int b = backend.nextAttempt();
        int last = backend.nextAttempt();
        assertEquals("connecting 3", receiver.next());
        c.execute(c::close);
        backend.refuse(a);
        backend.fireStale(a, ALL_EVENTS);
        backend.fireStale(a, ALL_EVENTS);
        backend.refuse(b);
        backend.fireStale(b, ALL_EVENTS);
        Recorder.settle(c, () -> receiver.record("checkpoint"));
        assertEquals("checkpoint", receiver.next(), "the last attempt is still in flight");
        backend.refuse(last);
        assertTrue(receiver.next().startsWith("failure TCP"));
        Recorder.settle(c, () -> { });
        assertTrue(receiver.events.isEmpty(), () -> "unexpected " + receiver.events);
        assertEquals(List.of(a, b, last), backend.closed, "each fd closed exactly once");
    }

    /**
     * While still connecting, a second event for an attempt that already failed must not close
     * its fd again nor count it again (lori#349's double delivery, before the race is decided).
     */
    @Test
    void staleEventForAFailedAttemptWhileConnectingIsDropped() throws Exception {
        StaleEventBackend backend = new StaleEventBackend(2);
        Recorder receiver = new Recorder();
        TcpConnection c = client(backend, group, receiver);
        int failed = backend.nextAttempt();
        int other = backend.nextAttempt();
        assertEquals("connecting 2", receiver.next());
        backend.refuse(failed);
        assertEquals("connecting 1", receiver.next());
        backend.fireStale(failed, ALL_EVENTS);
        Recorder.settle(c, () -> receiver.record("checkpoint"));
        assertEquals("checkpoint", receiver.next(), "a stale event is not another failed attempt");
        assertEquals(1, backend.closeCount(failed), "the failed attempt's fd is closed once");
        backend.connect(other);
        assertEquals("connected", receiver.next());
    }
}
