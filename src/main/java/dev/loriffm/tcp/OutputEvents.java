package dev.loriffm.tcp;

/**
 * The write-side callbacks ({@code onSent}, {@code onThrottled}, {@code onUnthrottled}) of one
 * connection, queued in the order they happened and delivered after the callback that caused them
 * returns: before the connection's next {@code onReceived} (lori's ordering: a reply's
 * {@code onSent} precedes the next message), before {@code onClosed}, or at the end of the loop
 * turn, whichever comes first. So {@code send} never calls back into the application before it
 * returns, and a send made from {@code onSent} never recurses.
 *
 * <p>Events are queued as numbers (a token id, or a negative throttle marker) in a ring that
 * only grows, and the {@link SendToken} of an {@code onSent} is made at delivery: queuing and
 * delivering allocate nothing the JIT cannot remove. Tokens are records, equal by id, so the
 * token {@code onSent} hands over equals the one {@code send} returned.
 *
 * <p>Loop-confined: not thread-safe.
 */
final class OutputEvents {
    private static final long THROTTLED = -1;
    private static final long UNTHROTTLED = -2;

    private final TcpConnection connection;
    // Token ids (> 0, for onSent), THROTTLED or UNTHROTTLED, in order: a ring of events[head..head+count).
    private long[] events = new long[4]; // a power of two; doubles when needed
    private int head;
    private int count;
    private final Runnable deliverTask = this::deliver;
    private boolean scheduled;

    OutputEvents(TcpConnection connection) {
        this.connection = connection;
    }

    boolean hasPending() {
        return count > 0;
    }

    /** Queues {@code onSent} for token {@code id}. */
    void sent(long id) {
        add(id);
    }

    void throttled() {
        add(THROTTLED);
    }

    void unthrottled() {
        add(UNTHROTTLED);
    }

    private void add(long event) {
        if (count == events.length) {
            grow();
        }
        events[(head + count) & (events.length - 1)] = event;
        count++;
        if (!scheduled) {
            scheduled = true;
            connection.reactor().defer(deliverTask);
        }
    }

    private void grow() {
        long[] bigger = new long[events.length * 2];
        for (int i = 0; i < count; i++) {
            bigger[i] = events[(head + i) & (events.length - 1)];
        }
        events = bigger;
        head = 0;
    }

    private long poll() {
        long event = events[head];
        head = (head + 1) & (events.length - 1);
        count--;
        return event;
    }

    /** Delivers what is queued now; events added by those callbacks wait for the next delivery. */
    void deliver() {
        scheduled = false;
        for (int n = count; n > 0 && count > 0; n--) {
            deliverOne(poll());
        }
        if (count > 0 && !scheduled) {
            scheduled = true;
            connection.reactor().defer(deliverTask);
        }
    }

    private void deliverOne(long event) {
        if (event > 0) {
            connection.calls().sent(new SendToken(event));
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
        while (count > 0) {
            long event = poll();
            if (event > 0) {
                connection.calls().sent(new SendToken(event));
            }
        }
    }
}
