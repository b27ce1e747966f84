package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.epoll_event;
import dev.loriffm.internal.bindings.iovec;
import dev.loriffm.internal.bindings.itimerspec;
import dev.loriffm.internal.bindings.msghdr;
import dev.loriffm.internal.bindings.net_h;
import dev.loriffm.internal.bindings.sockaddr_storage;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * Native scratch memory owned by one thread: the errno capture segment every {@code sys} call
 * writes into, and reusable sockaddr, length and iovec segments, so that no system call on a hot
 * path allocates.
 *
 * <p><b>Confined:</b> only the thread that created it may use it (its arena is confined, so any
 * other thread fails fast with {@link WrongThreadException}). An event loop creates one at start
 * and closes it at exit; tests and setup code create their own with try-with-resources.
 */
public final class NativeScratch implements AutoCloseable {
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final long ERRNO_OFFSET =
            CAPTURE_LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("errno"));

    /** Size of {@link #staging()}. */
    public static final int STAGING_BYTES = 64 * 1024;

    /** {@code IOV_MAX}: the most buffers one {@code readv}/{@code writev} takes. */
    public static final int IOV_MAX = net_h.IOV_MAX();

    private final Arena arena = NativeAccounting.confinedArena();
    private final MemorySegment capture = arena.allocate(CAPTURE_LAYOUT);
    private final MemorySegment sockaddr = sockaddr_storage.allocate(arena);
    private final MemorySegment length = arena.allocate(net_h.C_INT);
    private final MemorySegment word = arena.allocate(net_h.C_LONG);
    private final MemorySegment iovecs = iovec.allocateArray(IOV_MAX, arena);
    private final MemorySegment epollEvent = epoll_event.allocate(arena);
    private final MemorySegment timerSpec = itimerspec.allocate(arena);
    // Heap buffers are copied here before a gathering write: an iovec holds only native addresses.
    private final MemorySegment staging = arena.allocate(STAGING_BYTES);
    // A msghdr whose iovec array is `iovecs`; only msg_iovlen changes per call.
    private final MemorySegment message = msghdr.allocate(arena);

    {
        msghdr.msg_iov(message, iovecs);
    }

    /** Creates scratch memory confined to the calling thread. */
    public NativeScratch() {
    }

    /** {@return the capture segment to pass as a bound function's {@code capturedState}} */
    MemorySegment capture() {
        return capture;
    }

    /**
     * {@return the {@code errno} the last {@code captureCallState} call through this scratch saw}
     * Read it straight after the call, before any other downcall on this thread.
     */
    int errno() {
        return errnoIn(capture);
    }

    /** {@return the errno recorded in a capture segment of {@link Linker.Option#captureStateLayout()}} */
    static int errnoIn(MemorySegment capture) {
        return capture.get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
    }

    /** {@return {@code -errno} of the last call; the {@code sys} convention for a failed call} */
    int failure() {
        return -errno();
    }

    /** {@return a {@code struct sockaddr_storage}-sized segment, reused by every address call} */
    MemorySegment sockaddr() {
        return sockaddr;
    }

    /** {@return a {@code socklen_t}-sized segment for value-result length arguments} */
    MemorySegment length() {
        return length;
    }

    /** {@return an 8-byte segment for small option values} */
    MemorySegment word() {
        return word;
    }

    /** {@return an array of {@link #IOV_MAX} {@code struct iovec}} */
    public MemorySegment iovecs() {
        return iovecs;
    }

    /** {@return {@value #STAGING_BYTES} bytes where heap data is staged for one gathering write} */
    public MemorySegment staging() {
        return staging;
    }

    /** {@return a {@code struct epoll_event} for {@code epoll_ctl}} */
    MemorySegment epollEvent() {
        return epollEvent;
    }

    /** {@return a {@code struct msghdr} whose {@code msg_iov} is {@link #iovecs()}} */
    MemorySegment message() {
        return message;
    }

    /** {@return a {@code struct itimerspec} for {@code timerfd_settime}} */
    MemorySegment timerSpec() {
        return timerSpec;
    }

    /** The arena that owns this scratch, for callers that need more confined memory of the same lifetime. */
    public Arena arena() {
        return arena;
    }

    /** Frees the memory. Must be called by the owning thread; later use fails with IllegalStateException. */
    @Override
    public void close() {
        arena.close();
    }
}
