package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.epoll_h;
import dev.loriffm.internal.bindings.itimerspec;
import dev.loriffm.internal.bindings.timespec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * timerfd on {@code CLOCK_MONOTONIC}: a timer that becomes readable when it expires.
 *
 * <p>Calls return 0 or a value when non-negative and {@code -errno} on failure. Thread-safe:
 * stateless, but each {@link NativeScratch} is confined to its thread.
 */
public final class TimerFd {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private TimerFd() { }

    /** {@return a new non-blocking close-on-exec monotonic timerfd, or {@code -errno}} */
    public static int create(NativeScratch scratch) {
        int r = epoll_h.timerfd_create(scratch.capture(), epoll_h.CLOCK_MONOTONIC(),
                epoll_h.TFD_NONBLOCK() | epoll_h.TFD_CLOEXEC());
        return r < 0 ? scratch.failure() : r;
    }

    /**
     * {@return 0, or {@code -errno}} Arms the timer relative to now; {@code initialNs == 0} disarms it.
     *
     * @param intervalNs period after the first expiry, or 0 for a one-shot timer
     */
    public static int set(NativeScratch scratch, int fd, long initialNs, long intervalNs) {
        if (initialNs < 0 || intervalNs < 0) {
            throw new IllegalArgumentException("negative timer duration");
        }
        MemorySegment spec = scratch.timerSpec();
        MemorySegment value = itimerspec.it_value(spec);
        MemorySegment interval = itimerspec.it_interval(spec);
        timespec.tv_sec(value, initialNs / NANOS_PER_SECOND);
        timespec.tv_nsec(value, initialNs % NANOS_PER_SECOND);
        timespec.tv_sec(interval, intervalNs / NANOS_PER_SECOND);
        timespec.tv_nsec(interval, intervalNs % NANOS_PER_SECOND);
        int r = epoll_h.timerfd_settime(scratch.capture(), fd, 0, spec, MemorySegment.NULL);
        return r < 0 ? scratch.failure() : 0;
    }

    /** {@return the number of expiries since the last read, or {@code -errno} (-EAGAIN if none)} */
    public static long drain(NativeScratch scratch, int fd) {
        MemorySegment word = scratch.word();
        long r = Fds.read(scratch, fd, word);
        return r < 0 ? r : word.get(ValueLayout.JAVA_LONG, 0);
    }
}
