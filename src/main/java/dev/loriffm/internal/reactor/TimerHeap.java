package dev.loriffm.internal.reactor;

import java.util.Arrays;

/**
 * A binary min-heap of {@link Timer}s by deadline, with O(log n) insert and cancel. Timers with
 * equal deadlines fire in no particular order. Loop-confined: not thread-safe.
 */
final class TimerHeap {
    private Timer[] heap = new Timer[64];
    private int size;

    Timer add(long deadlineNs, Runnable task) {
        Timer timer = new Timer(this, deadlineNs, task);
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        heap[size] = timer;
        timer.index = size;
        size++;
        siftUp(timer.index);
        return timer;
    }

    void remove(Timer timer) {
        int i = timer.index;
        timer.index = -1;
        size--;
        if (i != size) {
            Timer last = heap[size];
            heap[i] = last;
            last.index = i;
            heap[size] = null;
            siftDown(i);
            siftUp(last.index);
        } else {
            heap[size] = null;
        }
    }

    /** {@return the earliest deadline, or {@code Long.MAX_VALUE} if empty} */
    long nextDeadlineNs() {
        return size == 0 ? Long.MAX_VALUE : heap[0].deadlineNs;
    }

    /** {@return the earliest timer if it is due at {@code nowNs} (removed), else null} */
    Timer pollExpired(long nowNs) {
        if (size == 0 || heap[0].deadlineNs - nowNs > 0) {
            return null;
        }
        Timer first = heap[0];
        remove(first);
        return first;
    }

    int size() {
        return size;
    }

    private void siftUp(int i) {
        Timer t = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Timer p = heap[parent];
            if (p.deadlineNs - t.deadlineNs <= 0) {
                break;
            }
            heap[i] = p;
            p.index = i;
            i = parent;
        }
        heap[i] = t;
        t.index = i;
    }

    private void siftDown(int i) {
        Timer t = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && heap[right].deadlineNs - heap[child].deadlineNs < 0) {
                child = right;
            }
            if (t.deadlineNs - heap[child].deadlineNs <= 0) {
                break;
            }
            heap[i] = heap[child];
            heap[i].index = i;
            i = child;
        }
        heap[i] = t;
        t.index = i;
    }
}
