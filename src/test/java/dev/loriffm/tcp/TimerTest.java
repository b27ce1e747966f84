package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.loop.EventLoop;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one-shot user timer ({@code setTimer}, {@code cancelTimer}, {@code onTimer}) on real loopback
 * connections: lori's plaintext {@code _test_timer.pony}, plus the failure paths the loop's timer
 * limit reaches ({@code onTimerFailure}, {@link ConnectionFailure#TIMER_ERROR}).
 *
 * <p>Timers are short and nothing is judged by elapsed time. An event that must not happen is
 * checked against a later marker on the same loop's timer heap (a longer timer), which fires
 * strictly after any earlier deadline: the events then arrive in a fixed order or the test fails.
 */
class TimerTest extends LoopbackScenario {

    /** Port of lori _TestTimerFires: the timer fires once, with the token {@code setTimer} returned. */
    @Test
    void timerFiresWithTheTokenSetTimerReturned() throws Exception {
        TimerToken[] set = new TimerToken[1];
        TimerToken[] fired = new TimerToken[1];
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                SetTimerResult r = c.setTimer(ms(100));
                record("set " + describe(r));
                set[0] = r instanceof TimerToken t ? t : null;
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                fired[0] = token;
                record("timer " + token.id());
            }
        });
        connect(port, new SilentClient());
        expect("set token 1", "timer 1"); // ids start at 1 per connection (lori's start at 0)
        assertEquals(set[0], fired[0]);
    }

    /**
     * Port of lori _TestTimerCancel: a cancelled timer never fires and a second cancel is a no-op.
     * Marker: a longer timer set after the cancel (accepted: the slot is free) fires alone.
     */
    @Test
    void cancelledTimerNeverFires() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                Reactor loop = reactor(c);
                int before = loop.pendingTimers();
                SetTimerResult first = c.setTimer(ms(100));
                record("set " + describe(first) + ", pending +" + (loop.pendingTimers() - before));
                c.cancelTimer((TimerToken) first);
                record("cancelled, pending +" + (loop.pendingTimers() - before));
                c.cancelTimer((TimerToken) first);
                record("cancelled again, pending +" + (loop.pendingTimers() - before));
                record("marker " + describe(c.setTimer(ms(300))));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer " + token.id());
            }
        });
        connect(port, new SilentClient());
        expect("set token 1, pending +1", "cancelled, pending +0", "cancelled again, pending +0", "marker token 2",
                "timer 2");
    }

    /**
     * Port of lori _TestTimerNotResetByIO: reads do not postpone the user timer. The client sends a
     * 4-byte ping every 20 ms until the server's 300 ms timer fires, so traffic never pauses while it
     * runs: a timer reset by I/O would never fire. Generously, only two pings must arrive first.
     */
    @Test
    void timerIsNotPostponedByTraffic() throws Exception {
        int port = serve(new Server() {
            int pingsSinceSet = -1;

            @Override
            public void onStarted(TcpConnection c) {
                c.bufferUntil(BufferSize.of(4));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (pingsSinceSet < 0) {
                    record("first ping, set " + describe(c.setTimer(ms(300))));
                }
                pingsSinceSet++;
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer after pings: " + pingsSinceSet);
                c.send("stop");
            }
        });
        connect(port, new SilentClient() {
            boolean stopped;

            @Override
            public void onConnected(TcpConnection c) {
                ping(c);
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                if (!stopped) {
                    ping(c);
                }
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                stopped = true;
            }

            private void ping(TcpConnection c) {
                c.send("ping");
                c.setTimer(ms(20));
            }
        });
        expect("first ping, set token 1");
        String fired = next();
        assertTrue(fired.startsWith("timer after pings: "), fired);
        int pings = Integer.parseInt(fired.substring("timer after pings: ".length()));
        assertTrue(pings >= 2, "the timer fired while pings kept arriving (" + pings + " since it was set)");
    }

    /**
     * Port of lori _TestSetTimerNotOpen: {@code setTimer} is refused before the connection is open
     * (while connecting) and after it closed; {@code cancelTimer} works in any state.
     */
    @Test
    void setTimerIsRefusedUnlessOpen() throws Exception {
        int port = serve(new Server());
        connect(port, new SilentClient() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                c.cancelTimer(new TimerToken(1));
                record("connecting: " + describe(c.setTimer(ms(50))));
            }

            @Override
            public void onConnected(TcpConnection c) {
                c.hardClose();
                record("closed: " + describe(c.setTimer(ms(50))));
                c.cancelTimer(new TimerToken(1));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer " + token.id());
            }
        });
        expect("connecting: NOT_OPEN", "closed: NOT_OPEN");
    }

    /**
     * Port of lori _TestSetTimerAlreadyActive: a second {@code setTimer} while one is active is
     * refused (no token is silently replaced); after a cancel, a new timer is accepted and fires.
     */
    @Test
    void secondTimerIsRefusedWhileOneIsActive() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                SetTimerResult first = c.setTimer(ms(10_000));
                record("first " + describe(first));
                record("second " + describe(c.setTimer(ms(100))));
                c.cancelTimer((TimerToken) first);
                record("after cancel " + describe(c.setTimer(ms(100))));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer " + token.id());
            }
        });
        connect(port, new SilentClient());
        expect("first token 1", "second ALREADY_ACTIVE", "after cancel token 2", "timer 2");
    }

    /**
     * Port of lori _TestTimerRearmFromCallback: the token is cleared before {@code onTimer}, so the
     * callback can set the next timer, which fires in turn.
     */
    @Test
    void timerCanBeSetAgainFromItsCallback() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                c.setTimer(ms(50));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer " + token.id());
                if (token.id() == 1) {
                    record("re-arm " + describe(c.setTimer(ms(50))));
                }
            }
        });
        connect(port, new SilentClient());
        expect("timer 1", "re-arm token 2", "timer 2");
    }

    /**
     * Port of lori _TestTimerCancelWrongToken: cancelling with a stale token leaves the active timer
     * alone. The stale timer's deadline is the earlier one, so had it survived it would fire first.
     */
    @Test
    void staleTokenDoesNotCancelTheActiveTimer() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                TimerToken stale = (TimerToken) c.setTimer(ms(100));
                c.cancelTimer(stale);
                record("active " + describe(c.setTimer(ms(200))));
                c.cancelTimer(stale);
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer " + token.id());
            }
        });
        connect(port, new SilentClient());
        expect("active token 2", "timer 2");
    }

    /**
     * Port of lori _TestTimerHardCloseCleanup: a hard close cancels the active timer (it leaves the
     * loop's heap at once). Marker: a longer task on the same heap runs with no {@code onTimer} first.
     */
    @Test
    void hardCloseCancelsTheTimer() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                Reactor loop = reactor(c);
                int before = loop.pendingTimers();
                record("set " + describe(c.setTimer(ms(100))) + ", pending +" + (loop.pendingTimers() - before));
                c.hardClose();
                record("after hard close, pending +" + (loop.pendingTimers() - before));
                loop.schedule(TimeUnit.MILLISECONDS.toNanos(300), () -> record("marker"));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer " + token.id());
            }

            @Override
            public void onClosed(TcpConnection c) {
                record("closed");
            }
        });
        connect(port, new SilentClient());
        expect("set token 1, pending +1", "closed", "after hard close, pending +0", "marker");
    }

    /** Port of lori _TestTimerSetDuringClosing: once {@code close()} began, {@code setTimer} is refused. */
    @Test
    void setTimerIsRefusedWhileClosing() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                c.close();
                record("closing " + c.isClosed() + ", open " + c.isOpen() + ": " + describe(c.setTimer(ms(50))));
            }
        });
        connect(port, new SilentClient());
        expect("closing true, open false: NOT_OPEN");
    }

    /**
     * Port of lori _TestTimerSurvivesClose: a timer set before {@code close()} still fires while the
     * connection is closing. The server mutes, so it never reads the client's FIN and never closes:
     * the client stays in Closing (no {@code onClosed} can come first).
     */
    @Test
    void timerSetBeforeCloseFiresWhileClosing() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                c.mute();
            }
        });
        connect(port, new SilentClient() {
            @Override
            public void onConnected(TcpConnection c) {
                record("set " + describe(c.setTimer(ms(100))));
                c.close();
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer " + token.id() + " while closing " + c.isClosed());
            }

            @Override
            public void onClosed(TcpConnection c) {
                record("closed");
            }
        });
        expect("set token 1", "timer 1 while closing true");
    }

    /**
     * A timer the loop refuses (its timer limit is reached) still returns a token, as lori's does,
     * and reports {@code onTimerFailure} after the calling callback returns; the failed timer is no
     * longer active, so the next {@code setTimer} is accepted and fires.
     */
    @Test
    void refusedTimerIsReportedToOnTimerFailure() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                Reactor loop = reactor(c);
                loop.setTimerLimit(loop.pendingTimers());
                try {
                    record("set " + describe(c.setTimer(ms(50))));
                } finally {
                    loop.setTimerLimit(Reactor.DEFAULT_TIMER_LIMIT);
                }
                record("onStarted returns");
            }

            @Override
            public void onTimerFailure(TcpConnection c) {
                record("timer failure");
                c.cancelTimer(new TimerToken(1)); // a no-op: nothing is active
                record("again " + describe(c.setTimer(ms(50))));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer " + token.id());
            }
        });
        connect(port, new SilentClient());
        expect("set token 1", "onStarted returns", "timer failure", "again token 2", "timer 2");
    }

    /**
     * A hard close stops every timer, including a refused one whose failure is not yet reported:
     * no {@code onTimerFailure} after {@code onClosed} (lori's hard close cancels the timer's event,
     * and its failure notification is then dropped). Marker: a later task on the same loop.
     */
    @Test
    void refusedTimerIsNotReportedAfterAHardClose() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                Reactor loop = reactor(c);
                loop.setTimerLimit(loop.pendingTimers());
                try {
                    record("set " + describe(c.setTimer(ms(50))));
                } finally {
                    loop.setTimerLimit(Reactor.DEFAULT_TIMER_LIMIT);
                }
                c.hardClose();
                loop.schedule(TimeUnit.MILLISECONDS.toNanos(100), () -> record("marker"));
            }

            @Override
            public void onTimerFailure(TcpConnection c) {
                record("timer failure");
            }

            @Override
            public void onClosed(TcpConnection c) {
                record("closed");
            }
        });
        connect(port, new SilentClient());
        expect("set token 1", "closed", "marker");
    }

    /**
     * {@code onTimerFailure} carries no token, so it must not arrive while a later timer is the
     * active one: here the application cancels the refused timer and sets another before the
     * failure is reported, and then only that timer's {@code onTimer} may follow (lori: the cancel
     * drops the refused timer's event and with it the failure).
     */
    @Test
    void refusedTimerIsNotReportedOnceALaterTimerReplacedIt() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                Reactor loop = reactor(c);
                loop.setTimerLimit(loop.pendingTimers());
                SetTimerResult refused;
                try {
                    refused = c.setTimer(ms(50));
                } finally {
                    loop.setTimerLimit(Reactor.DEFAULT_TIMER_LIMIT);
                }
                record("refused " + describe(refused));
                if (refused instanceof TimerToken token) {
                    c.cancelTimer(token);
                }
                record("replacement " + describe(c.setTimer(ms(100))));
            }

            @Override
            public void onTimerFailure(TcpConnection c) {
                record("timer failure");
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer " + token.id());
            }
        });
        connect(port, new SilentClient());
        expect("refused token 1", "replacement token 2", "timer 2");
    }

    /**
     * A client whose connection timeout cannot be armed (the loop's timer limit is reached) fails
     * with {@link ConnectionFailure#TIMER_ERROR} before it starts connecting (lori's
     * {@code ConnectionFailedTimerError}).
     */
    @Test
    void unarmableConnectionTimeoutFailsWithTimerError() throws Exception {
        int port = serve(new Server());
        EventLoop loop = group.next();
        CompletableFuture<Void> limited = new CompletableFuture<>();
        loop.execute(() -> {
            ((Reactor) loop).setTimerLimit(0);
            limited.complete(null);
        });
        Loopback.await(limited);
        ClientOptions options = ClientOptions.DEFAULT.withConnectionTimeout(new ConnectionTimeout(5_000));
        TcpConnection.client(Loopback.CONNECT, loop, "127.0.0.1", port, new SilentClient() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                record("connecting");
            }

            @Override
            public void onConnected(TcpConnection c) {
                record("connected");
            }

            @Override
            public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                ((Reactor) loop).setTimerLimit(Reactor.DEFAULT_TIMER_LIMIT);
                record("failure " + reason + ", closed " + c.isClosed());
            }
        }, options);
        expect("failure TIMER_ERROR, closed true");
        CompletableFuture<Void> marker = new CompletableFuture<>();
        loop.execute(() -> marker.complete(null)); // no resolution was started: nothing else can follow
        Loopback.await(marker);
        assertNull(events.poll());
    }

    /**
     * The longest duration is accepted and does not overflow into an immediate firing: a 100 ms
     * marker on the same heap runs first.
     */
    @Test
    void longestTimerIsAcceptedAndDoesNotFireEarly() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                record("set " + describe(c.setTimer(new TimerDuration(Durations.MAX_MILLIS))));
                reactor(c).schedule(TimeUnit.MILLISECONDS.toNanos(100), () -> record("marker"));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("timer " + token.id());
            }
        });
        connect(port, new SilentClient());
        expect("set token 1", "marker");
    }

    // ------------------------------------------------------------------ helpers

    private static String describe(SetTimerResult result) {
        return switch (result) {
            case TimerToken token -> "token " + token.id();
            case SetTimerError error -> error.name();
        };
    }
}
