package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.IoHandler;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Dns;
import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.internal.sys.Fds;

import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link TcpBackend} with no sockets, for deterministic state-machine tests (lori's fake
 * backends). Every operation succeeds by default; subclasses override what a test scripts. Fake
 * fds start at 10,000 and are never real. Events are injected with {@link #fire}, which runs the
 * registered handler on the loop thread, exactly as epoll readiness would.
 *
 * <p>Thread-safe where tests touch it from their own thread (handlers, records).
 */
class FakeBackend implements TcpBackend {
    static final int READABLE = Epoll.EPOLLIN;
    static final int WRITEABLE = Epoll.EPOLLOUT;

    private final AtomicInteger nextFd = new AtomicInteger(10_000);
    final Map<Integer, IoHandler> handlers = new ConcurrentHashMap<>();
    final Map<Integer, Reactor> loops = new ConcurrentHashMap<>();
    /** Every fd the connection or listener closed, in order. */
    final List<Integer> closed = new CopyOnWriteArrayList<>();
    /** Every fd that got a FIN. */
    final List<Integer> finished = new CopyOnWriteArrayList<>();

    int newFd() {
        return nextFd.getAndIncrement();
    }

    static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** Delivers readiness {@code events} for {@code fd} on its loop, as epoll would. */
    void fire(int fd, int events) {
        Reactor loop = loops.get(fd);
        IoHandler handler = handlers.get(fd);
        if (loop == null || handler == null) {
            throw new IllegalStateException("fd " + fd + " was never registered");
        }
        loop.execute(() -> handler.onIo(fd, events));
    }

    @Override
    public Dns.Resolution resolve(String host, int port, IpVersion ipVersion, boolean passive) {
        return new Dns.Resolved(List.of(address("127.0.0.1", port)));
    }

    @Override
    public int startConnect(Reactor loop, InetSocketAddress target, InetSocketAddress from, IoHandler handler) {
        int fd = newFd();
        handlers.put(fd, handler);
        loops.put(fd, loop);
        return fd;
    }

    @Override
    public int socketError(Reactor loop, int fd) {
        return 0;
    }

    @Override
    public int register(Reactor loop, int fd, IoHandler handler) {
        handlers.put(fd, handler);
        loops.put(fd, loop);
        return 0;
    }

    @Override
    public long receive(Reactor loop, int fd, MemorySegment into) {
        return -Errno.EAGAIN;
    }

    @Override
    public long send(Reactor loop, int fd, MemorySegment data) {
        return data.byteSize();
    }

    @Override
    public long sendIovecs(Reactor loop, int fd, int count) {
        long total = 0;
        for (int i = 0; i < count; i++) {
            total += Fds.iovecLength(loop.scratch(), i);
        }
        return total;
    }

    @Override
    public int shutdownWrite(Reactor loop, int fd) {
        finished.add(fd);
        return 0;
    }

    @Override
    public void close(Reactor loop, int fd) {
        closed.add(fd);
        handlers.remove(fd);
    }

    @Override
    public ListenOutcome listen(Reactor loop, InetSocketAddress address, boolean dualStack, IoHandler handler) {
        int fd = newFd();
        handlers.put(fd, handler);
        loops.put(fd, loop);
        return new Listening(fd);
    }

    @Override
    public int accept(Reactor loop, int listenFd) {
        return -Errno.EAGAIN;
    }

    @Override
    public InetSocketAddress localAddress(Reactor loop, int fd) {
        return address("127.0.0.1", 40000);
    }

    @Override
    public InetSocketAddress peerAddress(Reactor loop, int fd) {
        return address("127.0.0.1", 40001);
    }

    @Override
    public int setIntOption(Reactor loop, int fd, int level, int name, int value) {
        return 0;
    }

    @Override
    public long intOption(Reactor loop, int fd, int level, int name) {
        return 0;
    }

    @Override
    public int setOption(Reactor loop, int fd, int level, int name, MemorySegment value) {
        return 0;
    }

    @Override
    public int option(Reactor loop, int fd, int level, int name, MemorySegment out) {
        return 0;
    }

    @Override
    public int tcpInfo(Reactor loop, int fd, long[] values) {
        return 0;
    }

    @Override
    public int setLinger(Reactor loop, int fd, boolean on, int seconds) {
        return 0;
    }

    @Override
    public long linger(Reactor loop, int fd) {
        return 0;
    }
}
