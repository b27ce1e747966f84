package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.net_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code getsockopt}/{@code setsockopt}: integer options and raw byte options.
 *
 * <p>Levels and names come from the generated constants (see the public fields for the common ones).
 * Every call returns 0 or the value when non-negative and {@code -errno} on failure. Thread-safe:
 * stateless, but each {@link NativeScratch} is confined to its thread.
 */
public final class SockOpts {
    /** {@code SOL_SOCKET}. */
    public static final int SOL_SOCKET = net_h.SOL_SOCKET();
    /** {@code IPPROTO_TCP}. */
    public static final int IPPROTO_TCP = net_h.IPPROTO_TCP();
    /** {@code SO_ERROR}: the pending error of a socket, e.g. the result of a non-blocking connect. */
    public static final int SO_ERROR = net_h.SO_ERROR();
    /** {@code SO_REUSEADDR}. */
    public static final int SO_REUSEADDR = net_h.SO_REUSEADDR();
    /** {@code SO_RCVBUF}. */
    public static final int SO_RCVBUF = net_h.SO_RCVBUF();
    /** {@code SO_SNDBUF}. */
    public static final int SO_SNDBUF = net_h.SO_SNDBUF();
    /** {@code IPPROTO_IPV6}. */
    public static final int IPPROTO_IPV6 = net_h.IPPROTO_IPV6();
    /** {@code IPV6_V6ONLY}. */
    public static final int IPV6_V6ONLY = net_h.IPV6_V6ONLY();
    /** {@code TCP_NODELAY}. */
    public static final int TCP_NODELAY = net_h.TCP_NODELAY();

    private SockOpts() { }

    /** {@return 0, or {@code -errno}} Sets an {@code int}-valued option. */
    public static int setInt(NativeScratch scratch, int fd, int level, int name, int value) {
        MemorySegment word = scratch.word();
        word.set(ValueLayout.JAVA_INT, 0, value);
        int r = net_h.setsockopt(scratch.capture(), fd, level, name, word, Integer.BYTES);
        return r < 0 ? scratch.failure() : 0;
    }

    /**
     * Reads an {@code int}-valued option.
     *
     * @return the value in the low 32 bits when the call succeeded ({@code result >= 0} as a long),
     *         or {@code -errno}; use {@code (int) result} for the value
     */
    public static long getInt(NativeScratch scratch, int fd, int level, int name) {
        MemorySegment word = scratch.word();
        MemorySegment length = scratch.length();
        word.set(ValueLayout.JAVA_INT, 0, 0);
        length.set(ValueLayout.JAVA_INT, 0, Integer.BYTES);
        int r = net_h.getsockopt(scratch.capture(), fd, level, name, word, length);
        return r < 0 ? scratch.failure() : Integer.toUnsignedLong(word.get(ValueLayout.JAVA_INT, 0));
    }

    /** {@return 0, or {@code -errno}} Sets an option from raw bytes ({@code value} must be native). */
    public static int setBytes(NativeScratch scratch, int fd, int level, int name, MemorySegment value) {
        int r = net_h.setsockopt(scratch.capture(), fd, level, name, value, Math.toIntExact(value.byteSize()));
        return r < 0 ? scratch.failure() : 0;
    }

    /**
     * {@return the number of bytes the kernel wrote into {@code out}, or {@code -errno}} Reads an
     * option into the native segment {@code out}, whose size is passed as the maximum length.
     */
    public static int getBytes(NativeScratch scratch, int fd, int level, int name, MemorySegment out) {
        MemorySegment length = scratch.length();
        length.set(ValueLayout.JAVA_INT, 0, Math.toIntExact(out.byteSize()));
        int r = net_h.getsockopt(scratch.capture(), fd, level, name, out, length);
        return r < 0 ? scratch.failure() : length.get(ValueLayout.JAVA_INT, 0);
    }
}
