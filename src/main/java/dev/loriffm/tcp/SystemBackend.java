package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.IoHandler;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Dns;
import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.internal.sys.Fds;
import dev.loriffm.internal.sys.NativeScratch;
import dev.loriffm.internal.sys.SockOpts;
import dev.loriffm.internal.sys.Sockets;

import java.lang.foreign.MemorySegment;
import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** The real {@link TcpBackend}: non-blocking sockets through {@code sys}, registered edge-triggered. */
final class SystemBackend implements TcpBackend {
    static final SystemBackend INSTANCE = new SystemBackend();
    /** Every connection socket is watched for both directions and for the peer's FIN. */
    static final int CONNECTION_EVENTS = Epoll.EPOLLIN | Epoll.EPOLLOUT | Epoll.EPOLLRDHUP;

    private SystemBackend() { }

    @Override
    public Dns.Resolution resolve(String host, int port, IpVersion ipVersion, boolean passive) {
        Dns.Family family = switch (ipVersion) {
            case IP4 -> Dns.Family.IP4;
            case IP6 -> Dns.Family.IP6;
            case DUAL_STACK -> Dns.Family.ANY;
        };
        // AI_ADDRCONFIG for connecting, as lori does: skip families this host cannot reach.
        return Dns.resolve(host, port, family, false, passive, !passive);
    }

    @Override
    public int startConnect(Reactor loop, InetSocketAddress target, InetSocketAddress from, IoHandler handler) {
        NativeScratch scratch = loop.scratch();
        int fd = Sockets.tcpSocket(scratch, target);
        if (fd < 0) {
            return fd;
        }
        int r = 0;
        if (from != null) {
            r = SockOpts.setInt(scratch, fd, SockOpts.SOL_SOCKET, SockOpts.SO_REUSEADDR, 1);
            if (r == 0) {
                r = Sockets.bind(scratch, fd, from);
            }
        }
        if (r == 0) {
            r = Sockets.connect(scratch, fd, target);
            if (r == -Errno.EINPROGRESS) {
                r = 0;
            }
        }
        if (r == 0) {
            r = loop.register(fd, CONNECTION_EVENTS, handler);
        }
        if (r < 0) {
            Fds.close(scratch, fd);
            return r;
        }
        return fd;
    }

    @Override
    public int socketError(Reactor loop, int fd) {
        long r = SockOpts.getInt(loop.scratch(), fd, SockOpts.SOL_SOCKET, SockOpts.SO_ERROR);
        return r < 0 ? (int) -r : (int) r;
    }

    @Override
    public int register(Reactor loop, int fd, IoHandler handler) {
        return loop.register(fd, CONNECTION_EVENTS, handler);
    }

    @Override
    public long receive(Reactor loop, int fd, MemorySegment into) {
        return Sockets.receive(loop.scratch(), fd, into);
    }

    @Override
    public long send(Reactor loop, int fd, MemorySegment data) {
        return Sockets.send(loop.scratch(), fd, data);
    }

    @Override
    public long sendIovecs(Reactor loop, int fd, int count) {
        return Sockets.sendIovecs(loop.scratch(), fd, count);
    }

    @Override
    public int shutdownWrite(Reactor loop, int fd) {
        return Sockets.shutdown(loop.scratch(), fd, Sockets.SHUT_WR);
    }

    @Override
    public void close(Reactor loop, int fd) {
        loop.closeRegistered(fd);
    }

    @Override
    public ListenOutcome listen(Reactor loop, InetSocketAddress address, boolean dualStack, IoHandler handler) {
        ListenerOptions options = ListenerOptions.DEFAULT.withIpVersion(dualStack ? IpVersion.DUAL_STACK
                : address.getAddress() instanceof Inet6Address ? IpVersion.IP6 : IpVersion.IP4);
        return listen(loop, address, options, handler);
    }

