package dev.loriffm.loop;

import dev.loriffm.internal.reactor.Reactor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of {@link EventLoop}s. Connections and listeners are pinned to one loop for life;
 * {@link #next()} hands loops out round-robin, which is how a listener spreads accepted
 * connections.
 *
 * <p>Thread-safe. {@link #close()} hard-closes every connection and listener still open on the
 * loops (each reports its close callback), releases every fd, thread and arena, and waits for the
 * threads to exit.
 */
public final class EventLoopGroup implements AutoCloseable {
    private static final AtomicInteger GROUP_IDS = new AtomicInteger();
    private static final long CLOSE_WAIT_SECONDS = 30;

    private final List<Reactor> loops;
    private final ExecutorService blocking;
    private final AtomicInteger next = new AtomicInteger();
    private volatile boolean closed;

    private EventLoopGroup(int count) {
        int group = GROUP_IDS.getAndIncrement();
        String prefix = group == 0 ? "lori-loop-" : "lori-loop-" + group + "-";
        AtomicInteger resolverIds = new AtomicInteger();
        ThreadFactory resolverThreads = r -> Thread.ofPlatform().daemon(true)
                .name(prefix + "resolver-" + resolverIds.getAndIncrement()).unstarted(r);
        // Name resolution blocks in getaddrinfo; it must never run on a loop thread.
        this.blocking = Executors.newCachedThreadPool(resolverThreads);
        List<Reactor> created = new ArrayList<>(count);
        try {
            for (int i = 0; i < count; i++) {
                created.add(new Reactor(prefix + i, blocking));
            }
        } catch (RuntimeException e) {
            created.forEach(Reactor::shutdown);
            blocking.shutdownNow();
            throw e;
        }
        this.loops = List.copyOf(created);
    }

    /** {@return a group with one loop per available processor} */
    public static EventLoopGroup create() {
        return create(Runtime.getRuntime().availableProcessors());
    }

    /**
     * {@return a group of {@code loops} event loops, each started and ready}
     *
     * @throws IllegalArgumentException if {@code loops < 1}
     * @throws RuntimeException if a loop cannot create its epoll instance (the message names the errno)
     */
    public static EventLoopGroup create(int loops) {
        if (loops < 1) {
            throw new IllegalArgumentException("an event loop group needs at least one loop, not " + loops);
        }
        return new EventLoopGroup(loops);
    }

    /**
     * {@return the next loop, round-robin}
     *
     * @throws IllegalStateException if the group is closed
     */
    public EventLoop next() {
        if (closed) {
            throw new IllegalStateException("event loop group is closed");
        }
        return loops.get(Math.floorMod(next.getAndIncrement(), loops.size()));
    }

    /** {@return the loops of this group, in order} */
    public List<EventLoop> loops() {
        return List.copyOf(loops);
    }

    /** {@return whether {@link #close()} has been called} */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Shuts every loop down (hard-closing what is still open, so every connection and listener
     * reports closed), waits for the loop threads to exit, and stops the resolver threads,
     * waiting for a name resolution in progress to end (getaddrinfo cannot be interrupted); each
     * wait is bounded (30 s, then a warning is logged). Idempotent. Must not be called from one of the group's own loop threads (it waits for them).
     *
     * @throws IllegalStateException if called from a loop thread of this group
     */
    @Override
    public void close() {
        for (Reactor loop : loops) {
            if (loop.inEventLoop()) {
                throw new IllegalStateException("EventLoopGroup.close() cannot run on its own loop "
                        + loop.name() + "; call it from another thread");
            }
        }
        closed = true;
        loops.forEach(Reactor::shutdown);
        boolean interrupted = false;
        for (Reactor loop : loops) {
            try {
                if (!loop.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    System.getLogger("dev.loriffm.loop").log(System.Logger.Level.WARNING,
                            "{0} did not stop within {1} s", loop.name(), CLOSE_WAIT_SECONDS);
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        blocking.shutdownNow();
        try {
            // A resolution in progress cannot be interrupted (getaddrinfo blocks); it ends by
            // itself, and close() returns once it has, so no thread outlives the group.
            if (!blocking.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                System.getLogger("dev.loriffm.loop").log(System.Logger.Level.WARNING,
                        "a name resolution did not end within {0} s of close", CLOSE_WAIT_SECONDS);
            }
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
