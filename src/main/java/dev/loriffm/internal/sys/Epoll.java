package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.epoll_event;
import dev.loriffm.internal.bindings.epoll_h;

import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * epoll: create an instance, change interest, wait, and read events from a native event array by
 * offset (no per-event objects).
 *
 * <p>{@code struct epoll_event} is packed on x86-64 (12 bytes, {@code data} at offset 4); the
 * generated layout carries that, and this class reads through it. Calls return their result when
 * non-negative and {@code -errno} on failure. Thread-safe: stateless, but each
 * {@link NativeScratch} is confined to its thread.
 */
public final class Epoll {
    /** Readable. */
    public static final int EPOLLIN = epoll_h.EPOLLIN();
    /** Writable. */
    public static final int EPOLLOUT = epoll_h.EPOLLOUT();
    /** Error condition (always reported). */
    public static final int EPOLLERR = epoll_h.EPOLLERR();
    /** Hang-up (always reported). */
    public static final int EPOLLHUP = epoll_h.EPOLLHUP();
    /** Peer closed its writing half. */
    public static final int EPOLLRDHUP = epoll_h.EPOLLRDHUP();
    /** Edge-triggered. */
    public static final int EPOLLET = epoll_h.EPOLLET();
    /** Report at most once until re-armed. */
    public static final int EPOLLONESHOT = epoll_h.EPOLLONESHOT();
    /** Register an fd. */
    public static final int CTL_ADD = epoll_h.EPOLL_CTL_ADD();
    /** Change an fd's interest. */
    public static final int CTL_MOD = epoll_h.EPOLL_CTL_MOD();
    /** Deregister an fd. */
    public static final int CTL_DEL = epoll_h.EPOLL_CTL_DEL();
    /** Size in bytes of one {@code struct epoll_event}. */
    public static final long EVENT_SIZE = epoll_event.sizeof();

    private static final ValueLayout.OfInt EVENTS = epoll_event.events$layout();
    private static final long EVENTS_OFFSET = epoll_event.events$offset();
    private static final ValueLayout.OfLong DATA_U64 = (ValueLayout.OfLong) epoll_event.layout()
            .select(PathElement.groupElement("data"), PathElement.groupElement("u64"));
    private static final long DATA_U64_OFFSET = epoll_event.layout()
            .byteOffset(PathElement.groupElement("data"), PathElement.groupElement("u64"));

    private Epoll() { }

    /** {@return a new close-on-exec epoll fd, or {@code -errno}} */
    public static int create(NativeScratch scratch) {
        int r = epoll_h.epoll_create1(scratch.capture(), epoll_h.EPOLL_CLOEXEC());
        return r < 0 ? scratch.failure() : r;
    }

    /**
     * {@return 0, or {@code -errno}} Adds, modifies or removes {@code fd}'s registration.
     *
     * @param op     {@link #CTL_ADD}, {@link #CTL_MOD} or {@link #CTL_DEL}
     * @param events the interest mask ({@link #EPOLLIN} | ...)
     * @param data   the 64-bit value reported back with each event (e.g. a registration id)
     */
    public static int ctl(NativeScratch scratch, int epfd, int op, int fd, int events, long data) {
        MemorySegment event = scratch.epollEvent();
        event.set(EVENTS, EVENTS_OFFSET, events);
        event.set(DATA_U64, DATA_U64_OFFSET, data);
        int r = epoll_h.epoll_ctl(scratch.capture(), epfd, op, fd, event);
        return r < 0 ? scratch.failure() : 0;
    }

    /** {@return a native array for {@code count} events, owned by {@code scratch}'s arena} */
    public static MemorySegment allocateEvents(NativeScratch scratch, int count) {
        return epoll_event.allocateArray(count, scratch.arena());
    }

    /**
     * Waits for events. EINTR is returned as {@code -EINTR}, not retried, so the caller can
     * recompute its timeout.
     *
     * @param events    an array from {@link #allocateEvents}
     * @param timeoutMs -1 waits indefinitely, 0 returns at once, &gt;0 waits at most that long
     * @return the number of events written, or {@code -errno}
     */
    public static int await(NativeScratch scratch, int epfd, MemorySegment events, int timeoutMs) {
        int max = (int) (events.byteSize() / EVENT_SIZE);
        int r = epoll_h.epoll_wait(scratch.capture(), epfd, events, max, timeoutMs);
        return r < 0 ? scratch.failure() : r;
    }

    /** {@return the event mask of event {@code index} in {@code events}} */
    public static int eventMask(MemorySegment events, int index) {
        return events.get(EVENTS, index * EVENT_SIZE + EVENTS_OFFSET);
    }

    /** {@return the data of event {@code index} in {@code events}} */
    public static long eventData(MemorySegment events, int index) {
        return events.get(DATA_U64, index * EVENT_SIZE + DATA_U64_OFFSET);
    }
}