    @Override
    public ListenOutcome listen(Reactor loop, InetSocketAddress address, ListenerOptions options, IoHandler handler) {
        NativeScratch scratch = loop.scratch();
        int fd = Sockets.tcpSocket(scratch, address);
        if (fd < 0) {
            return new ListenFailed("socket", -fd);
        }
        String stage = "setsockopt(SO_REUSEADDR)";
        int r = SockOpts.setInt(scratch, fd, SockOpts.SOL_SOCKET, SockOpts.SO_REUSEADDR, 1);
        if (r == 0 && options.reusePort()) {
            stage = "setsockopt(SO_REUSEPORT)";
            r = SockOpts.setInt(scratch, fd, SockOpts.SOL_SOCKET, SockOpts.SO_REUSEPORT, 1);
        }
        if (r == 0 && address.getAddress() instanceof Inet6Address) {
            stage = "setsockopt(IPV6_V6ONLY)";
            boolean dualStack = options.ipVersion() == IpVersion.DUAL_STACK;
            r = SockOpts.setInt(scratch, fd, SockOpts.IPPROTO_IPV6, SockOpts.IPV6_V6ONLY, dualStack ? 0 : 1);
        }
        if (r == 0) {
            stage = "bind";
            r = Sockets.bind(scratch, fd, address);
        }
        if (r == 0 && options.deferAcceptSeconds() > 0) {
            stage = "setsockopt(TCP_DEFER_ACCEPT)";
            r = SockOpts.setInt(scratch, fd, SockOpts.IPPROTO_TCP, SockOpts.TCP_DEFER_ACCEPT,
                    options.deferAcceptSeconds());
        }
        if (r == 0 && options.fastOpenQueue() > 0) {
            stage = "setsockopt(TCP_FASTOPEN)";
            r = SockOpts.setInt(scratch, fd, SockOpts.IPPROTO_TCP, SockOpts.TCP_FASTOPEN, options.fastOpenQueue());
        }
        if (r == 0) {
            stage = "listen";
            r = Sockets.listen(scratch, fd, options.backlog());
        }
        if (r == 0) {
            stage = "register";
            r = loop.register(fd, Epoll.EPOLLIN, handler);
        }
        if (r < 0) {
            Fds.close(scratch, fd);
            return new ListenFailed(stage, -r);
        }
        return new Listening(fd);
    }

    @Override
    public int accept(Reactor loop, int listenFd) {
        return Sockets.accept(loop.scratch(), listenFd);
    }

    @Override
    public InetSocketAddress localAddress(Reactor loop, int fd) {
        return Sockets.localAddress(loop.scratch(), fd);
    }

    @Override
    public InetSocketAddress peerAddress(Reactor loop, int fd) {
        return Sockets.peerAddress(loop.scratch(), fd);
    }

    @Override
    public int setIntOption(Reactor loop, int fd, int level, int name, int value) {
        return SockOpts.setInt(loop.scratch(), fd, level, name, value);
    }

    @Override
    public long intOption(Reactor loop, int fd, int level, int name) {
        return SockOpts.getInt(loop.scratch(), fd, level, name);
    }

    @Override
    public int setOption(Reactor loop, int fd, int level, int name, MemorySegment value) {
        return SockOpts.setBytes(loop.scratch(), fd, level, name, value);
    }

    @Override
    public int option(Reactor loop, int fd, int level, int name, MemorySegment out) {
        return SockOpts.getBytes(loop.scratch(), fd, level, name, out);
    }

    @Override
    public int tcpInfo(Reactor loop, int fd, long[] values) {
        return SockOpts.tcpInfo(loop.scratch(), fd, values);
    }

    @Override
    public int setLinger(Reactor loop, int fd, boolean on, int seconds) {
        return SockOpts.setLinger(loop.scratch(), fd, on, seconds);
    }

    @Override
    public long linger(Reactor loop, int fd) {
        return SockOpts.linger(loop.scratch(), fd);
    }
}
