package dev.loriffm.internal.reactor;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The timer heap yields timers in deadline order under random inserts and cancels. */
class TimerHeapTest {

    @Test
    void randomInsertsAndCancelsPollInDeadlineOrder() {
        Random random = new Random(42);
        TimerHeap heap = new TimerHeap();
        List<Timer> live = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            live.add(heap.add(random.nextInt(1_000_000), () -> { }));
            if (random.nextInt(3) == 0 && !live.isEmpty()) {
                live.remove(random.nextInt(live.size())).cancel();
            }
        }
        assertEquals(live.size(), heap.size());
        long last = Long.MIN_VALUE;
        int polled = 0;
        Timer t;
        while ((t = heap.pollExpired(Long.MAX_VALUE / 2)) != null) {
            assertTrue(t.deadlineNs() >= last, "deadline order");
            assertTrue(!t.isPending());
            last = t.deadlineNs();
            polled++;
        }
        assertEquals(live.size(), polled);
        assertEquals(Long.MAX_VALUE, heap.nextDeadlineNs());
    }

    @Test
    void nothingExpiresBeforeItsDeadline() {
        TimerHeap heap = new TimerHeap();
        heap.add(100, () -> { });
        assertNull(heap.pollExpired(99));
        assertEquals(100, heap.nextDeadlineNs());
        assertEquals(100, heap.pollExpired(100).deadlineNs());
    }
}
