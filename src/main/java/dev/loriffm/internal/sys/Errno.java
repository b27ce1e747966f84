package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.BindingsManifest;
import dev.loriffm.internal.bindings.net_h;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * Errno values the runtime tests for, read from the generated bindings, and names and messages
 * for every errno the C library defines, built once.
 *
 * <p>Thread-safe: immutable after class initialisation.
 */
public final class Errno {
    /** Interrupted system call: retried inside {@code sys}, except by {@code epoll_wait}. */
    public static final int EINTR = net_h.EINTR();
    /** Non-blocking call would block (equal to {@code EWOULDBLOCK} on Linux). */
    public static final int EAGAIN = net_h.EAGAIN();
    /** Non-blocking connect has started. */
    public static final int EINPROGRESS = net_h.EINPROGRESS();
    /** Bad file descriptor. */
    public static final int EBADF = net_h.EBADF();
    /** Invalid argument. */
    public static final int EINVAL = net_h.EINVAL();
    /** Per-process file descriptor limit reached. */
    public static final int EMFILE = net_h.EMFILE();
    /** System-wide file descriptor limit reached. */
    public static final int ENFILE = net_h.ENFILE();
    /** Connection refused by the peer. */
    public static final int ECONNREFUSED = net_h.ECONNREFUSED();
    /** Connection reset by the peer. */
    public static final int ECONNRESET = net_h.ECONNRESET();
    /** Connection aborted before accept. */
    public static final int ECONNABORTED = net_h.ECONNABORTED();
    /** Write to a connection the peer has closed. */
    public static final int EPIPE = net_h.EPIPE();
    /** The socket is not connected. */
    public static final int ENOTCONN = net_h.ENOTCONN();
    /** Address already in use. */
    public static final int EADDRINUSE = net_h.EADDRINUSE();
    /** Operation timed out. */
    public static final int ETIMEDOUT = net_h.ETIMEDOUT();
    /** Protocol option not available. */
    public static final int ENOPROTOOPT = net_h.ENOPROTOOPT();
    /** No buffer space available (a send may report it under memory pressure). */
    public static final int ENOBUFS = net_h.ENOBUFS();
    /** Software caused connection abort (a connection reset before accept). */
    public static final int EPROTO = net_h.EPROTO();
    /** Address family not supported. */
    public static final int EAFNOSUPPORT = net_h.EAFNOSUPPORT();

    private static final Map<Integer, String> NAMES = names();
    private static final Map<Integer, String> MESSAGES = new HashMap<>();

    private Errno() { }

    private static Map<Integer, String> names() {
        Map<Integer, String> names = new HashMap<>();
        // The bindings list errno values by name; aliases (EWOULDBLOCK = EAGAIN) keep the first name.
        for (BindingsManifest.Constant c : BindingsManifest.constants()) {
            if (c.headerClass().equals("net_h") && c.name().matches("E[A-Z0-9]+")) {
                names.putIfAbsent((int) c.value(), c.name());
            }
        }
        return Map.copyOf(names);
    }

    /** {@return the symbolic name of {@code errno}, e.g. {@code "ECONNREFUSED"}, or {@code "errno N"}} */
    public static String name(int errno) {
        String name = NAMES.get(errno);
        return name != null ? name : "errno " + errno;
    }

    /** {@return {@code strerror(errno)}, e.g. {@code "Connection refused"}} */
    public static String message(int errno) {
        synchronized (MESSAGES) {
            // strerror's buffer is only stable for known values, and this is off every hot path.
            return MESSAGES.computeIfAbsent(errno, Errno::strerror);
        }
    }

    /** {@return {@code "NAME (message)"}, e.g. {@code "EBADF (Bad file descriptor)"}} */
    public static String describe(int errno) {
        return name(errno) + " (" + message(errno) + ")";
    }

    private static String strerror(int errno) {
        MemorySegment text = net_h.strerror(errno);
        return CStrings.read(text, 1024);
    }
}
