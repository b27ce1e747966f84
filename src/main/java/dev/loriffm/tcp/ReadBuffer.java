package dev.loriffm.tcp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A connection's native read buffer: received bytes live in {@code [start, end)} of a native
 * segment, are read straight into {@code [end, capacity)}, and are delivered as read-only slices
 * (zero copy). Holds lori's invariant {@code bufferUntil <= minimum <= size}.
 *
 * <p>Ownership: the memory belongs to the connection, allocated in a confined arena on its loop
 * thread and freed exactly once by {@link #release()} (hard close). A delivered slice stays valid
 * until the callback it was handed to returns. Loop-confined: not thread-safe.
 */
final class ReadBuffer {
    private Arena arena;
    private MemorySegment memory;
    // Unprocessed bytes are [start, end) of memory.
    private long start;
    private long end;
    // The allocation target (lori's read_buffer_size) and the shrink-back floor.
    private int size;
    private int minimum;
    // Framing: 0 = streaming, else exact message size.
    private int until;

    ReadBuffer(int size) {
        this.size = size;
        this.minimum = size;
    }

    /** Allocates the memory; called on the loop thread when the connection initialises. */
    void allocate() {
        arena = Arena.ofConfined();
        memory = arena.allocate(size);
    }

    boolean isAllocated() {
        return memory != null;
    }

    int size() {
        return size;
    }

    int minimum() {
        return minimum;
    }

    int until() {
        return until;
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

    /**
     * {@return the next complete message as a read-only slice (consumed), or null if none}
     * Framed: exactly {@code until} bytes; streaming: everything buffered.
     */
    MemorySegment nextMessage() {
        long available = end - start;
        long take = until == 0 ? available : (available >= until ? until : 0);
        if (take == 0) {
            return null;
        }
        MemorySegment message = memory.asSlice(start, take).asReadOnly();
        start += take;
        return message;
    }

    /** {@return whether {@link #nextMessage()} has a message to return} */
    boolean hasMessage() {
        long available = end - start;
        return memory != null && available > 0 && available >= until;
    }

    /**
     * {@return the free tail to receive into} Moves unprocessed bytes to the front first, so the
     * window is never empty while a message is incomplete (lori#324).
     */
    MemorySegment window() {
        if (start == end) {
            start = 0;
            end = 0;
        } else if (start > 0) {
            MemorySegment.copy(memory, start, memory, 0, end - start);
            end -= start;
            start = 0;
        }
        return memory.asSlice(end, memory.byteSize() - end);
    }

    /** Records {@code n} bytes received into the last {@link #window()}. */
    void filled(long n) {
        end += n;
    }

    /** Frees the memory; later calls find no buffer. Idempotent. */
    void release() {
        if (arena != null) {
            arena.close();
            arena = null;
            memory = null;
            start = 0;
            end = 0;
        }
    }
}
