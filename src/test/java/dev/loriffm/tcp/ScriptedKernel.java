package dev.loriffm.tcp;

import dev.loriffm.internal.bindings.iovec;
import dev.loriffm.internal.reactor.IoHandler;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.internal.sys.Fds;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.concurrent.CountDownLatch;

/**
 * A fake kernel for one connection, scripted step by step by {@link ConnectionStateMachineProperties}:
 * the peer's bytes, end of stream or error wait in a receive queue that {@code receive} hands out
 * as a kernel would (as much as fits, across chunks; EOF and errors are sticky), and every write
 * takes at most {@link #room} bytes (the free space of the socket's send buffer), answering EAGAIN
 * when there is none, or fails once {@link #failWrites} is armed. Every byte the connection read
 * or wrote is recorded, so the property can check the streams end to end.
 *
 * <p>Serves one accepted socket (server connections) or one connect attempt (client connections).
 * Apart from setup, it is used on the connection's loop thread only: the property touches it from
 * tasks it runs there, and reads it on the test thread after waiting for those tasks.
 */
final class ScriptedKernel extends FakeBackend {
    /** What the peer sent and the connection has not read: byte[] chunks, then maybe END or ERROR. */
    private final ArrayDeque<Object> inbound = new ArrayDeque<>();
    private static final Object END = "end of stream";
    private static final Object ERROR = "connection reset";

    /** Every byte {@code receive} handed to the connection. */
    final ByteArrayOutputStream handedOut = new ByteArrayOutputStream();
    /** Every byte the connection's writes put on the wire. */
    final ByteArrayOutputStream written = new ByteArrayOutputStream();
    /** Free space in the send buffer: what the next writes may take. */
    long room;
    /** The next write fails with ECONNRESET. */
    boolean failWrites;
    /** {@code receive} reported end of stream or an error: the connection must be closed. */
    boolean endHandedOut;
    /** A write returned an error: the connection must be closed. */
    boolean writeFailed;
    /** Bytes written when the connection sent FIN, or -1. */
    long writtenAtFin = -1;
    /** The peer's end (EOF or error) is queued: nothing more can arrive. */
    boolean peerEnded;
    /** Calls the connection made into this kernel (reads, writes, FIN, close): activity to wait out. */
    long syscalls;

    /** The connection's socket (the accepted one, or the connect attempt), once known. */
    volatile int socketFd = -1;
    private boolean acceptedOne;
    /** Opens when the client's connect attempt has started. */
    final CountDownLatch attemptStarted = new CountDownLatch(1);
    /** {@code SO_ERROR} the connect attempt reports. */
    volatile int connectError;

    ScriptedKernel(long initialRoom) {
        this.room = initialRoom;
    }

    // ------------------------------------------------------------------ scripting (loop thread)

    /** The peer's bytes arrive. */
    void arrive(byte[] data) {
        if (data.length > 0) {
            inbound.add(data);
        }
    }

    /** The peer's FIN arrives. */
    void arriveEnd() {
        inbound.add(END);
        peerEnded = true;
    }

    /** The connection is reset: the next read reports ECONNRESET. */
    void arriveError() {
        inbound.add(ERROR);
        peerEnded = true;
    }

    /** {@return whether the receive queue still holds anything for the connection to read} */
    boolean inboundPending() {
        return !inbound.isEmpty();
    }

    /** Delivers readiness {@code events} for the connection's socket, now, as epoll would. */
    void signal(int events) {
        IoHandler handler = handlers.get(socketFd);
        if (handler != null) { // a closed socket raises no event
            handler.onIo(socketFd, events);
        }
    }

    /** {@return how many times the connection's socket was closed} */
    int socketCloses() {
        return Collections.frequency(closed, socketFd);
    }

    // ------------------------------------------------------------------ TcpBackend

    @Override
    public void close(Reactor loop, int fd) {
        syscalls++;
        super.close(loop, fd);
    }

    @Override
    public int accept(Reactor loop, int listenFd) {
        if (acceptedOne) {
            return -Errno.EAGAIN;
        }
        acceptedOne = true;
        socketFd = newFd();
        return socketFd;
    }

    @Override
    public int startConnect(Reactor loop, InetSocketAddress target, InetSocketAddress from, IoHandler handler) {
        int attempt = super.startConnect(loop, target, from, handler);
        socketFd = attempt;
        attemptStarted.countDown();
        return attempt;
    }

    @Override
    public int socketError(Reactor loop, int fd) {
        return connectError;
    }

    @Override
    public long receive(Reactor loop, int fd, MemorySegment into) {
        syscalls++;
        Object head = inbound.peek();
        if (head == null) {
            return -Errno.EAGAIN;
        }
        if (head == END || head == ERROR) {
            endHandedOut = true; // sticky, as the kernel's: the item stays queued
            return head == END ? 0 : -Errno.ECONNRESET;
        }
        long copied = 0;
        while (copied < into.byteSize() && inbound.peek() instanceof byte[] chunk) {
            long n = Math.min(chunk.length, into.byteSize() - copied);
            MemorySegment.copy(MemorySegment.ofArray(chunk), 0, into, copied, n);
            handedOut.write(chunk, 0, (int) n);
            copied += n;
            inbound.poll();
            if (n < chunk.length) {
                byte[] rest = new byte[chunk.length - (int) n];
                System.arraycopy(chunk, (int) n, rest, 0, rest.length);
                inbound.addFirst(rest);
            }
        }
        return copied;
    }

    @Override
    public long send(Reactor loop, int fd, MemorySegment data) {
        syscalls++;
        long n = take(data.byteSize());
        if (n > 0) {
            written.writeBytes(data.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
        }
        return n;
    }

    @Override
    @SuppressWarnings("restricted") // reads back the iovecs the connection just filled, within their lengths
    public long sendIovecs(Reactor loop, int fd, int count) {
        syscalls++;
        long offered = 0;
        for (int i = 0; i < count; i++) {
            offered += Fds.iovecLength(loop.scratch(), i);
        }
        long n = take(offered);
        long left = n;
        for (int i = 0; i < count && left > 0; i++) {
            MemorySegment entry = iovec.asSlice(loop.scratch().iovecs(), i);
            long len = Math.min(left, Fds.iovecLength(loop.scratch(), i));
            MemorySegment base = iovec.iov_base(entry).reinterpret(len);
            written.writeBytes(base.toArray(ValueLayout.JAVA_BYTE));
            left -= len;
        }
        return n;
    }

    /** How much of {@code offered} bytes a write takes, or {@code -errno}. */
    private long take(long offered) {
        if (failWrites) {
            writeFailed = true;
            return -Errno.ECONNRESET;
        }
        if (room == 0) {
            return -Errno.EAGAIN;
        }
        long n = Math.min(room, offered);
        room -= n;
        return n;
    }

    @Override
    public int shutdownWrite(Reactor loop, int fd) {
        syscalls++;
        writtenAtFin = written.size();
        return super.shutdownWrite(loop, fd);
    }

    /** The events a kernel reports for each kind of arrival. */
    static final int DATA = Epoll.EPOLLIN;
    static final int PEER_FIN = Epoll.EPOLLIN | Epoll.EPOLLRDHUP;
    static final int RESET = Epoll.EPOLLIN | Epoll.EPOLLERR | Epoll.EPOLLHUP;
    static final int DRAINED = Epoll.EPOLLOUT;
}
