package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Dns;
import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.loop.EventLoop;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import static dev.loriffm.tcp.ConnectionFakes.onLoop;
import static dev.loriffm.tcp.FakeBackend.address;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Happy Eyeballs beyond lori's tests: a client connects to every address its host resolves to
 * (lori's parallel mode), or, with {@link HappyEyeballs#RFC8305}, one attempt at a time with the
 * families interleaved. Driven by a fake backend whose attempts stay in flight until the test
 * reports their outcome. Nothing here measures RFC 8305's 250 ms stagger; the tests only rely on
 * the stagger timer never firing before the loop task that armed it has finished.
 */
@ExtendWith(FdLeakCheck.class)
class HappyEyeballsTest {
    private static final InetSocketAddress V4A = address("127.0.0.1", 7001);
    private static final InetSocketAddress V4B = address("127.0.0.2", 7002);
    private static final InetSocketAddress V4C = address("127.0.0.3", 7003);
    private static final InetSocketAddress V6A = address("::1", 7101);
    private static final InetSocketAddress V6B = address("::1", 7102);
    private static final InetSocketAddress V6C = address("::1", 7103);
    private static final ClientOptions RFC8305 = ClientOptions.DEFAULT.withHappyEyeballs(HappyEyeballs.RFC8305);

    private EventLoopGroup group;
    private EventLoop loop;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(1);
        loop = group.next();
    }

    @AfterEach
    void stop() {
        group.close();
    }

    // ------------------------------------------------------------------ parallel (lori's mode)

    /** Every failed attempt lowers the count onConnecting reports; when the last fails, TCP. */
    @Test
    void onConnectingCountsDownAsAttemptsFailAndTheLastFailureIsTcp() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(V4A, V6A, V4B);
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, loop, log, ClientOptions.DEFAULT);
        log.expect("connecting 3");
        int first = backend.nextAttempt();
        int second = backend.nextAttempt();
        int third = backend.nextAttempt();
        backend.refuse(second);
        log.expect("connecting 2");
        // SO_ERROR is checked first: a writeable attempt with a pending error has failed.
        backend.failWith(first, Errno.ETIMEDOUT);
        backend.connect(first);
        log.expect("connecting 1");
        backend.refuse(third);
        log.expect("failure TCP");
        log.expectBeforeMarker(c.loop());
        for (int fd : List.of(first, second, third)) {
            assertEquals(1, backend.closeCount(fd), "attempt " + fd + " closed once");
        }
        assertEquals(List.of("start 127.0.0.1:7001", "start 0:0:0:0:0:0:0:1:7101", "start 127.0.0.2:7002"),
                backend.startLog);
    }

    /**
     * The first attempt to connect wins; the others are closed before onConnected runs, and the
     * connection uses the winner's socket.
     */
    @Test
    void firstAttemptToConnectWinsAndTheOthersAreClosed() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(V4A, V6A, V4B);
        AtomicReference<List<Integer>> closedAtConnected = new AtomicReference<>();
        var log = new ConnectionFakes.Log() {
            @Override
            public void onConnected(TcpConnection c) {
                closedAtConnected.set(List.copyOf(backend.closed));
                super.onConnected(c);
                add("send " + c.send("hi"));
            }
        };
        ConnectionFakes.client(backend, loop, log, ClientOptions.DEFAULT);
        log.expect("connecting 3");
        int first = backend.nextAttempt();
        int winner = backend.nextAttempt();
        int third = backend.nextAttempt();
        backend.connect(winner);
        log.expect("connected", "send SendToken[id=1]", "sent 1");
        assertEquals(List.of(first, third), closedAtConnected.get(), "losers closed as soon as one won");
        assertEquals(List.of(winner), backend.sentOn, "data goes to the winner's socket");
        assertEquals(0, backend.closeCount(winner));
    }

    /** A failed resolution is DNS, and nothing is attempted. */
    @Test
    void resolutionFailureIsDnsWithoutAttempts() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        backend.dnsFailure = new Dns.Failed(-3, "EAI_AGAIN", "Temporary failure in name resolution");
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, loop, log, ClientOptions.DEFAULT);
        log.expect("failure DNS");
        log.expectBeforeMarker(c.loop());
        assertEquals(List.of(), backend.startLog);
    }

    /** Addresses whose attempt cannot even start are skipped; if none starts, the failure is DNS (lori). */
    @Test
    void attemptsThatCannotStartAreSkippedAndNoneStartingIsDns() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(V4A, V6A, V4B);
        backend.unstartable.add(V6A);
        var log = new ConnectionFakes.Log();
        ConnectionFakes.client(backend, loop, log, ClientOptions.DEFAULT);
        log.expect("connecting 2");

        var none = new ConnectionFakes.ConnectingBackend().resolvingTo(V4A, V6A);
        none.unstartable.addAll(List.of(V4A, V6A));
        var noneLog = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(none, loop, noneLog, ClientOptions.DEFAULT);
        noneLog.expect("failure DNS");
        noneLog.expectBeforeMarker(c.loop());
    }

    /**
     * Events for attempts that lost the race (stale readiness, as epoll may still deliver) change
     * nothing: no callback, no second close, and the connection keeps working on the winner.
     */
    @Test
    void attemptEventsAfterTheRaceAreHarmless() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(V4A, V6A, V4B);
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, loop, log, ClientOptions.DEFAULT);
        log.expect("connecting 3");
        int loser = backend.nextAttempt();
        int winner = backend.nextAttempt();
        int otherLoser = backend.nextAttempt();
        backend.connect(winner);
        log.expect("connected");
        backend.fireStale(loser, FakeBackend.WRITEABLE);
        backend.fireStale(otherLoser, FakeBackend.WRITEABLE | Epoll.EPOLLERR | Epoll.EPOLLHUP);
        log.expectBeforeMarker(c.loop());
        assertEquals(1, backend.closeCount(loser));
        assertEquals(1, backend.closeCount(otherLoser));
        assertEquals(new SendToken(1), onLoop(c.loop(), () -> c.send("still works")));
        assertEquals(List.of(winner), backend.sentOn);

        // After the connection closed too.
        c.execute(c::hardClose);
        log.expect("sent 1", "closed");
        backend.fireStale(loser, FakeBackend.WRITEABLE);
        backend.fireStale(winner, FakeBackend.READABLE);
        log.expectBeforeMarker(c.loop());
        assertEquals(1, backend.closeCount(loser));
        assertEquals(1, backend.closeCount(winner));
    }

    /** Attempt events after the connection failed (every attempt refused) change nothing either. */
    @Test
    void attemptEventsAfterAFailureAreHarmless() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(V4A, V6A);
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, loop, log, ClientOptions.DEFAULT);
        log.expect("connecting 2");
        int first = backend.nextAttempt();
        int second = backend.nextAttempt();
        backend.refuse(first);
        backend.refuse(second);
        log.expect("connecting 1", "failure TCP");
        backend.fireStale(first, FakeBackend.WRITEABLE);
        backend.fireStale(second, FakeBackend.WRITEABLE | Epoll.EPOLLERR);
        log.expectBeforeMarker(c.loop());
        assertEquals(1, backend.closeCount(first));
        assertEquals(1, backend.closeCount(second));
    }

    /** A readiness event that is neither writeable nor an error leaves the attempt in flight. */
    @Test
    void anUndecidedAttemptEventChangesNothing() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, loop, log, ClientOptions.DEFAULT);
        log.expect("connecting 1");
        int fd = backend.nextAttempt();
        backend.fire(fd, FakeBackend.READABLE);
        log.expectBeforeMarker(c.loop());
        assertEquals(0, backend.closeCount(fd));
        backend.connect(fd);
        log.expect("connected");
    }

    // ------------------------------------------------------------------ RFC 8305

    /** RFC 8305 §4: families alternate, starting with the resolver's first choice; order within a family is kept. */
    @Test
    void interleaveFamiliesAlternatesStartingWithTheFirstFamily() {
        assertEquals(List.of(V6A, V4A, V6B, V4B, V6C),
                HappyEyeballsAttempts.interleaveFamilies(List.of(V6A, V6B, V6C, V4A, V4B)));
        assertEquals(List.of(V4A, V6A, V4B, V6B, V4C),
                HappyEyeballsAttempts.interleaveFamilies(List.of(V4A, V4B, V4C, V6A, V6B)));
        assertEquals(List.of(V4A, V6A, V4B, V6B),
                HappyEyeballsAttempts.interleaveFamilies(List.of(V4A, V6A, V4B, V6B)));
        assertEquals(List.of(V4B, V4A), HappyEyeballsAttempts.interleaveFamilies(List.of(V4B, V4A)));
        assertEquals(List.of(V6A), HappyEyeballsAttempts.interleaveFamilies(List.of(V6A)));
        assertEquals(List.of(), HappyEyeballsAttempts.interleaveFamilies(List.of()));
    }

    /**
     * RFC 8305 starts a single attempt: when onConnecting first runs (in the loop task that started
     * the attempts, before any stagger timer can fire) exactly one attempt exists.
     */
    @Test
    void rfc8305StartsWithASingleAttempt() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(V6A, V6B, V4A, V4B);
        var log = new ConnectionFakes.Log() {
            private boolean first = true;

            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                if (first) {
                    first = false;
                    add("first report " + inflight + " with " + backend.startLog);
                }
            }
        };
        ConnectionFakes.client(backend, loop, log, RFC8305);
        log.expect("first report 1 with [start 0:0:0:0:0:0:0:1:7101]");
    }

    /**
     * When the attempt in flight fails, the next address starts at once, in the same loop task as
     * the failure, and the number in flight stays what it was (one, unless the stagger timer
     * already added another): only one attempt at a time until the previous fails.
     */
    @Test
    void rfc8305StartsTheNextAttemptAsSoonAsOneFails() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(V6A, V6B, V6C, V4A, V4B, V4C);
        var log = new ConnectionFakes.Log();
        ConnectionFakes.client(backend, loop, log, RFC8305);
        log.expect("connecting 1");
        int first = backend.nextAttempt();
        CompletableFuture<Integer> startsBefore = new CompletableFuture<>();
        loop.execute(() -> {
            // One loop task: the failure, and whatever it starts and reports.
            startsBefore.complete(backend.startLog.size());
            log.add("failing the first attempt");
            backend.failWith(first, Errno.ECONNREFUSED);
            backend.handlerOf(first).onIo(first, FakeBackend.WRITEABLE | Epoll.EPOLLERR | Epoll.EPOLLHUP);
            log.add("started by the failure " + backend.startLog.subList(startsBefore.join(), backend.startLog.size()));
        });
        int before = Loopback.await(startsBefore);
        assumeTrue(before < 6, "the stagger timer started every attempt before the failure (very slow machine)");
        while (!log.next().equals("failing the first attempt")) {
            // Reports of attempts the stagger timer started.
        }
        // Interleaved order: ::1:7101, 127.0.0.1:7001, ::1:7102, 127.0.0.2:7002, ...
        List<String> order = List.of("start 0:0:0:0:0:0:0:1:7101", "start 127.0.0.1:7001",
                "start 0:0:0:0:0:0:0:1:7102", "start 127.0.0.2:7002", "start 0:0:0:0:0:0:0:1:7103",
                "start 127.0.0.3:7003");
        // As many in flight after as before (1 - 1 + 1 when no stagger timer fired yet).
        log.expect("connecting " + before, "started by the failure [" + order.get(before) + "]");
        assertEquals(order.subList(0, backend.startLog.size()), backend.startLog);
    }

    /**
     * With RFC 8305, addresses are tried with families interleaved (whatever starts them: a failure
     * or the stagger timer), and when every attempt failed the connection fails with TCP.
     */
    @Test
    void rfc8305TriesFamiliesInterleavedAndFailsWithTcpWhenAllFail() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(V6A, V6B, V6C, V4A);
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, loop, log, RFC8305);
        List<Integer> fds = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int fd = backend.nextAttempt();
            fds.add(fd);
            backend.refuse(fd);
        }
        String e;
        while (!(e = log.next()).startsWith("failure")) {
            assertTrue(e.startsWith("connecting "), e);
        }
        assertEquals("failure TCP", e);
        log.expectBeforeMarker(c.loop());
        assertEquals(List.of("start 0:0:0:0:0:0:0:1:7101", "start 127.0.0.1:7001", "start 0:0:0:0:0:0:0:1:7102",
                "start 0:0:0:0:0:0:0:1:7103"), backend.startLog);
        for (int fd : fds) {
            assertEquals(1, backend.closeCount(fd));
        }
    }

    /** With RFC 8305, an address whose attempt cannot start is skipped at once for the next one. */
    @Test
    void rfc8305SkipsAnAddressThatCannotStart() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(V4A, V4B, V4C);
        backend.unstartable.add(V4B);
        var log = new ConnectionFakes.Log();
        ConnectionFakes.client(backend, loop, log, RFC8305);
        log.expect("connecting 1");
        int first = backend.nextAttempt();
        backend.refuse(first);
        int third = backend.nextAttempt();
        assertEquals(V4C, backend.targets.get(third));
        assertTrue(backend.startLog.contains("refused 127.0.0.2:7002"), backend.startLog.toString());
        backend.connect(third);
        String e;
        while (!(e = log.next()).equals("connected")) {
            assertTrue(e.startsWith("connecting "), e);
        }
    }

    /**
     * With RFC 8305, once an attempt wins no further attempt starts: the stagger timer is cancelled.
     * Checked with a loop timer set to twice the stagger after the win: timers fire in deadline
     * order, so a stagger timer left armed would have fired before it.
     */
    @Test
    void rfc8305StartsNothingAfterAWin() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend().resolvingTo(V6A, V4A, V6B, V4B);
        var log = new ConnectionFakes.Log() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                int starts = backend.startLog.size();
                ((Reactor) c.loop()).schedule(2 * ClientOptions.RFC8305_ATTEMPT_DELAY_MS * 1_000_000L,
                        () -> add("starts after the stagger: " + (backend.startLog.size() - starts)));
            }
        };
        ConnectionFakes.client(backend, loop, log, RFC8305);
        log.expect("connecting 1");
        int winner = backend.nextAttempt();
        backend.connect(winner);
        String e;
        while (!(e = log.next()).equals("connected")) {
            assertTrue(e.startsWith("connecting "), e);
        }
        log.expect("starts after the stagger: 0");
        for (int fd : backend.attempts) {
            assertEquals(fd == winner ? 0 : 1, backend.closeCount(fd), "attempt " + fd);
        }
    }
}
