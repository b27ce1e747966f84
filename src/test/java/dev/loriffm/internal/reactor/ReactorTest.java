package dev.loriffm.internal.reactor;

import dev.loriffm.loop.EventLoop;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The event loop: task hand-off, ordering, failure isolation, timers, confinement, shutdown. */
@ExtendWith(FdLeakCheck.class)
class ReactorTest {
    private static final long WAIT = 30;

    /** Tasks from another thread run on the loop thread, in submission order. */
    @Test
    void tasksFromOtherThreadsRunOnTheLoopInOrder() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(1)) {
            EventLoop loop = group.next();
            List<Integer> seen = new ArrayList<>();
            CountDownLatch done = new CountDownLatch(1);
            for (int i = 0; i < 10_000; i++) {
                int n = i;
                loop.execute(() -> {
                    assertTrue(loop.inEventLoop());
                    seen.add(n);
                    if (n == 9_999) {
                        done.countDown();
                    }
                });
            }
            assertTrue(done.await(WAIT, TimeUnit.SECONDS));
            CompletableFuture<List<Integer>> copy = new CompletableFuture<>();
            loop.execute(() -> copy.complete(List.copyOf(seen)));
            List<Integer> result = copy.get(WAIT, TimeUnit.SECONDS);
            for (int i = 0; i < result.size(); i++) {
                assertEquals(i, result.get(i));
            }
            assertEquals(10_000, result.size());
            assertFalse(loop.inEventLoop());
        }
    }

    /** A task that throws is logged and counted; the loop goes on running later tasks. */
    @Test
    void aThrowingTaskDoesNotStopTheLoop() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(1)) {
            Reactor loop = (Reactor) group.next();
            loop.execute(() -> {
                throw new IllegalStateException("deliberate failure from a test task");
            });
            CompletableFuture<Long> failures = new CompletableFuture<>();
            loop.execute(() -> failures.complete(loop.callbackFailures()));
            assertEquals(1L, failures.get(WAIT, TimeUnit.SECONDS));
        }
    }

    /** Timers fire in deadline order; a cancelled timer never fires. */
    @Test
    void timersFireInDeadlineOrderAndCancelledOnesNever() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(1)) {
            Reactor loop = (Reactor) group.next();
            BlockingQueue<String> fired = new LinkedBlockingQueue<>();
            loop.execute(() -> {
                loop.schedule(TimeUnit.MILLISECONDS.toNanos(60), () -> fired.add("60"));
                loop.schedule(TimeUnit.MILLISECONDS.toNanos(20), () -> fired.add("20"));
                Timer cancelled = loop.schedule(TimeUnit.MILLISECONDS.toNanos(40), () -> fired.add("40"));
                loop.schedule(TimeUnit.MILLISECONDS.toNanos(1), () -> fired.add("1"));
                assertTrue(cancelled.isPending());
                cancelled.cancel();
                cancelled.cancel(); // idempotent
                assertFalse(cancelled.isPending());
                loop.schedule(TimeUnit.MILLISECONDS.toNanos(80), () -> fired.add("end"));
            });
            List<String> order = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                order.add(fired.poll(WAIT, TimeUnit.SECONDS));
            }
            assertEquals(List.of("1", "20", "60", "end"), order);
        }
    }

    /** Loop-only operations fail fast, with a message naming the loop, on any other thread. */
    @Test
    void loopOnlyOperationsFailFastOffTheLoop() {
        try (EventLoopGroup group = EventLoopGroup.create(1)) {
            Reactor loop = (Reactor) group.next();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> loop.assertInLoop("thing"));
            assertTrue(e.getMessage().contains(loop.name()), e.getMessage());
            assertTrue(e.getMessage().contains("execute"), e.getMessage());
        }
    }

    /** Closing the group stops every loop, releases their fds, and refuses new tasks. */
    @Test
    void closedGroupRefusesTasksAndReleasesEverything() {
        EventLoopGroup group = EventLoopGroup.create(2);
        List<EventLoop> loops = group.loops();
        group.close();
        group.close(); // idempotent
        assertTrue(group.isClosed());
        for (EventLoop loop : loops) {
            assertThrows(RejectedExecutionException.class, () -> loop.execute(() -> { }));
        }
        assertThrows(IllegalStateException.class, group::next);
    }

    /** A group cannot be closed from one of its own loops (it waits for them). */
    @Test
    void groupCannotBeClosedFromItsOwnLoop() throws Exception {
        EventLoopGroup group = EventLoopGroup.create(1);
        try {
            CompletableFuture<Throwable> seen = new CompletableFuture<>();
            group.next().execute(() -> {
                try {
                    group.close();
                    seen.complete(null);
                } catch (Throwable t) {
                    seen.complete(t);
                }
            });
            assertTrue(seen.get(WAIT, TimeUnit.SECONDS) instanceof IllegalStateException);
        } finally {
            group.close();
        }
    }

    /** Bad group sizes are rejected. */
    @Test
    void groupSizeMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> EventLoopGroup.create(0));
        assertThrows(NullPointerException.class, () -> {
            try (EventLoopGroup group = EventLoopGroup.create(1)) {
                group.next().execute(null);
            }
        });
    }
}
