package dev.loriffm.internal.reactor;

/**
 * A one-shot timer scheduled on a {@link Reactor}. Loop-confined: create, cancel and inspect it on
 * its loop's thread only.
 */
public final class Timer {
    final Runnable task;
    long deadlineNs;
    // Position in the heap, or -1 once fired or cancelled.
    int index = -1;
    private final TimerHeap heap;

    Timer(TimerHeap heap, long deadlineNs, Runnable task) {
        this.heap = heap;
        this.deadlineNs = deadlineNs;
        this.task = task;
    }

    /** {@return whether the timer is still waiting to fire} */
    public boolean isPending() {
        return index >= 0;
    }

    /** Cancels the timer; a no-op once it fired or was cancelled. */
    public void cancel() {
        if (index >= 0) {
            heap.remove(this);
        }
    }

    /** {@return the {@link System#nanoTime()} at which the timer fires} */
    public long deadlineNs() {
        return deadlineNs;
    }
}
