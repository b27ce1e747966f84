package dev.loriffm.internal.sys;

import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real sockets through the generated bindings: listen, connect, accept, write, read, close. */
@ExtendWith(FdLeakCheck.class)
class LoopbackSocketTest {
    private static final int WAIT_MS = 30_000;

    /** A loopback listener on an ephemeral port accepts a non-blocking connect; bytes cross both ways. */
    @Test
    void ipv4LoopbackRoundTrip() throws Exception {
        roundTrip(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
    }

    /** The same over IPv6 loopback. */
    @Test
    void ipv6LoopbackRoundTrip() throws Exception {
        roundTrip(new InetSocketAddress(InetAddress.getByName("::1"), 0));
    }

    private static void roundTrip(InetSocketAddress bindTo) {
        try (NativeScratch scratch = new NativeScratch(); Arena arena = Arena.ofConfined()) {
            int listener = SysException.check("socket", Sockets.tcpSocket(scratch, bindTo));
            int client = -1;
            int server = -1;
            int epfd = -1;
            try {
                assertEquals(0, SockOpts.setInt(scratch, listener, SockOpts.SOL_SOCKET, SockOpts.SO_REUSEADDR, 1));
                assertEquals(1, (int) SockOpts.getInt(scratch, listener, SockOpts.SOL_SOCKET, SockOpts.SO_REUSEADDR));
                SysException.check("bind", Sockets.bind(scratch, listener, bindTo));
                SysException.check("listen", Sockets.listen(scratch, listener, Sockets.SOMAXCONN));
                InetSocketAddress bound = Sockets.localAddress(scratch, listener);
                assertNotNull(bound);
                assertEquals(bindTo.getAddress(), bound.getAddress());
                assertTrue(bound.getPort() > 0, "ephemeral port assigned");

                client = SysException.check("socket", Sockets.tcpSocket(scratch, bound));
                assertEquals(1, Fds.isNonBlocking(scratch, client), "sockets are created non-blocking");
                int connect = Sockets.connect(scratch, client, bound);
                assertTrue(connect == 0 || connect == -Errno.EINPROGRESS, Errno.describe(-connect));

                epfd = SysException.check("epoll_create1", Epoll.create(scratch));
                MemorySegment events = Epoll.allocateEvents(scratch, 8);
                SysException.check("epoll_ctl", Epoll.ctl(scratch, epfd, Epoll.CTL_ADD, listener, Epoll.EPOLLIN, 1));
                SysException.check("epoll_ctl", Epoll.ctl(scratch, epfd, Epoll.CTL_ADD, client, Epoll.EPOLLOUT, 2));
                server = acceptWhenReady(scratch, epfd, events, listener);
                awaitData(scratch, epfd, events, 2);
                assertEquals(0, (int) SockOpts.getInt(scratch, client, SockOpts.SOL_SOCKET, SockOpts.SO_ERROR),
                        "connect completed without error");
                assertEquals(bound, Sockets.peerAddress(scratch, client));
                assertEquals(Sockets.localAddress(scratch, client), Sockets.peerAddress(scratch, server));

                byte[] hello = "hello over FFM".getBytes(StandardCharsets.US_ASCII);
                MemorySegment out = arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, hello);
                assertEquals(hello.length, Fds.write(scratch, client, out));
                SysException.check("epoll_ctl", Epoll.ctl(scratch, epfd, Epoll.CTL_ADD, server, Epoll.EPOLLIN, 3));
                awaitData(scratch, epfd, events, 3);
                MemorySegment in = arena.allocate(64);
                long n = Fds.read(scratch, server, in);
                assertEquals(hello.length, n);
                assertEquals("hello over FFM", new String(in.asSlice(0, n).toArray(
                        java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII));
                assertEquals(-Errno.EAGAIN, Fds.read(scratch, server, in), "nothing more to read");

                // Half-close: the reader sees end of stream (0), not an error.
                assertEquals(0, Sockets.shutdown(scratch, client, Sockets.SHUT_WR));
                awaitData(scratch, epfd, events, 3);
                assertEquals(0, Fds.read(scratch, server, in));
            } finally {
                for (int fd : new int[] {epfd, server, client, listener}) {
                    if (fd >= 0) {
                        assertEquals(0, Fds.close(scratch, fd));
                    }
                }
            }
        }
    }

    private static int acceptWhenReady(NativeScratch scratch, int epfd, MemorySegment events, int listener) {
        awaitData(scratch, epfd, events, 1);
        int fd = Sockets.accept(scratch, listener);
        return SysException.check("accept4", fd);
    }

    /** Waits (bounded, generously) until an event with {@code data} arrives. */
    private static void awaitData(NativeScratch scratch, int epfd, MemorySegment events, long data) {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        while (System.nanoTime() < deadline) {
            int n = Epoll.await(scratch, epfd, events, 1000);
            if (n == -Errno.EINTR) {
                continue;
            }
            SysException.check("epoll_wait", n);
            for (int i = 0; i < n; i++) {
                if (Epoll.eventData(events, i) == data) {
                    return;
                }
            }
        }
        throw new AssertionError("no event for " + data + " within " + WAIT_MS + " ms");
    }

    /** A socketpair carries bytes through readv/writev with several iovecs. */
    @Test
    void socketPairGatheringWriteAndScatteringRead() {
        try (NativeScratch scratch = new NativeScratch(); Arena arena = Arena.ofConfined()) {
            int[] fds = new int[2];
            SysException.check("socketpair", Sockets.socketPair(scratch, fds));
            try {
                Fds.setIovec(scratch, 0, arena.allocateFrom("abc").asSlice(0, 3));
                Fds.setIovec(scratch, 1, arena.allocateFrom("defgh").asSlice(0, 5));
                assertEquals(8, Fds.writev(scratch, fds[0], 2));
                MemorySegment first = arena.allocate(2);
                MemorySegment second = arena.allocate(10);
                Fds.setIovec(scratch, 0, first);
                Fds.setIovec(scratch, 1, second);
                assertEquals(8, Fds.readv(scratch, fds[1], 2));
                assertEquals("ab", new String(first.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        StandardCharsets.US_ASCII));
                assertEquals("cdefgh", new String(second.asSlice(0, 6).toArray(
                        java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII));
            } finally {
                assertEquals(0, Fds.close(scratch, fds[0]));
                assertEquals(0, Fds.close(scratch, fds[1]));
            }
        }
    }

    /** A connect to a port nobody listens on is refused, reported through SO_ERROR. */
    @Test
    void connectToAClosedPortIsRefused() throws Exception {
        try (NativeScratch scratch = new NativeScratch()) {
            InetSocketAddress any = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
            // Find a free port by binding and closing a socket; nothing listens there afterwards.
            int probe = SysException.check("socket", Sockets.tcpSocket(scratch, any));
            SysException.check("bind", Sockets.bind(scratch, probe, any));
            InetSocketAddress free = Sockets.localAddress(scratch, probe);
            assertEquals(0, Fds.close(scratch, probe));
            int client = SysException.check("socket", Sockets.tcpSocket(scratch, free));
            int epfd = SysException.check("epoll_create1", Epoll.create(scratch));
            try {
                int r = Sockets.connect(scratch, client, free);
                if (r == -Errno.EINPROGRESS) {
                    MemorySegment events = Epoll.allocateEvents(scratch, 1);
                    SysException.check("epoll_ctl", Epoll.ctl(scratch, epfd, Epoll.CTL_ADD, client, Epoll.EPOLLOUT, 9));
                    awaitData(scratch, epfd, events, 9);
                    r = -(int) SockOpts.getInt(scratch, client, SockOpts.SOL_SOCKET, SockOpts.SO_ERROR);
                }
                assertEquals(-Errno.ECONNREFUSED, r);
            } finally {
                assertEquals(0, Fds.close(scratch, epfd));
                assertEquals(0, Fds.close(scratch, client));
            }
        }
    }
}
