package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.iovec;
import dev.loriffm.internal.bindings.net_h;

import java.lang.foreign.MemorySegment;

/**
 * File descriptor calls: close, read, write, readv, writev, non-blocking mode.
 *
 * <p>Every call returns its result when non-negative and {@code -errno} on failure; EINTR is
 * retried here. Thread-safe: stateless, but each {@link NativeScratch} is confined to its thread.
 */
public final class Fds {
    private Fds() { }

    /** {@return 0, or {@code -errno}} Closes {@code fd}; never retried on EINTR (the fd is gone either way). */
    public static int close(NativeScratch scratch, int fd) {
        int r = net_h.close(scratch.capture(), fd);
        return r < 0 ? scratch.failure() : r;
    }

    /** {@return bytes read (0 at end of stream), or {@code -errno} (-EAGAIN when nothing is ready)} */
    public static long read(NativeScratch scratch, int fd, MemorySegment buffer) {
        long r;
        do {
            r = net_h.read(scratch.capture(), fd, buffer, buffer.byteSize());
        } while (r < 0 && scratch.errno() == Errno.EINTR);
        return r < 0 ? scratch.failure() : r;
    }

    /** {@return bytes written, or {@code -errno} (-EAGAIN when the socket buffer is full)} */
    public static long write(NativeScratch scratch, int fd, MemorySegment buffer) {
        long r;
        do {
            r = net_h.write(scratch.capture(), fd, buffer, buffer.byteSize());
        } while (r < 0 && scratch.errno() == Errno.EINTR);
        return r < 0 ? scratch.failure() : r;
    }

    /**
     * {@return bytes read, or {@code -errno}} Reads into the first {@code count} iovecs of
     * {@link NativeScratch#iovecs()}, which the caller has filled (see {@link #setIovec}).
     */
    public static long readv(NativeScratch scratch, int fd, int count) {
        long r;
        do {
            r = net_h.readv(scratch.capture(), fd, scratch.iovecs(), count);
        } while (r < 0 && scratch.errno() == Errno.EINTR);
        return r < 0 ? scratch.failure() : r;
    }

    /**
     * {@return bytes written, or {@code -errno}} Writes the first {@code count} iovecs of
     * {@link NativeScratch#iovecs()} with one {@code writev}.
     */
    public static long writev(NativeScratch scratch, int fd, int count) {
        long r;
        do {
            r = net_h.writev(scratch.capture(), fd, scratch.iovecs(), count);
        } while (r < 0 && scratch.errno() == Errno.EINTR);
        return r < 0 ? scratch.failure() : r;
    }

    /**
     * Points iovec {@code index} of the scratch array at {@code buffer}, which must be a native
     * segment that stays alive until the readv/writev that uses it returns.
     *
     * @throws IllegalArgumentException if {@code buffer} is a heap segment (an iovec holds only native addresses)
     */
    public static void setIovec(NativeScratch scratch, int index, MemorySegment buffer) {
        if (!buffer.isNative()) {
            throw new IllegalArgumentException("an iovec needs a native segment");
        }
        MemorySegment entry = iovec.asSlice(scratch.iovecs(), index);
        iovec.iov_base(entry, buffer);
        iovec.iov_len(entry, buffer.byteSize());
    }

    /** {@return the length of iovec {@code index} of the scratch array} */
    public static long iovecLength(NativeScratch scratch, int index) {
        return iovec.iov_len(iovec.asSlice(scratch.iovecs(), index));
    }

    /** {@return 0, or {@code -errno}} Sets or clears {@code O_NONBLOCK} on {@code fd}. */
    public static int setNonBlocking(NativeScratch scratch, int fd, boolean nonBlocking) {
        int flags = net_h.fcntl(scratch.capture(), fd, net_h.F_GETFL(), 0);
        if (flags < 0) {
            return scratch.failure();
        }
        int wanted = nonBlocking ? flags | net_h.O_NONBLOCK() : flags & ~net_h.O_NONBLOCK();
        if (wanted == flags) {
            return 0;
        }
        int r = net_h.fcntl(scratch.capture(), fd, net_h.F_SETFL(), wanted);
        return r < 0 ? scratch.failure() : 0;
    }

    /** {@return whether {@code fd} has {@code O_NONBLOCK} set, or {@code -errno} as a failure} */
    public static int isNonBlocking(NativeScratch scratch, int fd) {
        int flags = net_h.fcntl(scratch.capture(), fd, net_h.F_GETFL(), 0);
        if (flags < 0) {
            return scratch.failure();
        }
        return (flags & net_h.O_NONBLOCK()) != 0 ? 1 : 0;
    }
}
