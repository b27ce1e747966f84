package dev.loriffm.tcp;

import dev.loriffm.internal.bindings.iovec;
import dev.loriffm.internal.reactor.IoHandler;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Errno;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One fake socket for the fuzz targets, scripted the way a kernel would behave: bytes
 * {@link #arrive} and are read back in order, as many as fit the window (so a short read means
 * the socket is empty, which the connection relies on), then the scripted end of stream or error,
 * otherwise EAGAIN. Writes take up to {@link #sendCapacity} bytes (EAGAIN at 0) or fail with
 * {@link #sendErrno}, and what was taken is kept in {@link #written}.
 *
 * <p>It also checks how the connection uses it, recording each misuse in {@link #violations}:
 * no receive into an empty window (lori#324), no I/O after close, no write after FIN, one close.
 *
 * <p>Loop-confined once the connection is registered (the fuzz targets run every step on the
 * loop), except {@link #violations}, which is thread-safe.
 */
final class FuzzSocket extends FakeBackend {
    /** Misuses seen so far, as sentences. */
    final List<String> violations = new CopyOnWriteArrayList<>();
    final int fd = newFd();
    private byte[] incoming = new byte[1024];
    private int inStart;
    private int inEnd;
    private long arrived;
    private boolean endOfStream;
    private int receiveErrno;
    /** Bytes {@link #receive} handed to the connection. */
    long handedOut;
    /** Bytes written by the connection, in order (a target may {@link #takeWritten} them). */
    final ByteArrayOutputStream written = new ByteArrayOutputStream();
    /** How many more bytes writes may take ({@code Long.MAX_VALUE}: unlimited). */
    long sendCapacity = Long.MAX_VALUE;
    /** If not 0, every write fails with this errno. */
    int sendErrno;
    boolean finSent;
    /** The bytes written when FIN was sent, or -1. */
    long writtenAtFin = -1;
    private long writtenTotal;
    boolean closed;
    private IoHandler handler;

    /** Bytes that arrive from the peer (read by later receives). */
    void arrive(byte[] data) {
        if (inEnd + data.length > incoming.length) {
            int live = inEnd - inStart;
            byte[] next = live + data.length > incoming.length
                    ? new byte[Math.max(incoming.length * 2, live + data.length)] : incoming;
            System.arraycopy(incoming, inStart, next, 0, live);
            incoming = next;
            inStart = 0;
            inEnd = live;
        }
        System.arraycopy(data, 0, incoming, inEnd, data.length);
        inEnd += data.length;
        arrived += data.length;
    }

    /** After the bytes that arrived so far, the peer's FIN. */
    void arriveEndOfStream() {
        endOfStream = true;
    }

    /** After the bytes that arrived so far, a receive error. */
    void arriveError(int errno) {
        receiveErrno = errno;
    }

    /** {@return the bytes that arrived but were not read yet} */
    int unread() {
        return inEnd - inStart;
    }

    /** {@return every byte that arrived so far} */
    long arrived() {
        return arrived;
    }

    /** Delivers readiness {@code events} to the connection now, on the calling (loop) thread. */
    void event(int events) {
        if (handler != null && !closed) {
            handler.onIo(fd, events);
        }
    }

    /** {@return every byte written so far, including those {@link #takeWritten} took} */
    long writtenTotal() {
        return writtenTotal;
    }

    /** {@return the bytes written since the last call} */
    byte[] takeWritten() {
        byte[] out = written.toByteArray();
        written.reset();
        return out;
    }

    private void check(int socketFd, String call) {
        if (socketFd != fd) {
            violations.add(call + " on fd " + socketFd + ", not the connection's " + fd);
        }
        if (closed) {
            violations.add(call + " after the socket was closed (lori#307)");
        }
    }

    @Override
    public int register(Reactor loop, int socketFd, IoHandler ioHandler) {
        handler = ioHandler;
        return super.register(loop, socketFd, ioHandler);
    }

    @Override
    public long receive(Reactor loop, int socketFd, MemorySegment into) {
        check(socketFd, "receive");
        if (into.byteSize() == 0) {
            violations.add("receive into an empty window (lori#324)");
            return -Errno.EAGAIN;
        }
        int available = inEnd - inStart;
        if (available > 0) {
            int n = (int) Math.min(available, into.byteSize());
            MemorySegment.copy(MemorySegment.ofArray(incoming), inStart, into, 0, n);
            inStart += n;
            handedOut += n;
            return n;
        }
        if (receiveErrno != 0) {
            return -receiveErrno;
        }
        return endOfStream ? 0 : -Errno.EAGAIN;
    }

    private long take(long offered) {
        if (sendErrno != 0) {
            return -sendErrno;
        }
        if (finSent) {
            violations.add("write after FIN");
        }
        long n = Math.min(offered, sendCapacity);
        if (n == 0) {
            return -Errno.EAGAIN;
        }
        if (sendCapacity != Long.MAX_VALUE) {
            sendCapacity -= n;
        }
        writtenTotal += n;
        return n;
    }

    @Override
    public long send(Reactor loop, int socketFd, MemorySegment data) {
        check(socketFd, "send");
        long n = take(data.byteSize());
        if (n > 0) {
            written.writeBytes(data.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
        }
        return n;
    }

    @Override
    @SuppressWarnings("restricted") // reads back the iovecs WriteQueue just pointed at live memory
    public long sendIovecs(Reactor loop, int socketFd, int count) {
        check(socketFd, "sendmsg");
        MemorySegment iovecs = loop.scratch().iovecs();
        long offered = 0;
        for (int i = 0; i < count; i++) {
            offered += iovec.iov_len(iovec.asSlice(iovecs, i));
        }
        long n = take(offered);
        long left = n;
        for (int i = 0; i < count && left > 0; i++) {
            MemorySegment entry = iovec.asSlice(iovecs, i);
            long length = Math.min(left, iovec.iov_len(entry));
            written.writeBytes(iovec.iov_base(entry).reinterpret(length).toArray(ValueLayout.JAVA_BYTE));
            left -= length;
        }
        return n;
    }

    @Override
    public int shutdownWrite(Reactor loop, int socketFd) {
        check(socketFd, "shutdown");
        if (finSent) {
            violations.add("FIN sent twice");
        }
        finSent = true;
        writtenAtFin = writtenTotal;
        return super.shutdownWrite(loop, socketFd);
    }

    @Override
    public void close(Reactor loop, int socketFd) {
        if (closed) {
            violations.add("socket closed twice");
        }
        closed = true;
        super.close(loop, socketFd);
    }
}
