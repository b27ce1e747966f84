package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.internal.sys.SockOpts;
import dev.loriffm.internal.sys.TcpInfoField;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The socket options of one connection: lori's calls (results are errno values, 1 when the
 * connection is not open) and typed helpers. Only an open connection touches its socket.
 *
 * <p>Loop-confined: not thread-safe.
 */
final class SocketOptions {
    /** What every option call reports when the connection is not open (lori returns 1). */
    static final int NOT_OPEN = 1;
    private static final int CONGESTION_NAME_MAX = 64;

    private final TcpConnection connection;
    private final TcpBackend backend;
    private final Reactor loop;

    SocketOptions(TcpConnection connection, TcpBackend backend, Reactor loop) {
        this.connection = connection;
        this.backend = backend;
        this.loop = loop;
    }

    private int fd() {
        return connection.optionFd();
    }

    /** lori's {@code keepalive}: 0 = off; else on, idle = count = secs / 2 (at least 1), interval 1 s. */
    void keepalive(int secs) {
        int fd = fd();
        if (fd < 0) {
            return;
        }
        if (secs == 0) {
            backend.setIntOption(loop, fd, SockOpts.SOL_SOCKET, SockOpts.SO_KEEPALIVE, 0);
            return;
        }
        int half = Math.max(1, secs / 2);
        backend.setIntOption(loop, fd, SockOpts.SOL_SOCKET, SockOpts.SO_KEEPALIVE, 1);
        backend.setIntOption(loop, fd, SockOpts.IPPROTO_TCP, SockOpts.TCP_KEEPCNT, half);
        backend.setIntOption(loop, fd, SockOpts.IPPROTO_TCP, SockOpts.TCP_KEEPIDLE, half);
        backend.setIntOption(loop, fd, SockOpts.IPPROTO_TCP, SockOpts.TCP_KEEPINTVL, 1);
    }

    int setInt(int level, int name, int value) {
        int fd = fd();
        return fd < 0 ? NOT_OPEN : -backend.setIntOption(loop, fd, level, name, value);
    }

    IntOptionResult getInt(int level, int name) {
        int fd = fd();
        if (fd < 0) {
            return new IntOptionResult(NOT_OPEN, 0);
        }
        long r = backend.intOption(loop, fd, level, name);
        return r < 0 ? new IntOptionResult((int) -r, 0) : new IntOptionResult(0, (int) r);
    }

    int setBytes(int level, int name, byte[] value) {
        int fd = fd();
        if (fd < 0) {
            return NOT_OPEN;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, copy, ValueLayout.JAVA_BYTE, 0, value.length);
            return -backend.setOption(loop, fd, level, name, copy.asSlice(0, value.length));
        }
    }

    BytesOptionResult getBytes(int level, int name, int maxSize) {
        if (maxSize < 0) {
            throw new IllegalArgumentException("option size must not be negative: " + maxSize);
        }
        int fd = fd();
        if (fd < 0) {
            return new BytesOptionResult(NOT_OPEN, new byte[0]);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(Math.max(1, maxSize)).asSlice(0, maxSize);
            int n = backend.option(loop, fd, level, name, out);
            if (n < 0) {
                return new BytesOptionResult(-n, new byte[0]);
            }
            return new BytesOptionResult(0, out.asSlice(0, Math.min(n, maxSize)).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    OptionResult<TcpInfo> tcpInfo() {
        int fd = fd();
        if (fd < 0) {
            return notOpen();
        }
        long[] values = new long[TcpInfoField.values().length];
        int n = backend.tcpInfo(loop, fd, values);
        return n < 0 ? failed(-n) : new OptionResult.Value<>(TcpInfo.of(values));
    }

    int setLinger(Linger linger) {
        int fd = fd();
        return fd < 0 ? NOT_OPEN : -backend.setLinger(loop, fd, linger.on(), linger.seconds());
    }

    OptionResult<Linger> linger() {
        int fd = fd();
        if (fd < 0) {
            return notOpen();
        }
        long r = backend.linger(loop, fd);
        return r < 0 ? failed((int) -r) : new OptionResult.Value<>(new Linger((r >>> 32) != 0, (int) r));
    }

    int setCongestion(String algorithm) {
        byte[] name = algorithm.getBytes(StandardCharsets.US_ASCII);
        return setBytes(SockOpts.IPPROTO_TCP, SockOpts.TCP_CONGESTION, name);
    }

    OptionResult<String> congestion() {
        BytesOptionResult r = getBytes(SockOpts.IPPROTO_TCP, SockOpts.TCP_CONGESTION, CONGESTION_NAME_MAX);
        if (!r.ok()) {
            return failed(r.errno());
        }
        byte[] bytes = r.value();
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new OptionResult.Value<>(new String(bytes, 0, end, StandardCharsets.US_ASCII));
    }

    OptionResult<Integer> intValue(int level, int name) {
        IntOptionResult r = getInt(level, name);
        return r.ok() ? new OptionResult.Value<>(r.value()) : failed(r.errno());
    }

    /** {@code IP_TOS} on an IPv4 socket, {@code IPV6_TCLASS} on an IPv6 one. */
    int setTrafficClass(int value) {
        int fd = fd();
        if (fd < 0) {
            return NOT_OPEN;
        }
        return isIpv6(fd) ? setInt(SockOpts.IPPROTO_IPV6, SockOpts.IPV6_TCLASS, value)
                : setInt(SockOpts.IPPROTO_IP, SockOpts.IP_TOS, value);
    }

    OptionResult<Integer> trafficClass() {
        int fd = fd();
        if (fd < 0) {
            return notOpen();
        }
        return isIpv6(fd) ? intValue(SockOpts.IPPROTO_IPV6, SockOpts.IPV6_TCLASS)
                : intValue(SockOpts.IPPROTO_IP, SockOpts.IP_TOS);
    }

    private boolean isIpv6(int fd) {
        InetSocketAddress local = backend.localAddress(loop, fd);
        return local != null && local.getAddress() instanceof Inet6Address;
    }

    private static <T> OptionResult<T> notOpen() {
        return new OptionResult.Failed<>(NOT_OPEN, "the connection is not open");
    }

    private static <T> OptionResult<T> failed(int errno) {
        return new OptionResult.Failed<>(errno, Errno.describe(errno));
    }
}
