package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Socket options on a live loopback connection, read back from the kernel; and on a closed one. */
@ExtendWith(FdLeakCheck.class)
class SocketOptionsTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(1);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** Runs {@code check} on a connected client's loop and returns its result. */
    private <T> T onConnectedClient(Function<TcpConnection, T> check) throws Exception {
        Loopback.Started server = Loopback.listen(group, socket -> Loopback.echo());
        CompletableFuture<T> result = new CompletableFuture<>();
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(),
                new ClientLifecycleReceiver() {
                    @Override
                    public void onConnected(TcpConnection c) {
                        try {
                            result.complete(check.apply(c));
                        } catch (Throwable t) {
                            result.completeExceptionally(t);
                        }
                        c.hardClose();
                    }

                    @Override
                    public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                        result.completeExceptionally(new AssertionError(reason + " " + c.failureDetail()));
                    }
                });
        return Loopback.await(result);
    }

    /** Port of lori _TestSocketOptionsConnected: setters return 0 and getters read back what was set. */
    @Test
    void lorisOptionCallsWorkOnAConnectedSocket() throws Exception {
        onConnectedClient(c -> {
            assertEquals(0, c.setNodelay(true));
            assertEquals(1, c.getsockoptU32(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_NODELAY).value());
            assertEquals(0, c.setNodelay(false));
            assertEquals(0, c.getsockoptU32(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_NODELAY).value());
            assertEquals(0, c.setSoRcvbuf(8192));
            IntOptionResult rcv = c.getSoRcvbuf();
            assertEquals(0, rcv.errno());
            assertTrue(rcv.value() >= 8192, "kernel doubles SO_RCVBUF: " + rcv.value());
            assertEquals(0, c.setSoSndbuf(8192));
            assertTrue(c.getSoSndbuf().value() >= 8192);
            assertEquals(0, c.setsockoptU32(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_RCVBUF, 16384));
            assertTrue(c.getsockoptU32(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_RCVBUF).value() >= 16384);
            byte[] raw = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(16384).array();
            assertEquals(0, c.setsockopt(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_SNDBUF, raw));
            BytesOptionResult bytes = c.getsockopt(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_SNDBUF, 4);
            assertEquals(0, bytes.errno());
            assertEquals(4, bytes.value().length);
            assertTrue(ByteBuffer.wrap(bytes.value()).order(ByteOrder.nativeOrder()).getInt() >= 16384);
            c.keepalive(10);
            assertEquals(1, c.getsockoptU32(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_KEEPALIVE).value());
            assertEquals(5, c.getsockoptU32(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_KEEPIDLE).value());
            assertEquals(5, c.getsockoptU32(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_KEEPCNT).value());
            assertEquals(1, c.getsockoptU32(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_KEEPINTVL).value());
            c.keepalive(0);
            assertEquals(0, c.getsockoptU32(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_KEEPALIVE).value());
            return null;
        });
    }

    /** The kernel's errno comes back for a bad option. */
    @Test
    void badOptionsReportTheKernelsErrno() throws Exception {
        onConnectedClient(c -> {
            assertNotEquals(0, c.getsockoptU32(OsSockOpt.SOL_SOCKET, 123_456).errno());
            assertNotEquals(0, c.setsockoptU32(OsSockOpt.SOL_SOCKET, 123_456, 1));
            assertEquals(0, c.getsockopt(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_RCVBUF, 0).value().length);
            return null;
        });
    }

    /** tcpInfo() on a live connection shows ESTABLISHED and a non-zero RTT. */
    @Test
    void tcpInfoOfALiveConnection() throws Exception {
        TcpInfo info = onConnectedClient(c -> c.tcpInfo().orThrow());
        assertTrue(info.isEstablished(), "state " + info.state());
        assertTrue(info.rtt() > 0, "rtt " + info.rtt());
        assertTrue(info.sndMss() > 0);
        assertTrue(info.sndCwnd() > 0);
    }

    /** Typed helpers: linger, quick-ack, congestion control, user timeout, traffic class. */
    @Test
    void typedHelpersSetAndReadBack() throws Exception {
        onConnectedClient(c -> {
            assertEquals(0, c.setLinger(new Linger(true, 7)));
            assertEquals(new Linger(true, 7), c.linger().orThrow());
            assertEquals(0, c.setLinger(new Linger(false, 0)));
            assertEquals(false, c.linger().orThrow().on());
            assertEquals(0, c.setQuickAck(true));
            assertInstanceOf(OptionResult.Value.class, c.quickAck());
            String current = c.congestion().orThrow();
            assertTrue(!current.isEmpty());
            assertEquals(0, c.setCongestion("reno"));
            assertEquals("reno", c.congestion().orThrow());
            assertNotEquals(0, c.setCongestion("no-such-algorithm"));
            assertEquals(0, c.setUserTimeout(4321));
            assertEquals(4321, c.userTimeout().orThrow());
            assertEquals(0, c.setTrafficClass(0x10));
            assertEquals(0x10, c.trafficClass().orThrow());
            return null;
        });
    }

    /** Port of lori _TestSocketOptionsNotConnected: every call reports errno 1 when not open. */
    @Test
    void everyOptionCallFailsWhenNotOpen() throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Loopback.Started server = Loopback.listen(group, socket -> Loopback.echo());
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(),
                new ClientLifecycleReceiver() {
                    @Override
                    public void onConnected(TcpConnection c) {
                        c.hardClose();
                        try {
                            assertEquals(1, c.setNodelay(true));
                            assertEquals(new IntOptionResult(1, 0), c.getSoRcvbuf());
                            assertEquals(1, c.setSoRcvbuf(1));
                            assertEquals(new IntOptionResult(1, 0), c.getSoSndbuf());
                            assertEquals(1, c.setSoSndbuf(1));
                            assertEquals(1, c.getsockopt(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_RCVBUF, 4).errno());
                            assertArrayEquals(new byte[0],
                                    c.getsockopt(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_RCVBUF, 4).value());
                            assertEquals(1, c.getsockoptU32(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_RCVBUF).errno());
                            assertEquals(1, c.setsockopt(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_RCVBUF, new byte[4]));
                            assertEquals(1, c.setsockoptU32(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_RCVBUF, 1));
                            assertInstanceOf(OptionResult.Failed.class, c.tcpInfo());
                            c.keepalive(5); // a silent no-op
                            done.complete(null);
                        } catch (Throwable t) {
                            done.completeExceptionally(t);
                        }
                    }

                    @Override
                    public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                        done.completeExceptionally(new AssertionError(reason.toString()));
                    }
                });
        Loopback.await(done);
    }
}
