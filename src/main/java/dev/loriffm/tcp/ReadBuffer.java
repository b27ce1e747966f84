package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.reactor.Trimmable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A connection's native read buffer: received bytes live in {@code [start, end)} of a native
 * segment, are read straight into {@code [end, capacity)}, and are delivered as read-only slices
 * (zero copy). Holds lori's invariant chain {@code until <= minimum <= size}: {@code size} is the
 * allocation target, {@code minimum} the floor the buffer shrinks back to whenever it is empty at
 * a read, {@code until} the framing (0 = streaming).
 *
 * <p>Ownership: the memory belongs to the connection. It is allocated in a confined arena on the
 * loop thread when the connection first reads, and freed exactly once: on resize (after the
 * callback that may hold a slice of it returns), on {@link #release()}, or by the loop's idle
 * sweep when the buffer is empty and went unused for a whole sweep period (it is allocated again
 * at the next read). So an idle connection holds no buffer memory, and a busy one keeps its
 * buffer and allocates nothing per read. A delivered slice therefore stays valid until the callback it
 * was handed to returns, even if that callback resizes the buffer or closes the connection; after
 * that, access to a freed slice throws {@link IllegalStateException}. Loop-confined.
 */
final class ReadBuffer implements Trimmable {
    private Reactor loop;
    // Registered with the loop's idle sweep (while it holds memory).
    private boolean swept;
    // Read into since the last sweep: the buffer is busy, keep it.
    private boolean used;
    private Arena arena;
    private MemorySegment memory;
    // memory.asReadOnly(), made once per allocation: a delivered message is one slice of it
    // rather than a slice and then a read-only view (one segment object per message, not two).
    private MemorySegment readOnly;
    // The last window handed out and where it starts; reused while the window is unchanged (the
    // common case: an emptied buffer receives into all of it again), so a read allocates nothing.
    private MemorySegment window;
    private long windowStart = -1;
    // Unprocessed bytes are [start, end) of memory.
    private long start;
    private long end;
    private int size;
    private int minimum;
    private int until;
    // True while onReceived runs: retired memory must outlive the slice the callback holds.
    private boolean delivering;
    private final List<Arena> retired = new ArrayList<>(1);

    ReadBuffer(int size) {
        this.size = size;
        this.minimum = size;
    }

    /**
     * Binds the buffer to its loop, whose idle sweep frees its memory while unused; called on the
     * loop thread when the connection initialises. The memory itself comes with the first read.
     */
    void allocate(Reactor owner) {
        loop = owner;
    }

    /** A loop-less buffer with its memory allocated now (benchmarks and tests of the buffer alone). */
    void allocate() {
        ensureMemory();
    }

    private void ensureMemory() {
        arena = Arena.ofConfined();
        use(arena.allocate(size));
        if (loop != null && !swept) {
            swept = true;
            loop.trimWhenIdle(this);
        }
    }

    @Override
    public boolean sweep() {
        if (memory != null && (used || start != end || delivering)) {
            used = false;
            return true;
        }
        release();
        swept = false;
        return false;
    }

    private void use(MemorySegment allocated) {
        memory = allocated;
        readOnly = allocated.asReadOnly();
        window = null;
        windowStart = -1;
    }

    int size() {
        return size;
    }

    int minimum() {
        return minimum;
    }

    /** {@return whether the buffer holds memory now (false before the first read and after an idle sweep)} */
    boolean holdsMemory() {
        return memory != null;
    }

    /** {@return the free bytes behind the unprocessed data, before any compaction} */
    long freeTail() {
        return memory == null ? 0 : memory.byteSize() - end;
    }

    long buffered() {
        return end - start;
    }

    /** Sets the framing. {@return false, changing nothing, if {@code bytes} exceeds the minimum} */
    boolean setUntil(int bytes) {
        if (bytes > minimum) {
            return false;
        }
        until = bytes;
        return true;
    }

    /** lori's {@code set_read_buffer_minimum}: raise or lower the floor; growing happens now. */
    ReadBufferMinimumResult setMinimum(int bytes) {
        if (bytes < until) {
            return ReadBufferResizeBelowBufferSize.BELOW_BUFFER_SIZE;
        }
        minimum = bytes;
        if (size < bytes) {
            size = bytes;
            if (memory != null && memory.byteSize() < bytes) {
                reallocate(bytes);
            }
        }
        return ReadBufferResized.RESIZED;
    }

    /** lori's {@code resize_read_buffer}: exactly {@code bytes} now, lowering the minimum if needed. */
    ReadBufferResizeResult resize(int bytes) {
        if (bytes < until) {
            return ReadBufferResizeBelowBufferSize.BELOW_BUFFER_SIZE;
        }
        if (bytes < end - start) {
            return ReadBufferResizeBelowUsed.BELOW_USED;
        }
        if (bytes < minimum) {
            minimum = bytes;
        }
        size = bytes;
        if (memory != null && memory.byteSize() != bytes) {
            reallocate(bytes);
        }
        return ReadBufferResized.RESIZED;
    }

    /** {@return whether {@link #nextMessage()} has a message to return} */
    boolean hasMessage() {
        long available = end - start;
        return memory != null && available > 0 && available >= until;
    }

    /**
     * {@return the next complete message as a read-only slice (consumed), or null if none}
     * Framed: exactly {@code until} bytes; streaming: everything buffered.
     */
    MemorySegment nextMessage() {
        if (!hasMessage()) {
            return null;
        }
        long take = until == 0 ? end - start : until;
        MemorySegment message = readOnly.asSlice(start, take);
        start += take;
        return message;
    }

    /**
     * {@return the free tail to receive into} An empty buffer shrinks back to the minimum;
     * otherwise unprocessed bytes move to the front. The window is never empty unless a whole
     * message is waiting (lori#324).
     */
    MemorySegment window() {
        used = true;
        if (memory == null) {
            ensureMemory();
        }
        if (start == end) {
            start = 0;
            end = 0;
            if (size > minimum) {
                size = minimum; // a resize above the minimum lasts until the buffer next empties
            }
            if (memory.byteSize() != size) {
                reallocate(size);
            }
        } else if (start > 0) {
            MemorySegment.copy(memory, start, memory, 0, end - start);
            end -= start;
            start = 0;
        }
        if (windowStart != end) {
            window = memory.asSlice(end, memory.byteSize() - end);
            windowStart = end;
        }
        return window;
    }

    /** Records {@code n} bytes received into the last {@link #window()}. */
    void filled(long n) {
        end += n;
    }

    /** Marks the start and end of an {@code onReceived} callback holding a slice. */
    void delivering(boolean active) {
        delivering = active;
        if (!active && !retired.isEmpty()) {
            retired.forEach(Arena::close);
            retired.clear();
        }
    }

    private void reallocate(int bytes) {
        Arena next = Arena.ofConfined();
        MemorySegment grown = next.allocate(bytes);
        long used = end - start;
        MemorySegment.copy(memory, start, grown, 0, used);
        retire(arena);
        arena = next;
        use(grown);
        start = 0;
        end = used;
    }

    private void retire(Arena old) {
        if (delivering) {
            retired.add(old);
        } else {
            old.close();
        }
    }

    /** Frees the memory (after the current delivery, if one is running). Idempotent. */
    void release() {
        if (arena != null) {
            retire(arena);
            arena = null;
            memory = null;
            readOnly = null;
            window = null;
            windowStart = -1;
            start = 0;
            end = 0;
        }
    }
}
