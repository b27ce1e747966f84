package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.msghdr;
import dev.loriffm.internal.bindings.net_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;

/**
 * Socket calls: create, bind, listen, accept, connect, shutdown, and address queries.
 *
 * <p>Sockets are created non-blocking and close-on-exec. Every call returns its result when
 * non-negative and {@code -errno} on failure; EINTR is retried here. Thread-safe: stateless, but
 * each {@link NativeScratch} is confined to its thread.
 */
public final class Sockets {
    /** {@code SOCK_NONBLOCK | SOCK_CLOEXEC}: every socket the runtime creates or accepts. */
    private static final int FLAGS = net_h.SOCK_NONBLOCK() | net_h.SOCK_CLOEXEC();
    private static final int MSG_NOSIGNAL = net_h.MSG_NOSIGNAL();
    /** {@code SHUT_WR}: half-close, sending FIN. */
    public static final int SHUT_WR = net_h.SHUT_WR();
    /** {@code SHUT_RDWR}. */
    public static final int SHUT_RDWR = net_h.SHUT_RDWR();
    /** {@code SOMAXCONN}: the kernel's cap on the accept backlog. */
    public static final int SOMAXCONN = net_h.SOMAXCONN();

    private Sockets() { }

    /** {@return a new non-blocking TCP socket of the address family of {@code forAddress}, or {@code -errno}} */
    public static int tcpSocket(NativeScratch scratch, InetSocketAddress forAddress) {
        int family = forAddress.getAddress() instanceof java.net.Inet6Address
                ? SocketAddresses.AF_INET6 : SocketAddresses.AF_INET;
        int r = net_h.socket(scratch.capture(), family, net_h.SOCK_STREAM() | FLAGS, 0);
        return r < 0 ? scratch.failure() : r;
    }

    /**
     * {@return 0 and the two connected fds in {@code fds[0..1]}, or {@code -errno}} Creates a
     * non-blocking AF_UNIX stream socket pair.
     */
    public static int socketPair(NativeScratch scratch, int[] fds) {
        MemorySegment out = scratch.word();
        int r = net_h.socketpair(scratch.capture(), net_h.AF_UNIX(), net_h.SOCK_STREAM() | FLAGS, 0, out);
        if (r < 0) {
            return scratch.failure();
        }
        fds[0] = out.get(ValueLayout.JAVA_INT, 0);
        fds[1] = out.get(ValueLayout.JAVA_INT, 4);
        return 0;
    }

    /** {@return 0, or {@code -errno}} */
    public static int bind(NativeScratch scratch, int fd, InetSocketAddress address) {
        int length = SocketAddresses.write(address, scratch.sockaddr());
        int r = net_h.bind(scratch.capture(), fd, scratch.sockaddr(), length);
        return r < 0 ? scratch.failure() : 0;
    }

    /** {@return 0, or {@code -errno}} */
    public static int listen(NativeScratch scratch, int fd, int backlog) {
        int r = net_h.listen(scratch.capture(), fd, backlog);
        return r < 0 ? scratch.failure() : 0;
    }

    /**
     * {@return an accepted non-blocking fd, or {@code -errno} (-EAGAIN when none is pending)}
     * The peer's address is not collected; ask {@link #peerAddress} when needed.
     */
    public static int accept(NativeScratch scratch, int listenFd) {
        int r;
        do {
            r = net_h.accept4(scratch.capture(), listenFd, MemorySegment.NULL, MemorySegment.NULL, FLAGS);
        } while (r < 0 && scratch.errno() == Errno.EINTR);
        return r < 0 ? scratch.failure() : r;
    }

    /** {@return 0 if connected at once, or {@code -errno}: {@code -EINPROGRESS} for a started connect} */
    public static int connect(NativeScratch scratch, int fd, InetSocketAddress address) {
        int length = SocketAddresses.write(address, scratch.sockaddr());
        int r = net_h.connect(scratch.capture(), fd, scratch.sockaddr(), length);
        // EINTR on a non-blocking connect means it proceeds asynchronously, exactly like EINPROGRESS.
        if (r < 0 && scratch.errno() == Errno.EINTR) {
            return -Errno.EINPROGRESS;
        }
        return r < 0 ? scratch.failure() : 0;
    }

    /**
     * {@return bytes sent, or {@code -errno} (-EAGAIN when the socket buffer is full)} Sends one
     * buffer with {@code MSG_NOSIGNAL} (a closed peer gives EPIPE, never SIGPIPE). {@code buffer}
     * may be a heap segment: the call is linked {@code critical(true)}, so no copy is made.
     */
    public static long send(NativeScratch scratch, int fd, MemorySegment buffer) {
        long r;
        do {
            r = net_h.send(scratch.capture(), fd, buffer, buffer.byteSize(), MSG_NOSIGNAL);
        } while (r < 0 && scratch.errno() == Errno.EINTR);
        return r < 0 ? scratch.failure() : r;
    }

    /**
     * {@return bytes sent, or {@code -errno}} Sends the first {@code count} iovecs of
     * {@link NativeScratch#iovecs()} with one {@code sendmsg(MSG_NOSIGNAL)}: a gathering write
     * that never raises SIGPIPE.
     */
    public static long sendIovecs(NativeScratch scratch, int fd, int count) {
        MemorySegment message = scratch.message();
        msghdr.msg_iovlen(message, count);
        long r;
        do {
            r = net_h.sendmsg(scratch.capture(), fd, message, MSG_NOSIGNAL);
        } while (r < 0 && scratch.errno() == Errno.EINTR);
        return r < 0 ? scratch.failure() : r;
    }

    /** {@return bytes received, 0 at end of stream, or {@code -errno} (-EAGAIN when nothing is ready)} */
    public static long receive(NativeScratch scratch, int fd, MemorySegment buffer) {
        long r;
        do {
            r = net_h.recv(scratch.capture(), fd, buffer, buffer.byteSize(), 0);
        } while (r < 0 && scratch.errno() == Errno.EINTR);
        return r < 0 ? scratch.failure() : r;
    }

    /** {@return 0, or {@code -errno}} {@code how} is {@link #SHUT_WR} or {@link #SHUT_RDWR}. */
    public static int shutdown(NativeScratch scratch, int fd, int how) {
        int r = net_h.shutdown(scratch.capture(), fd, how);
        return r < 0 ? scratch.failure() : 0;
    }

    /** {@return the socket's local address, or null if the call fails or the family is not IP} */
    public static InetSocketAddress localAddress(NativeScratch scratch, int fd) {
        MemorySegment length = scratch.length();
        length.set(ValueLayout.JAVA_INT, 0, (int) scratch.sockaddr().byteSize());
        int r = net_h.getsockname(scratch.capture(), fd, scratch.sockaddr(), length);
        return r < 0 ? null : SocketAddresses.read(scratch.sockaddr(), length.get(ValueLayout.JAVA_INT, 0));
    }

    /** {@return the connected peer's address, or null if not connected or the family is not IP} */
    public static InetSocketAddress peerAddress(NativeScratch scratch, int fd) {
        MemorySegment length = scratch.length();
        length.set(ValueLayout.JAVA_INT, 0, (int) scratch.sockaddr().byteSize());
        int r = net_h.getpeername(scratch.capture(), fd, scratch.sockaddr(), length);
        return r < 0 ? null : SocketAddresses.read(scratch.sockaddr(), length.get(ValueLayout.JAVA_INT, 0));
    }
}
