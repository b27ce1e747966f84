package dev.loriffm.tcp;

/**
 * What the two ends of a swarm connection share: the conservation ledger fed by {@code onSent} and
 * {@code onSendFailed}, the rule that an end has finished once its last lifecycle callback came
 * and every accepted send completed (reported to the swarm once), and the guard that turns a
 * failing oracle inside a callback into a violation. Loop thread only.
 */
abstract class SwarmEnd implements LifecycleReceiver {
    final Swarm swarm;
    final TokenLedger ledger;
    private boolean ended;
    private boolean finished;

    SwarmEnd(Swarm swarm, String who) {
        this.swarm = swarm;
        this.ledger = new TokenLedger(who, swarm.violations());
    }

    @Override
    public final void onSent(TcpConnection c, SendToken token) {
        ledger.sent(token);
        finishIfDone();
    }

    @Override
    public final void onSendFailed(TcpConnection c, SendToken token) {
        ledger.failed(token);
        finishIfDone();
    }

    /** Records the end's last lifecycle callback: {@code onClosed}, or a failure to connect or start. */
    final void ended() {
        ended = true;
        finishIfDone();
    }

    private void finishIfDone() {
        if (!finished && ended && ledger.settled()) {
            finished = true;
            reportFinished();
        }
    }

    /** Tells the swarm this end has finished; called once. */
    abstract void reportFinished();

    final boolean finished() {
        return finished;
    }

    /** Runs {@code body}; anything it throws is a violation, and the connection is hard-closed. */
    final void guard(TcpConnection c, Runnable body) {
        try {
            body.run();
        } catch (Throwable t) {
            swarm.violation(describe() + ": callback threw " + t);
            c.hardClose();
        }
    }

    abstract String describe();
}
