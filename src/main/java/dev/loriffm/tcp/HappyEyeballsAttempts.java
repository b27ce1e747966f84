package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Timer;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The connection attempts of one client: which sockets are in flight, which addresses are still to
 * be tried, and (for RFC 8305) when to start the next. The first attempt to connect wins; the
 * connection closes the rest.
 *
 * <p>Loop-confined: not thread-safe.
 */
final class HappyEyeballsAttempts {
    private static final long ATTEMPT_DELAY_NS = ClientOptions.RFC8305_ATTEMPT_DELAY_MS * 1_000_000L;

    private final TcpConnection connection;
    private final HappyEyeballs strategy;
    // Sockets of attempts in flight.
    private final List<Integer> inflight = new ArrayList<>();
    // Addresses not yet tried, in the order they will be.
    private final ArrayDeque<InetSocketAddress> pending = new ArrayDeque<>();
    private List<InetSocketAddress> localAddresses = List.of();
    private boolean everStarted;
    private boolean stopped;
    private Timer nextAttemptTimer;

    HappyEyeballsAttempts(TcpConnection connection, HappyEyeballs strategy) {
        this.connection = connection;
        this.strategy = strategy;
    }

    /** Starts trying {@code addresses}, binding to one of {@code from} (same family) if not empty. */
    void start(List<InetSocketAddress> addresses, List<InetSocketAddress> from) {
        localAddresses = from;
        pending.addAll(strategy == HappyEyeballs.RFC8305 ? interleaveFamilies(addresses) : addresses);
        if (strategy == HappyEyeballs.PARALLEL) {
            while (!pending.isEmpty()) {
                startNext();
            }
        } else {
            startUntilOneInFlight();
        }
        report();
    }

    /** RFC 8305 §4: alternate address families, starting with the resolver's first choice. */
    static List<InetSocketAddress> interleaveFamilies(List<InetSocketAddress> addresses) {
        if (addresses.isEmpty()) {
            return addresses;
        }
        boolean firstIsV6 = addresses.getFirst().getAddress() instanceof Inet6Address;
        ArrayDeque<InetSocketAddress> preferred = new ArrayDeque<>();
        ArrayDeque<InetSocketAddress> other = new ArrayDeque<>();
        for (InetSocketAddress a : addresses) {
            ((a.getAddress() instanceof Inet6Address) == firstIsV6 ? preferred : other).add(a);
        }
        List<InetSocketAddress> out = new ArrayList<>(addresses.size());
        while (!preferred.isEmpty() || !other.isEmpty()) {
            if (!preferred.isEmpty()) {
                out.add(preferred.poll());
            }
            if (!other.isEmpty()) {
                out.add(other.poll());
            }
        }
        return out;
    }

    private void startUntilOneInFlight() {
        while (inflight.isEmpty() && !pending.isEmpty() && !stopped) {
            startNext();
        }
        armNextAttemptTimer();
    }

    private void armNextAttemptTimer() {
        if (strategy == HappyEyeballs.RFC8305 && !pending.isEmpty() && !stopped && nextAttemptTimer == null) {
            nextAttemptTimer = connection.reactor().schedule(ATTEMPT_DELAY_NS, this::attemptDelayElapsed);
            if (nextAttemptTimer == null) {
                // No timer to stagger with: start the rest at once, as the parallel strategy does.
                while (!pending.isEmpty()) {
                    startNext();
                }
            }
        }
    }

    private void attemptDelayElapsed() {
        nextAttemptTimer = null;
        if (stopped || pending.isEmpty()) {
            return;
        }
        startNext();
        startUntilOneInFlight();
        report();
    }

    private void startNext() {
        InetSocketAddress target = pending.poll();
        InetSocketAddress from = null;
        if (!localAddresses.isEmpty()) {
            from = sameFamily(target);
            if (from == null) {
                return; // nothing to bind for this family: skip the address
            }
        }
        if (connection.startAttempt(target, from)) {
            everStarted = true;
        }
    }

    private InetSocketAddress sameFamily(InetSocketAddress target) {
        boolean v6 = target.getAddress() instanceof Inet6Address;
        for (InetSocketAddress local : localAddresses) {
            if ((local.getAddress() instanceof Inet6Address) == v6) {
                return local;
            }
        }
        return null;
    }

    /** Reports the attempts in flight, or the failure when none is left to try. */
    private void report() {
        if (inflight.isEmpty() && (pending.isEmpty() || stopped)) {
            connection.attemptsExhausted();
        } else if (!inflight.isEmpty()) {
            connection.reportConnecting(inflight.size());
        }
    }

    void inFlight(int fd) {
        inflight.add(fd);
    }

    boolean isInFlight(int fd) {
        return inflight.contains(fd);
    }

    /** Forgets the attempt on {@code fd}; {@return whether it was in flight} */
    boolean finished(int fd) {
        return inflight.remove(Integer.valueOf(fd));
    }

    /** An attempt failed (already {@link #finished}): try the next address if any, then report. */
    void failed() {
        if (strategy == HappyEyeballs.RFC8305 && !stopped) {
            if (nextAttemptTimer != null) {
                nextAttemptTimer.cancel();
                nextAttemptTimer = null;
            }
            if (!pending.isEmpty()) {
                startNext();
            }
            startUntilOneInFlight();
        }
        report();
    }

    /** No new attempts: the connection is closing or decided. */
    void stopStarting() {
        stopped = true;
        pending.clear();
        if (nextAttemptTimer != null) {
            nextAttemptTimer.cancel();
            nextAttemptTimer = null;
        }
    }

    /** Closes every attempt still in flight (the race is over). */
    void closeAllInFlight() {
        stopStarting();
        for (int fd : inflight) {
            connection.closeSocket(fd);
        }
        inflight.clear();
    }

    int inflightCount() {
        return inflight.size();
    }

    boolean everStarted() {
        return everStarted;
    }
}
