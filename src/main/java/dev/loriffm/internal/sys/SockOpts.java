package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.linger;
import dev.loriffm.internal.bindings.net_h;
import dev.loriffm.internal.bindings.tcp_info;

import java.lang.foreign.Arena;

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
    /** {@code IPPROTO_IP}: the IPv4 option level. */
    public static final int IPPROTO_IP = net_h.IPPROTO_IP();
    /** {@code SO_KEEPALIVE}. */
    public static final int SO_KEEPALIVE = net_h.SO_KEEPALIVE();
    /** {@code SO_REUSEPORT}. */
    public static final int SO_REUSEPORT = net_h.SO_REUSEPORT();
    /** {@code SO_LINGER} (a {@code struct linger}). */
    public static final int SO_LINGER = net_h.SO_LINGER();
    /** {@code SO_PRIORITY}. */
    public static final int SO_PRIORITY = net_h.SO_PRIORITY();
    /** {@code SO_MARK}. */
    public static final int SO_MARK = net_h.SO_MARK();
    /** {@code TCP_MAXSEG}. */
    public static final int TCP_MAXSEG = net_h.TCP_MAXSEG();
    /** {@code TCP_CORK}. */
    public static final int TCP_CORK = net_h.TCP_CORK();
    /** {@code TCP_KEEPIDLE}. */
    public static final int TCP_KEEPIDLE = net_h.TCP_KEEPIDLE();
    /** {@code TCP_KEEPINTVL}. */
    public static final int TCP_KEEPINTVL = net_h.TCP_KEEPINTVL();
    /** {@code TCP_KEEPCNT}. */
    public static final int TCP_KEEPCNT = net_h.TCP_KEEPCNT();
    /** {@code TCP_QUICKACK}. */
    public static final int TCP_QUICKACK = net_h.TCP_QUICKACK();
    /** {@code TCP_CONGESTION} (the algorithm name, a C string). */
    public static final int TCP_CONGESTION = net_h.TCP_CONGESTION();
    /** {@code TCP_USER_TIMEOUT} (milliseconds). */
    public static final int TCP_USER_TIMEOUT = net_h.TCP_USER_TIMEOUT();
    /** {@code TCP_NOTSENT_LOWAT}. */
    public static final int TCP_NOTSENT_LOWAT = net_h.TCP_NOTSENT_LOWAT();
    /** {@code TCP_INFO} (a {@code struct tcp_info}). */
    public static final int TCP_INFO = net_h.TCP_INFO();
    /** {@code TCP_DEFER_ACCEPT} (seconds). */
    public static final int TCP_DEFER_ACCEPT = net_h.TCP_DEFER_ACCEPT();
    /** {@code TCP_FASTOPEN} (queue length). */
    public static final int TCP_FASTOPEN = net_h.TCP_FASTOPEN();
    /** {@code TCP_ESTABLISHED}: the {@code tcpi_state} of an established connection. */
    public static final int TCP_ESTABLISHED = net_h.TCP_ESTABLISHED();
    /** {@code IP_TOS}. */
    public static final int IP_TOS = net_h.IP_TOS();
    /** {@code IP_TTL}. */
    public static final int IP_TTL = net_h.IP_TTL();
    /** {@code IPV6_TCLASS}. */
    public static final int IPV6_TCLASS = net_h.IPV6_TCLASS();
    /** {@code IPV6_UNICAST_HOPS}. */
    public static final int IPV6_UNICAST_HOPS = net_h.IPV6_UNICAST_HOPS();
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

    /** {@return 0, or {@code -errno}} Sets {@code SO_LINGER}: {@code on} with {@code seconds}, or off. */
    public static int setLinger(NativeScratch scratch, int fd, boolean on, int seconds) {
        MemorySegment value = scratch.word();
        linger.l_onoff(value, on ? 1 : 0);
        linger.l_linger(value, seconds);
        int r = net_h.setsockopt(scratch.capture(), fd, SOL_SOCKET, SO_LINGER, value, (int) linger.sizeof());
        return r < 0 ? scratch.failure() : 0;
    }

    /**
     * Reads {@code SO_LINGER}.
     *
     * @return {@code -errno}, or {@code (onoff != 0 ? 1L << 32 : 0) | seconds}
     */
    public static long linger(NativeScratch scratch, int fd) {
        MemorySegment value = scratch.word().asSlice(0, linger.sizeof());
        int n = getBytes(scratch, fd, SOL_SOCKET, SO_LINGER, value);
        if (n < 0) {
            return n;
        }
        return (linger.l_onoff(value) != 0 ? 1L << 32 : 0) | (linger.l_linger(value) & 0xFFFF_FFFFL);
    }

    /**
     * Reads {@code TCP_INFO} into {@code values}, indexed by {@link TcpInfoField#ordinal()}; fields
     * the kernel did not return are 0.
     *
     * @return the number of bytes the kernel returned, or {@code -errno}
     */
    public static int tcpInfo(NativeScratch scratch, int fd, long[] values) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = tcp_info.allocate(arena);
            int n = getBytes(scratch, fd, IPPROTO_TCP, TCP_INFO, info);
            if (n < 0) {
                return n;
            }
            for (TcpInfoField field : TcpInfoField.values()) {
                values[field.ordinal()] = field.read(info, n);
            }
            return n;
        }
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
