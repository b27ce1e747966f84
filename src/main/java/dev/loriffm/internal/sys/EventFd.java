package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.epoll_h;
import dev.loriffm.internal.bindings.net_h;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * eventfd: a counter fd that one thread signals to wake another's {@code epoll_wait}.
 *
 * <p>Calls return 0 or a value when non-negative and {@code -errno} on failure. Thread-safe:
 * stateless, but each {@link NativeScratch} is confined to its thread.
 */
public final class EventFd {
    private EventFd() { }

    /** {@return a new non-blocking close-on-exec eventfd, or {@code -errno}} */
    public static int create(NativeScratch scratch) {
        int r = epoll_h.eventfd(scratch.capture(), 0, epoll_h.EFD_NONBLOCK() | epoll_h.EFD_CLOEXEC());
        return r < 0 ? scratch.failure() : r;
    }

    /** {@return 0, or {@code -errno}} Adds 1 to the counter, making the fd readable. */
    public static int signal(NativeScratch scratch, int fd) {
        MemorySegment word = scratch.word();
        word.set(ValueLayout.JAVA_LONG, 0, 1L);
        long r = Fds.write(scratch, fd, word);
        return r < 0 ? (int) r : 0;
    }

    /**
     * Signals an eventfd from any thread, with memory of its own (not a thread's {@link NativeScratch}).
     *
     * <p>Thread-safe. Errors are ignored: the only possible one, EAGAIN on a saturated counter,
     * means the fd is already readable.
     */
    public static final class Signaller implements AutoCloseable {
        private final Arena arena = NativeAccounting.sharedArena();
        private final MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
        // Concurrent signals race on this segment; errno is never read from it.
        private final MemorySegment ignoredErrno = arena.allocate(Linker.Option.captureStateLayout());
        private final int fd;

        /** @param fd an eventfd that stays open until {@link #close()} */
        public Signaller(int fd) {
            this.fd = fd;
            one.set(ValueLayout.JAVA_LONG, 0, 1L);
        }

        /** Adds 1 to the counter. */
        public void signal() {
            net_h.write(ignoredErrno, fd, one, Long.BYTES);
        }

        /** Frees the memory; call only once no thread can signal any more. */
        @Override
        public void close() {
            arena.close();
        }
    }

    /** {@return the counter's value, now reset to zero, or {@code -errno} (-EAGAIN if it was zero)} */
    public static long drain(NativeScratch scratch, int fd) {
        MemorySegment word = scratch.word();
        long r = Fds.read(scratch, fd, word);
        return r < 0 ? r : word.get(ValueLayout.JAVA_LONG, 0);
    }
}
