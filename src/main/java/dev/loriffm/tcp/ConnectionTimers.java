package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.reactor.Timer;

/**
 * A connection's idle timeout and its one user timer, on the loop's timer heap.
 *
 * <p>The idle timer is reset lazily: activity only records its time, and a timer that fires after
 * recent activity re-arms for the remainder, so reads and writes never touch the heap. Where the
 * loop refuses a timer (its timer limit), the failure callbacks fire as lori's do.
 *
 * <p>Loop-confined: not thread-safe.
 */
final class ConnectionTimers {
    private final TcpConnection connection;
    private final Reactor loop;
    private final ReceiverCalls calls;
    // Idle timeout in ns, 0 = disabled.
    private long idleNs;
    private long lastActivityNs;
    private Timer idleTimer;
    private final Runnable idleTask = this::idleFired;
    // Bumped whenever the idle setting changes, so a deferred failure report of an older setting is dropped.
    private long idleEpoch;
    // The one user timer and its token (cleared before onTimer runs).
    private Timer userTimer;
    private TimerToken userToken;
    private long nextTokenId = 1;

    ConnectionTimers(TcpConnection connection, Reactor loop, ReceiverCalls calls) {
        this.connection = connection;
        this.loop = loop;
        this.calls = calls;
    }

    /** Stores the idle timeout; (re)arms it now if the connection is open. */
    void idleTimeout(IdleTimeout timeout) {
        idleNs = timeout == null ? 0 : timeout.nanos();
        idleEpoch++;
        cancelIdle();
        if (idleNs != 0 && connection.timersRun()) {
            armIdle();
        }
    }

    /** The connection just became ready: start the stored idle timeout, if any. */
    void connectionReady() {
        if (idleNs != 0 && idleTimer == null) {
            armIdle();
        }
    }

    /** A successful read or write. */
    void touch() {
        if (idleNs != 0) {
            lastActivityNs = System.nanoTime();
        }
    }

    private void armIdle() {
        lastActivityNs = System.nanoTime();
        idleTimer = loop.schedule(idleNs, idleTask);
        if (idleTimer == null) {
            idleRefused();
        }
    }

    /**
     * The loop refused the idle timer: disable it and report asynchronously (as lori does), never
     * from inside the call that armed it, and not at all once the connection is hard-closed.
     */
    private void idleRefused() {
        idleNs = 0; // lori: cancelled and cleared before the failure callback
        long epoch = ++idleEpoch;
        loop.defer(() -> {
            if (epoch == idleEpoch && !connection.isClosedState()) {
                calls.idleTimerFailure();
            }
        });
    }

    private void idleFired() {
        idleTimer = null;
        if (idleNs == 0 || !connection.timersRun()) {
            return;
        }
        long quiet = System.nanoTime() - lastActivityNs;
        if (quiet < idleNs) {
            idleTimer = loop.schedule(idleNs - quiet, idleTask); // activity since: wait the rest
            if (idleTimer == null) {
                idleRefused();
            }
            return;
        }
        calls.idleTimeout();
        if (idleNs != 0 && idleTimer == null && connection.timersRun()) {
            armIdle();
        }
    }

    void cancelIdle() {
        if (idleTimer != null) {
            idleTimer.cancel();
            idleTimer = null;
        }
    }

    SetTimerResult setTimer(TimerDuration duration) {
        if (!connection.timersRun()) {
            return SetTimerError.NOT_OPEN;
        }
        if (userToken != null) {
            return SetTimerError.ALREADY_ACTIVE;
        }
        TimerToken token = new TimerToken(nextTokenId++);
        userToken = token;
        userTimer = loop.schedule(duration.nanos(), () -> userFired(token));
        if (userTimer == null) {
            // The token is handed out, so the failure is reported asynchronously, as lori does.
            // Until then the timer counts as active: a cancel or a hard close drops the report,
            // and a second setTimer is refused rather than raced by this stale failure.
            loop.defer(() -> {
                if (token.equals(userToken)) {
                    userToken = null;
                    calls.timerFailure();
                }
            });
        }
        return token;
    }

    void cancelTimer(TimerToken token) {
        if (token != null && token.equals(userToken)) {
            cancelUser();
        }
    }

    private void userFired(TimerToken token) {
        if (!token.equals(userToken)) {
            return; // cancelled meanwhile
        }
        userTimer = null;
        userToken = null; // cleared first, so onTimer may set the next one
        calls.timer(token);
    }

    private void cancelUser() {
        if (userTimer != null) {
            userTimer.cancel();
        }
        userTimer = null;
        userToken = null;
    }

    /** Hard close: every timer stops. */
    void cancelAll() {
        cancelIdle();
        cancelUser();
    }
}
