package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.reactor.Trimmable;
import dev.loriffm.internal.sys.NativeAccounting;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A connection's read buffer: received bytes live in {@code [start, end)} of a native segment,
 * are read straight into {@code [end, capacity)}, and are delivered as read-only slices (zero
 * copy). Holds lori's invariant chain {@code until <= minimum <= size}: {@code size} is how much one
 * read takes (and the capacity of the connection's own memory), {@code minimum} the floor it
 * shrinks back to whenever the buffer is empty at a read, {@code until} the framing (0 = streaming).
 *
 * <p><b>Two backings.</b> A read that starts with nothing buffered goes into the loop's shared
 * receive area ({@link Reactor#borrowReceiveArea}), and its messages are delivered from there.
 * Only bytes still unprocessed when the read turn ends (a partial frame, or data held back by
 * mute or yield) are copied into memory of the connection's own, and later reads append to that
 * until it empties. So an idle connection holds no buffer, the loop's receive footprint is one
 * area however many connections it serves, and a streaming read copies nothing. A size above the
 * area's, or a read nested inside another connection's callback (the area is lent out), uses own
 * memory throughout, as every read did before.
 *
 * <p><b>Ownership and lifetime.</b> Own memory is allocated in a confined arena on the loop thread
 * when first needed and freed exactly once: on resize (after the callback that may hold a slice of
 * it returns), on {@link #release()}, or by the loop's idle sweep once it is empty and unused for a
 * sweep period. A delivered slice is valid while the callback it was handed to runs, even if that
 * callback resizes the buffer or closes the connection. Afterwards it must not be used: a slice of
 * freed own memory throws {@link IllegalStateException}, and a slice of the shared area reads
 * whatever a later read put there (as a retained Netty buffer would after its release).
 * Loop-confined.
 */
final class ReadBuffer implements Trimmable {
    private Reactor loop;
    // Registered with the loop's idle sweep (while it holds own memory).
    private boolean swept;
    // Own memory served as the backing since the last sweep: keep it.
    private boolean ownUsed;
    // The connection's own memory, or null.
    private Arena arena;
    private MemorySegment own;
    private MemorySegment ownReadOnly;
    // Whether the loop's area is lent to this buffer's read turn (returned by settle()), and a
    // view of its first `size` bytes, cached so that borrowing allocates nothing. The view lives
    // in this connection's own (memory-less) arena, so closing it makes every slice this
    // connection was ever given of the area throw, as a slice of freed own memory does.
    private boolean areaLent;
    private Arena viewArena;
    private MemorySegment areaSlice;
    private MemorySegment areaReadOnly;
    // The backing of [start, end): own, areaSlice, or null (nothing buffered, nothing borrowed).
    private MemorySegment memory;
    // memory's read-only view: a delivered message is one slice of it (one object, not two).
    private MemorySegment readOnly;
    // The last window handed out and where it starts; reused while unchanged, so a read
    // allocates nothing.
    private MemorySegment window;
    private long windowStart = -1;
    // The last message slice handed out, the view it was cut from and where: reused when the
    // next message has the same place and length (see nextMessage).
    private MemorySegment lastMessage;
    private MemorySegment lastBacking;
    private long lastStart;
    // Unprocessed bytes are [start, end) of memory.
    private long start;
    private long end;
    private int size;
    private int minimum;
    private int until;
    // True while onReceived runs: retired memory must outlive the slice the callback holds.
    private boolean delivering;
    private final List<Arena> retired = new ArrayList<>(0); // empty until a resize inside a callback

    ReadBuffer(int size) {
        this.size = size;
        this.minimum = size;
    }

    /**
     * Binds the buffer to its loop (shared receive area, idle sweep); called on the loop thread
     * when the connection initialises. Memory comes with the first read.
     */
    void allocate(Reactor owner) {
        loop = owner;
    }

    /** A loop-less buffer with its own memory allocated now (benchmarks and tests of the buffer alone). */
    void allocate() {
        useOwn(size);
    }

    /** Makes own memory of {@code capacity} bytes the backing, keeping nothing (the buffer is empty). */
    private void useOwn(int capacity) {
        if (own == null || own.byteSize() != capacity) {
            Arena next = NativeAccounting.confinedArena();
            adoptOwn(next, next.allocate(capacity));
        }
        back(own, ownReadOnly);
        ownUsed = true;
    }

    /**
     * Makes {@code allocated} (in {@code owner}) the connection's own memory. The previous
     * own memory, if any, is freed after the current delivery (its slice may be in use).
     */
    private void adoptOwn(Arena owner, MemorySegment allocated) {
        if (arena != null) {
            retire(arena);
        }
        arena = owner;
        own = allocated;
        ownReadOnly = allocated.asReadOnly();
        if (loop != null && !swept) {
            swept = true;
            loop.trimWhenIdle(this);
        }
    }

    private void back(MemorySegment backing, MemorySegment backingReadOnly) {
        if (memory != backing) {
            memory = backing;
            readOnly = backingReadOnly;
            window = null;
            windowStart = -1;
        }
    }

    @Override
    public boolean sweep() {
        if (own != null && (ownUsed || (memory == own && start != end) || delivering)) {
            ownUsed = false;
            return true;
        }
        freeOwn();
        swept = false;
        return false;
    }

    private void freeOwn() {
        if (arena != null) {
            retire(arena);
            arena = null;
        }
        if (memory == own && memory != null) {
            forgetBacking();
        }
        own = null;
        ownReadOnly = null;
    }

    /**
     * Ends a read turn: bytes left in the shared area move to own memory, and the area goes back
     * to the loop. Called by the connection whenever its read loop returns.
     */
    void settle() {
        if (!areaLent) {
            return;
        }
        if (memory != null && memory == areaSlice) {
            long left = end - start;
            if (left > 0) {
                MemorySegment from = areaSlice;
                long from0 = start;
                memory = null;
                useOwn(Math.max(size, (int) left));
                MemorySegment.copy(from, from0, own, 0, left);
                start = 0;
                end = left;
            } else {
                forgetBacking();
            }
        }
        areaLent = false;
        loop.returnReceiveArea();
    }

    int size() {
        return size;
    }

    int minimum() {
        return minimum;
    }

    /** {@return whether the connection holds memory of its own now (not counting a lent area)} */
    boolean holdsMemory() {
        return own != null;
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
        // Fixed-size messages (framing, or a protocol's steady rhythm) keep landing at the same
        // place of the same backing: hand out the same immutable slice again rather than a new
        // one, so delivering allocates nothing. Slices promise no identity, only their bytes.
        if (readOnly != lastBacking || start != lastStart || take != lastMessage.byteSize()) {
            lastMessage = readOnly.asSlice(start, take);
            lastBacking = readOnly;
            lastStart = start;
        }
        start += take;
        return lastMessage;
    }

    /**
     * {@return the free tail to receive into} An empty buffer shrinks back to the minimum and
     * receives into the loop's shared area when it can (own memory otherwise); a non-empty one
     * moves its unprocessed bytes to the front. The window is never empty unless a whole message
     * is waiting (lori#324).
     */
    MemorySegment window() {
        if (start == end) {
            start = 0;
            end = 0;
            if (size > minimum) {
                size = minimum; // a resize above the minimum lasts until the buffer next empties
            }
            if (!areaLent && loop != null && size <= Reactor.RECEIVE_AREA_BYTES) {
                areaLent = loop.borrowReceiveArea();
            }
            // The size can outgrow the area while it is lent: setReadBufferMinimum or
            // resizeReadBuffer from onReceived, between two windows of one read turn. The area
            // stays lent until settle(); this window comes from own memory (found by
            // ReadPathFuzzTest and the swarm: receiveAreaView threw IndexOutOfBoundsException
            // into the loop).
            if (areaLent && size <= Reactor.RECEIVE_AREA_BYTES) {
                if (areaSlice == null || areaSlice.byteSize() != size) {
                    if (viewArena == null) {
                        viewArena = NativeAccounting.confinedArena();
                    }
                    areaSlice = loop.receiveAreaView(size, viewArena);
                    areaReadOnly = areaSlice.asReadOnly();
                }
                back(areaSlice, areaReadOnly);
            } else {
                useOwn(size);
            }
        } else if (start > 0) {
            MemorySegment.copy(memory, start, memory, 0, end - start);
            end -= start;
            start = 0;
        }
        if (memory == own) {
            ownUsed = true;
        }
        if (end == 0) {
            return memory; // the usual case, an empty buffer: all of it, no slice to make
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

    /** Moves the unprocessed bytes into new own memory of {@code bytes}; needs a backing. */
    private void reallocate(int bytes) {
        long left = end - start;
        MemorySegment from = memory;
        long fromStart = start;
        Arena next = NativeAccounting.confinedArena();
        MemorySegment grown = next.allocate(bytes);
        MemorySegment.copy(from, fromStart, grown, 0, left);
        if (from == areaSlice) {
            retireView(); // the slice being delivered is of the area: it ends with its callback
        }
        adoptOwn(next, grown);
        back(own, ownReadOnly);
        ownUsed = true;
        start = 0;
        end = left;
    }

    /** Ends every slice of the area given so far (after the current delivery). */
    private void retireView() {
        if (viewArena != null) {
            retire(viewArena);
            viewArena = null;
            areaSlice = null;
            areaReadOnly = null;
        }
    }

    private void retire(Arena old) {
        if (delivering) {
            retired.add(old);
        } else {
            old.close();
        }
    }

    /**
     * Frees own memory (after the current delivery, if one is running) and forgets what is
     * buffered. Idempotent. A lent area goes back at {@link #settle()}.
     */
    void release() {
        freeOwn();
        retireView();
        forgetBacking();
    }

    /** No backing and nothing buffered (the memory itself is another matter: see the callers). */
    private void forgetBacking() {
        memory = null;
        readOnly = null;
        window = null;
        windowStart = -1;
        start = 0;
        end = 0;
    }
}
