package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.IoHandler;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Dns;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/**
 * The socket operations connections and listeners use: the seam between the state machines and
 * the kernel. {@link SystemBackend} is the real one; tests substitute fakes to drive the state
 * machine deterministically (lori's {@code TCPBackend}).
 *
 * <p>Results follow the {@code sys} convention: {@code >= 0} is a result, {@code < 0} is
 * {@code -errno}. Every method but {@link #resolve} runs on the loop thread.
 */
interface TcpBackend {

    /** Resolves a host for connecting or ({@code passive}) listening. Blocking: runs off the loop. */
    Dns.Resolution resolve(String host, int port, IpVersion ipVersion, boolean passive);

    /**
     * Creates a non-blocking socket for {@code target}, binds it to {@code from} if not null,
     * starts connecting and registers it with {@code handler}.
     *
     * @return the fd of the attempt in flight, or {@code -errno} (nothing is left open)
     */
    int startConnect(Reactor loop, InetSocketAddress target, InetSocketAddress from, IoHandler handler);

    /** {@return the socket's pending error ({@code SO_ERROR}), 0 if none} */
    int socketError(Reactor loop, int fd);

    /** Registers an accepted socket. {@return 0 or {@code -errno}} */
    int register(Reactor loop, int fd, IoHandler handler);

    /** {@return bytes read, 0 at end of stream, or {@code -errno}} */
    long receive(Reactor loop, int fd, MemorySegment into);

    /** {@return bytes written from {@code data} (heap or native), or {@code -errno}} */
    long send(Reactor loop, int fd, MemorySegment data);

    /** {@return bytes written from the first {@code count} iovecs of the loop's scratch, or {@code -errno}} */
    long sendIovecs(Reactor loop, int fd, int count);

    /** Sends FIN. {@return 0 or {@code -errno}} */
    int shutdownWrite(Reactor loop, int fd);

    /** Deregisters and closes {@code fd}. */
    void close(Reactor loop, int fd);

    /**
     * Creates, binds and listens on a socket for {@code address} and registers it.
     *
     * @return the listening fd, or a failure naming the stage
     */
    ListenOutcome listen(Reactor loop, InetSocketAddress address, boolean dualStack, IoHandler handler);

    /**
     * As {@link #listen(Reactor, InetSocketAddress, boolean, IoHandler)}, applying {@code options}
     * (backlog, {@code SO_REUSEPORT} before bind, {@code TCP_DEFER_ACCEPT}, {@code TCP_FASTOPEN}).
     * Fakes that do not care keep the simpler method.
     */
    default ListenOutcome listen(Reactor loop, InetSocketAddress address, ListenerOptions options, IoHandler handler) {
        return listen(loop, address, options.ipVersion() == IpVersion.DUAL_STACK, handler);
    }

    /** {@return an accepted non-blocking fd, or {@code -errno} (-EAGAIN when none is pending)} */
    int accept(Reactor loop, int listenFd);

    /** {@return the local address of {@code fd}, or null} */
    InetSocketAddress localAddress(Reactor loop, int fd);

    /** {@return the peer address of {@code fd}, or null} */
    InetSocketAddress peerAddress(Reactor loop, int fd);

    /** Sets an int socket option. {@return 0 or {@code -errno}} */
    int setIntOption(Reactor loop, int fd, int level, int name, int value);

    /** {@return the option's value (as an unsigned 32-bit value), or {@code -errno}} */
    long intOption(Reactor loop, int fd, int level, int name);

    /** Sets an option from the bytes of the native segment {@code value}. {@return 0 or {@code -errno}} */
    int setOption(Reactor loop, int fd, int level, int name, MemorySegment value);

    /** Reads an option into the native segment {@code out}. {@return the bytes written, or {@code -errno}} */
    int option(Reactor loop, int fd, int level, int name, MemorySegment out);

    /** Reads {@code TCP_INFO} into {@code values} (by {@code TcpInfoField} ordinal). {@return bytes or {@code -errno}} */
    int tcpInfo(Reactor loop, int fd, long[] values);

    /** Sets {@code SO_LINGER}. {@return 0 or {@code -errno}} */
    int setLinger(Reactor loop, int fd, boolean on, int seconds);

    /** {@return {@code -errno}, or {@code (on ? 1L << 32 : 0) | seconds}} */
    long linger(Reactor loop, int fd);

    /** The outcome of {@link #listen}. */
    sealed interface ListenOutcome permits Listening, ListenFailed { }

    /** @param fd the listening fd */
    record Listening(int fd) implements ListenOutcome { }

    /**
     * @param stage which call failed
     * @param errno its errno
     */
    record ListenFailed(String stage, int errno) implements ListenOutcome { }
}
