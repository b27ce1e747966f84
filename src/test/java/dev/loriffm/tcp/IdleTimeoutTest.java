package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The idle timeout ({@code idleTimeout}, {@code onIdleTimeout}) on real loopback connections:
 * lori's plaintext {@code _test_idle_timeout.pony}, plus the value stored before connecting and the
 * failure path the loop's timer limit reaches ({@code onIdleTimerFailure}).
 *
 * <p>Timeouts are short and nothing is judged by elapsed time. What must not happen is checked
 * against a marker: a user timer with a later deadline on the same loop's timer heap, which fires
 * strictly after any earlier deadline. "Activity postpones the timeout" is shown the same way: the
 * marker's deadline falls between the deadline the timeout had and the one activity gave it.
 */
class IdleTimeoutTest extends LoopbackScenario {

    /** Port of lori _TestIdleTimeout: with no traffic at all, the idle timeout fires on an open connection. */
    @Test
    void idleTimeoutFiresOnAQuietConnection() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                c.idleTimeout(idle(100));
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                record("idle, open " + c.isOpen());
            }
        });
        connect(port, new SilentClient());
        expect("idle, open true");
    }

    /**
     * Port of lori _TestIdleTimeoutReset: received data postpones the timeout. The server sets a
     * 500 ms timeout and mutes, so the client's ping waits in the socket unread; 50 ms later it
     * unmutes (the ping is read at once) and sets a 475 ms marker. Without the reset the timeout
     * (due 500 ms after the start) precedes the marker (due at least 525 ms after it); with it, the
     * timeout is due 500 ms after the read, after the marker.
     */
    @Test
    void receivedDataPostponesTheIdleTimeout() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                c.mute();
                c.idleTimeout(idle(500));
                c.setTimer(ms(50));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                if (token.id() == 1) {
                    c.unmute();
                    c.setTimer(ms(475));
                    record("unmuted");
                } else {
                    record("marker");
                }
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                record("received " + Loopback.text(data));
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                record("idle");
            }
        });
        connect(port, new SilentClient() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send("ping");
            }
        });
        expect("unmuted", "received ping", "marker", "idle");
    }

    /**
     * Sent data postpones the timeout too (lori#300 counts writes as activity): the same order
     * argument as {@link #receivedDataPostponesTheIdleTimeout}, with a send 50 ms in.
     */
    @Test
    void sentDataPostponesTheIdleTimeout() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                c.idleTimeout(idle(500));
                c.setTimer(ms(50));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                if (token.id() == 1) {
                    record("send " + (c.send("x") instanceof SendToken ? "accepted" : "refused"));
                    c.setTimer(ms(475));
                } else {
                    record("marker");
                }
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                record("idle");
            }
        });
        connect(port, new SilentClient());
        expect("send accepted", "marker", "idle");
    }

    /**
     * Port of lori _TestIdleTimeoutDisable: {@code idleTimeout(null)} disables it (its timer leaves
     * the loop's heap at once). Marker: a user timer due after the timeout would have been.
     */
    @Test
    void disabledIdleTimeoutNeverFires() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                Reactor loop = reactor(c);
                int before = loop.pendingTimers();
                c.idleTimeout(idle(100));
                record("armed, pending +" + (loop.pendingTimers() - before));
                c.idleTimeout(null);
                record("disabled, pending +" + (loop.pendingTimers() - before));
                c.setTimer(ms(300));
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("marker");
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                record("idle");
            }
        });
        connect(port, new SilentClient());
        expect("armed, pending +1", "disabled, pending +0", "marker");
    }

    /** Port of lori _TestIdleTimeoutRearms: on a connection that stays quiet the timeout fires again and again. */
    @Test
    void idleTimeoutRearmsAfterFiring() throws Exception {
        int port = serve(new Server() {
            int fires;

            @Override
            public void onStarted(TcpConnection c) {
                c.idleTimeout(idle(50));
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                fires++;
                record("idle " + fires);
                if (fires == 3) {
                    c.idleTimeout(null);
                }
            }
        });
        connect(port, new SilentClient());
        expect("idle 1", "idle 2", "idle 3");
    }

    /**
     * Port of lori _TestIdleTimeoutNoRearmDuringClosing: once {@code close()} began, the timeout
     * does not re-arm. The server closes from the first firing, after setting a 300 ms marker (user
     * timers survive close). The client mutes and sends nothing, so it never answers the FIN: the
     * server stays in Closing (a hard close would cancel the timer for the wrong reason, and would
     * show as {@code onClosed}).
     */
    @Test
    void idleTimeoutDoesNotRearmWhileClosing() throws Exception {
        int port = serve(new Server() {
            int fires;

            @Override
            public void onStarted(TcpConnection c) {
                c.idleTimeout(idle(100));
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                fires++;
                record("idle " + fires);
                if (fires == 1) {
                    record("marker " + (c.setTimer(ms(300)) instanceof TimerToken ? "set" : "refused"));
                    c.close();
                }
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("marker fired, closing " + c.isClosed());
            }

            @Override
            public void onClosed(TcpConnection c) {
                record("closed");
            }
        });
        connect(port, new SilentClient() {
            @Override
            public void onConnected(TcpConnection c) {
                c.mute();
            }
        });
        expect("idle 1", "marker set", "marker fired, closing true");
    }

    /**
     * A timeout set before the connection is open is stored and armed when it connects (lori's
     * deferred arm, here for a plaintext client): it fires after {@code onConnected}.
     */
    @Test
    void idleTimeoutSetWhileConnectingArmsWhenConnected() throws Exception {
        int port = serve(new Server());
        connect(port, new SilentClient() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                Reactor loop = reactor(c);
                int before = loop.pendingTimers();
                c.idleTimeout(idle(100));
                record("stored, open " + c.isOpen() + ", pending +" + (loop.pendingTimers() - before));
            }

            @Override
            public void onConnected(TcpConnection c) {
                record("connected");
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                record("idle, open " + c.isOpen());
            }
        });
        expect("stored, open false, pending +0", "connected", "idle, open true");
    }

    /**
     * A timeout the loop refuses (its timer limit is reached) is reported to
     * {@code onIdleTimerFailure} and disabled: no {@code onIdleTimeout} before a later marker. A new
     * {@code idleTimeout} once the limit allows it arms as usual.
     */
    @Test
    void refusedIdleTimerIsReportedAndDisabled() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                Reactor loop = reactor(c);
                loop.setTimerLimit(loop.pendingTimers());
                try {
                    c.idleTimeout(idle(100));
                } finally {
                    loop.setTimerLimit(Reactor.DEFAULT_TIMER_LIMIT);
                }
                c.setTimer(ms(300));
                record("onStarted returns");
            }

            @Override
            public void onIdleTimerFailure(TcpConnection c) {
                record("idle timer failure");
            }

            @Override
            public void onTimer(TcpConnection c, TimerToken token) {
                record("marker");
                c.idleTimeout(idle(50));
            }

            @Override
            public void onIdleTimeout(TcpConnection c) {
                record("idle");
                c.idleTimeout(null);
            }
        });
        connect(port, new SilentClient());
        assertEquals(Set.of("onStarted returns", "idle timer failure"), Set.of(next(), next()));
        expect("marker", "idle");
    }

    /**
     * {@code onIdleTimerFailure} is delivered after the callback whose {@code idleTimeout} call the
     * loop refused has returned, as lori delivers it (and as {@code onTimerFailure} is), not from
     * inside {@code idleTimeout}: a handler that retries would otherwise recurse.
     */
    @Test
    void idleTimerFailureComesAfterTheCallbackThatArmedIt() throws Exception {
        int port = serve(new Server() {
            @Override
            public void onStarted(TcpConnection c) {
                Reactor loop = reactor(c);
                loop.setTimerLimit(loop.pendingTimers());
                try {
                    c.idleTimeout(idle(100));
                    record("idleTimeout returns");
                } finally {
                    loop.setTimerLimit(Reactor.DEFAULT_TIMER_LIMIT);
                }
            }

            @Override
            public void onIdleTimerFailure(TcpConnection c) {
                record("idle timer failure");
            }
        });
        connect(port, new SilentClient());
        expect("idleTimeout returns", "idle timer failure");
    }

    /**
     * A timeout stored while connecting that the loop refuses when the connection opens is reported
     * after {@code onConnected}: the application hears that it is connected before any other news
     * of the connection.
     */
    @Test
    void storedIdleTimerRefusedAtConnectIsReportedAfterOnConnected() throws Exception {
        int port = serve(new Server());
        connect(port, new SilentClient() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                Reactor loop = reactor(c);
                c.idleTimeout(idle(100));
                loop.setTimerLimit(loop.pendingTimers());
            }

            @Override
            public void onConnected(TcpConnection c) {
                reactor(c).setTimerLimit(Reactor.DEFAULT_TIMER_LIMIT);
                record("connected");
            }

            @Override
            public void onIdleTimerFailure(TcpConnection c) {
                reactor(c).setTimerLimit(Reactor.DEFAULT_TIMER_LIMIT);
                record("idle timer failure");
            }
        });
        assertEquals(List.of("connected", "idle timer failure"), List.of(next(), next()));
    }

    // ------------------------------------------------------------------ helpers

    private static IdleTimeout idle(long millis) {
        return new IdleTimeout(millis);
    }
}
