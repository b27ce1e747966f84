package dev.loriffm.loop;

import java.util.concurrent.Executor;

/**
 * One event-loop thread: it owns an epoll instance and runs the callbacks of every connection and
 * listener pinned to it, one at a time, never concurrently.
 *
 * <p>Thread-safe: {@link #execute} may be called from any thread.
 */
public interface EventLoop extends Executor {

    /**
     * Runs {@code task} on this loop's thread in a later loop turn, after tasks submitted before it
     * by the same thread. A task that throws is logged and the loop keeps running.
     *
     * @throws java.util.concurrent.RejectedExecutionException if the loop has shut down
     * @throws NullPointerException if {@code task} is null
     */
    @Override
    void execute(Runnable task);

    /** {@return whether the calling thread is this loop's thread} */
    boolean inEventLoop();

    /** {@return the loop's thread name, e.g. {@code "lori-loop-0"}} */
    String name();
}
