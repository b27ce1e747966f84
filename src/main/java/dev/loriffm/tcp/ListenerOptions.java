package dev.loriffm.tcp;

import dev.loriffm.internal.sys.Sockets;

import java.util.Objects;

/**
 * The optional parameters of a {@link TcpListener}; {@link #DEFAULT} has lori's defaults.
 *
 * @param ipVersion          IP4, IP6, or DUAL_STACK (an IPv6 socket that also accepts IPv4)
 * @param limit              the most connections open at once, or {@code null} for no limit
 * @param backlog            the accept backlog ({@code listen(2)}; the kernel caps it at {@code somaxconn})
 * @param reusePort          {@code SO_REUSEPORT}: let several listeners bind the same port (the
 *                           kernel balances connections between them)
 * @param deferAcceptSeconds {@code TCP_DEFER_ACCEPT}: accept only once data arrived, waiting at most
 *                           this long (0 = off)
 * @param fastOpenQueue      {@code TCP_FASTOPEN}: the queue of pending TFO requests (0 = off)
 */
public record ListenerOptions(IpVersion ipVersion, MaxSpawn limit, int backlog, boolean reusePort,
                              int deferAcceptSeconds, int fastOpenQueue) {
    /** The kernel's largest accept backlog ({@code SOMAXCONN}). */
    public static final int SOMAXCONN = Sockets.SOMAXCONN;

    /** Dual stack, 100,000 connections, backlog {@code SOMAXCONN}, no extra socket options. */
    public static final ListenerOptions DEFAULT =
            new ListenerOptions(IpVersion.DUAL_STACK, MaxSpawn.DEFAULT, SOMAXCONN, false, 0, 0);

    /**
     * @throws NullPointerException     if {@code ipVersion} is null
     * @throws IllegalArgumentException if {@code backlog < 1} or a seconds/queue value is negative
     */
    public ListenerOptions {
        Objects.requireNonNull(ipVersion, "ipVersion");
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be at least 1, not " + backlog);
        }
        if (deferAcceptSeconds < 0 || fastOpenQueue < 0) {
            throw new IllegalArgumentException("TCP_DEFER_ACCEPT and TCP_FASTOPEN values must not be negative");
        }
    }

    /** {@return a copy binding {@code version}} */
    public ListenerOptions withIpVersion(IpVersion version) {
        return new ListenerOptions(version, limit, backlog, reusePort, deferAcceptSeconds, fastOpenQueue);
    }

    /** {@return a copy with the connection limit ({@code null} for none)} */
    public ListenerOptions withLimit(MaxSpawn maxSpawn) {
        return new ListenerOptions(ipVersion, maxSpawn, backlog, reusePort, deferAcceptSeconds, fastOpenQueue);
    }

    /** {@return a copy with the accept backlog} */
    public ListenerOptions withBacklog(int size) {
        return new ListenerOptions(ipVersion, limit, size, reusePort, deferAcceptSeconds, fastOpenQueue);
    }

    /** {@return a copy with {@code SO_REUSEPORT} on or off} */
    public ListenerOptions withReusePort(boolean on) {
        return new ListenerOptions(ipVersion, limit, backlog, on, deferAcceptSeconds, fastOpenQueue);
    }

    /** {@return a copy with {@code TCP_DEFER_ACCEPT} of {@code seconds} (0 = off)} */
    public ListenerOptions withDeferAccept(int seconds) {
        return new ListenerOptions(ipVersion, limit, backlog, reusePort, seconds, fastOpenQueue);
    }

    /** {@return a copy with {@code TCP_FASTOPEN} queue {@code length} (0 = off)} */
    public ListenerOptions withFastOpen(int length) {
        return new ListenerOptions(ipVersion, limit, backlog, reusePort, deferAcceptSeconds, length);
    }
}
