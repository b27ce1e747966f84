package dev.loriffm.tcp;

import java.util.ArrayDeque;
import java.util.Queue;

/**
 * The conservation oracle for one side of one connection: every send the connection accepted must
 * end in exactly one {@code onSent} or {@code onSendFailed}, in the order the sends were accepted
 * (sent ones first, then failed ones), and nothing else may be reported. Counts the bytes of each
 * outcome, which the swarm compares with what the peer received. Used only on the connection's
 * loop thread; read by the test thread after the connection has finished (the swarm's completion
 * counter publishes it).
 */
final class TokenLedger {
    private final String who;
    private final Queue<String> violations;
    /** Accepted and not yet completed, oldest first: {token id, bytes}. */
    private final ArrayDeque<long[]> outstanding = new ArrayDeque<>();
    private boolean anyFailed;
    long acceptedBytes;
    long sentBytes;
    long failedBytes;
    int sentCount;
    int failedCount;

    TokenLedger(String who, Queue<String> violations) {
        this.who = who;
        this.violations = violations;
    }

    /** Records what {@code send} returned for {@code bytes} bytes; {@return whether it was accepted} */
    boolean record(SendResult result, long bytes) {
        if (result instanceof SendToken token) {
            long[] last = outstanding.peekLast();
            if (last != null && token.id() <= last[0]) {
                violations.add(who + ": token " + token.id() + " minted after token " + last[0]);
            }
            outstanding.addLast(new long[] {token.id(), bytes});
            acceptedBytes += bytes;
            return true;
        }
        return false;
    }

    void sent(SendToken token) {
        long[] head = complete(token, "onSent");
        if (head != null) {
            if (anyFailed) {
                violations.add(who + ": onSent(" + token.id() + ") after an onSendFailed");
            }
            sentBytes += head[1];
            sentCount++;
        }
    }

    void failed(SendToken token) {
        long[] head = complete(token, "onSendFailed");
        if (head != null) {
            anyFailed = true;
            failedBytes += head[1];
            failedCount++;
        }
    }

    private long[] complete(SendToken token, String callback) {
        long[] head = outstanding.peekFirst();
        if (head == null || head[0] != token.id()) {
            violations.add(who + ": " + callback + "(" + token.id() + ") but the oldest outstanding token is "
                    + (head == null ? "none" : head[0]) + " (unknown, repeated or out of order)");
            return null;
        }
        return outstanding.removeFirst();
    }

    /** {@return whether every accepted send has completed} */
    boolean settled() {
        return outstanding.isEmpty();
    }

    int outstandingCount() {
        return outstanding.size();
    }

    @Override
    public String toString() {
        return "accepted " + acceptedBytes + " B, sent " + sentCount + " (" + sentBytes + " B), failed "
                + failedCount + " (" + failedBytes + " B), outstanding " + outstanding.size();
    }
}
