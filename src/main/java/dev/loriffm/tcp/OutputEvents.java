package dev.loriffm.tcp;

import java.util.ArrayDeque;

/**
 * The write-side callbacks ({@code onSent}, {@code onThrottled}, {@code onUnthrottled}) of one
 * connection, queued in the order they happened and delivered after the callback that caused them
 * returns: before the connection's next {@code onReceived} (lori's ordering: a reply's
 * {@code onSent} precedes the next message), before {@code onClosed}, or at the end of the loop
 * turn, whichever comes first. So {@code send} never calls back into the application before it
 * returns, and a send made from {@code onSent} never recurses.
 *
 * <p>Loop-confined: not thread-safe.
 */
final class OutputEvents {
    private static final Object THROTTLED = new Object();
    private static final Object UNTHROTTLED = new Object();

    private final TcpConnection connection;
    // SendToken (for onSent), THROTTLED or UNTHROTTLED, in order.
    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    private final Runnable deliverTask = this::deliver;
    private boolean scheduled;

    OutputEvents(TcpConnection connection) {
        this.connection = connection;
    }

    boolean hasPending() {
        return !pending.isEmpty();
    }

    void sent(SendToken token) {
        add(token);
    }

    void throttled() {
        add(THROTTLED);
    }

    void unthrottled() {
        add(UNTHROTTLED);
    }

    private void add(Object event) {
        pending.addLast(event);
        if (!scheduled) {
            scheduled = true;
            connection.reactor().defer(deliverTask);
        }
    }

    /** Delivers what is queued now; events added by those callbacks wait for the next delivery. */
    void deliver() {
        scheduled = false;
        for (int n = pending.size(); n > 0 && !pending.isEmpty(); n--) {
            deliverOne(pending.pollFirst());
        }
        if (!pending.isEmpty() && !scheduled) {
            scheduled = true;
            connection.reactor().defer(deliverTask);
        }
    }

    private void deliverOne(Object event) {
        if (event instanceof SendToken token) {
            connection.calls().sent(token);
        } else if (!connection.isClosedState()) {
            // Throttle changes mean nothing once closed (lori: no onThrottled after a hard close).
            if (event == THROTTLED) {
                connection.calls().throttled();
            } else {
                connection.calls().unthrottled();
            }
        }
    }

    /** On hard close: every queued {@code onSent} now, before {@code onClosed}; throttle events dropped. */
    void deliverSentNow() {
        Object event;
        while ((event = pending.pollFirst()) != null) {
            if (event instanceof SendToken token) {
                connection.calls().sent(token);
            }
        }
    }
}
