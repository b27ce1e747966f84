package dev.loriffm.tcp;

import dev.loriffm.internal.sys.Dns;
import dev.loriffm.loop.EventLoop;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.loriffm.tcp.ConnectionFakes.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Misuse is rejected loudly and early: connection methods off the loop thread, bad factory
 * arguments, and receiver callbacks that throw (the connection is torn down, the loop survives).
 */
@ExtendWith(FdLeakCheck.class)
class ConnectionMisuseTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(1);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** A connection's loop-confined methods throw IllegalStateException on another thread, naming the fix. */
    @Test
    void connectionMethodsOffTheLoopThreadThrow() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        log.expect("connecting 1");
        backend.connect(backend.nextAttempt());
        log.expect("connected");

        List<Map.Entry<String, Executable>> calls = new ArrayList<>();
        calls.add(Map.entry("send", () -> c.send("x")));
        calls.add(Map.entry("send", () -> c.send(new byte[1])));
        calls.add(Map.entry("send", () -> c.send(List.of("a", "b"))));
        calls.add(Map.entry("close", c::close));
        calls.add(Map.entry("hardClose", c::hardClose));
        calls.add(Map.entry("mute", c::mute));
        calls.add(Map.entry("unmute", c::unmute));
        calls.add(Map.entry("isMuted", c::isMuted));
        calls.add(Map.entry("yieldRead", c::yieldRead));
        calls.add(Map.entry("readAgain", c::readAgain));
        calls.add(Map.entry("bufferUntil", () -> c.bufferUntil(BufferSize.of(4))));
        calls.add(Map.entry("isOpen", c::isOpen));
        calls.add(Map.entry("isClosed", c::isClosed));
        calls.add(Map.entry("isWriteable", c::isWriteable));
        calls.add(Map.entry("localAddress", c::localAddress));
        calls.add(Map.entry("remoteAddress", c::remoteAddress));
        calls.add(Map.entry("setNodelay", () -> c.setNodelay(true)));
        calls.add(Map.entry("failureDetail", c::failureDetail));
        for (Map.Entry<String, Executable> call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call.getValue(), call.getKey());
            String message = e.getMessage();
            assertTrue(message.contains("TcpConnection." + call.getKey()), message);
            assertTrue(message.contains("event loop thread " + c.loop().name()), message);
            assertTrue(message.contains(Thread.currentThread().getName()), message);
            assertTrue(message.contains("execute(Runnable)"), message);
        }
        // None of it reached the connection: it is open, and its first send gets token 1.
        log.expectBeforeMarker(c.loop());
        assertEquals(new SendToken(1), onLoop(c.loop(), () -> c.send("on the loop")));
        assertEquals(List.of(), backend.closed);
    }

    /** The thread-safe entry points work from any thread. */
    @Test
    void executeDisposeAndLoopWorkFromAnyThread() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        var log = new ConnectionFakes.Log();
        TcpConnection c = ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        assertEquals(group.loops().getFirst(), c.loop());
        log.expect("connecting 1");
        backend.connect(backend.nextAttempt());
        log.expect("connected");
        c.execute(() -> log.add("on loop " + c.loop().inEventLoop()));
        log.expect("on loop true");
        c.dispose();
        log.expect("closed");
    }

    /** Bad client arguments are rejected by the factory, before anything is resolved or opened. */
    @Test
    void clientFactoryRejectsBadArgumentsWithoutOpeningAnything() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        EventLoop loop = group.next();
        var receiver = new ConnectionFakes.Log();
        ClientOptions options = ClientOptions.DEFAULT;
        Map<String, Executable> bad = new LinkedHashMap<>();
        bad.put("receiver", () -> TcpConnection.client(backend, Loopback.CONNECT, loop, "h", 1, null, options));
        bad.put("host", () -> TcpConnection.client(backend, Loopback.CONNECT, loop, null, 1, receiver, options));
        bad.put("options", () -> TcpConnection.client(backend, Loopback.CONNECT, loop, "h", 1, receiver, null));
        bad.put("auth", () -> TcpConnection.client(backend, null, loop, "h", 1, receiver, options));
        bad.put("loop", () -> TcpConnection.client(backend, Loopback.CONNECT, null, "h", 1, receiver, options));
        for (Map.Entry<String, Executable> call : bad.entrySet()) {
            NullPointerException e = assertThrows(NullPointerException.class, call.getValue(), call.getKey());
            assertEquals(call.getKey(), e.getMessage());
        }
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> TcpConnection.client(backend, Loopback.CONNECT, loop, "", 1, receiver, options));
        assertTrue(empty.getMessage().contains("host"), empty.getMessage());
        for (int port : new int[] {-1, 65536, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TcpConnection.client(backend, Loopback.CONNECT, loop, "h", port, receiver, options));
            assertTrue(e.getMessage().contains(String.valueOf(port)) && e.getMessage().contains("65535"),
                    e.getMessage());
        }
        EventLoop foreign = new EventLoop() {
            @Override
            public void execute(Runnable task) {
                throw new AssertionError("must not be used");
            }

            @Override
            public boolean inEventLoop() {
                return false;
            }

            @Override
            public String name() {
                return "foreign";
            }
        };
        assertThrows(IllegalArgumentException.class,
                () -> TcpConnection.client(backend, Loopback.CONNECT, foreign, "h", 1, receiver, options));
        // The real backend too: nothing may be opened (FdLeakCheck) for a rejected call.
        assertThrows(NullPointerException.class,
                () -> TcpConnection.client(Loopback.CONNECT, loop, "127.0.0.1", 1, null));
        assertThrows(IllegalArgumentException.class,
                () -> TcpConnection.client(Loopback.CONNECT, loop, "", 1, receiver));
        assertThrows(IllegalArgumentException.class,
                () -> TcpConnection.client(Loopback.CONNECT, loop, "127.0.0.1", -1, receiver));
        assertThrows(IllegalArgumentException.class,
                () -> TcpConnection.client(Loopback.CONNECT, loop, "127.0.0.1", 65536, receiver));

        onLoop(loop, () -> null); // anything queued by a rejected call would have run by now
        onLoop(loop, () -> null);
        assertEquals(0, backend.resolveCalls.get(), "nothing was resolved");
        assertEquals(List.of(), backend.startLog, "nothing was started");
        assertTrue(receiver.events.isEmpty(), "no callback: " + receiver.events);
    }

    /** The port range ends are accepted: 0 and 65535 are valid ports to ask for. */
    @Test
    void clientFactoryAcceptsTheEndsOfThePortRange() throws Exception {
        for (int port : new int[] {0, 65535}) {
            var backend = new ConnectionFakes.ConnectingBackend();
            var log = new ConnectionFakes.Log();
            TcpConnection.client(backend, Loopback.CONNECT, group.next(), "fake-host", port, log,
                    ClientOptions.DEFAULT);
            log.expect("connecting 1");
        }
    }

    /** Bad listener arguments are rejected by the factory, before anything is opened. */
    @Test
    void listenerFactoryRejectsBadArgumentsWithoutOpeningAnything() throws Exception {
        ListenerReceiver receiver = new ListenerReceiver() {
            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                throw new AssertionError("unexpected listen failure " + failure);
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return null;
            }
        };
        for (int port : new int[] {-1, 65536}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", port, receiver));
            assertTrue(e.getMessage().contains(String.valueOf(port)), e.getMessage());
        }
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, null));
        assertEquals("receiver", e.getMessage());
        assertThrows(NullPointerException.class,
                () -> TcpListener.create(Loopback.LISTEN, group, null, 0, receiver));
        onLoop(group.next(), () -> null);
    }

    /**
     * A receiver callback that throws is reported (the loop counts and logs it), the connection is
     * hard-closed with onClosed still delivered and the cause in failureDetail, and the loop goes
     * on serving another connection.
     */
    @Test
    void throwingCallbackClosesItsConnectionAndTheLoopKeepsServing() throws Exception {
        Loopback.Started server = Loopback.listen(group, socket -> Loopback.echo());
        var faulty = new ConnectionFakes.Log() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.send("boom");
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                throw new IllegalStateException("receiver bug (thrown on purpose by the test)");
            }
        };
        TcpConnection first = TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1",
                server.address().getPort(), faulty);
        faulty.expect("connecting 1", "connected", "sent 1", "received boom", "closed");
        faulty.expectBeforeMarker(first.loop());
        String detail = onLoop(first.loop(), first::failureDetail);
        assertTrue(detail.contains("onReceived threw") && detail.contains("receiver bug"), detail);
        assertEquals(1, ConnectionFakes.callbackFailures(group), "the failure was reported");

        var healthy = new ConnectionFakes.Log() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                c.send("fine");
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                c.close();
            }
        };
        TcpConnection second = TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1",
                server.address().getPort(), healthy);
        assertEquals(first.loop(), second.loop(), "the same loop serves both");
        healthy.expect("connecting 1", "connected", "sent 1", "received fine", "closed");
        assertEquals(1, ConnectionFakes.callbackFailures(group));
    }

    /** A throwing onConnected hard-closes the new connection; onClosed still follows. */
    @Test
    void throwingOnConnectedClosesTheConnection() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        var log = new ConnectionFakes.Log() {
            @Override
            public void onConnected(TcpConnection c) {
                super.onConnected(c);
                throw new IllegalStateException("thrown on purpose by the test");
            }
        };
        TcpConnection c = ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        log.expect("connecting 1");
        int fd = backend.nextAttempt();
        backend.connect(fd);
        log.expect("connected", "closed");
        log.expectBeforeMarker(c.loop());
        assertEquals(1, backend.closeCount(fd));
        assertEquals(1, ConnectionFakes.callbackFailures(group));
    }

    /** A throwing onConnecting ends the attempt: its socket is closed and the connection fails (TCP). */
    @Test
    void throwingOnConnectingFailsTheConnection() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        var log = new ConnectionFakes.Log() {
            @Override
            public void onConnecting(TcpConnection c, int inflight) {
                super.onConnecting(c, inflight);
                throw new IllegalStateException("thrown on purpose by the test");
            }
        };
        TcpConnection c = ConnectionFakes.client(backend, group.next(), log, ClientOptions.DEFAULT);
        log.expect("connecting 1", "failure TCP");
        log.expectBeforeMarker(c.loop());
        assertEquals(1, backend.closeCount(backend.nextAttempt()));
        assertEquals(1, ConnectionFakes.callbackFailures(group));
    }

    /** A throwing failure or close callback is reported and nothing else happens; the loop survives. */
    @Test
    void throwingFinalCallbacksAreReportedOnly() throws Exception {
        var backend = new ConnectionFakes.ConnectingBackend();
        backend.dnsFailure = new Dns.Failed(-2, "EAI_NONAME", "unknown");
        var failing = new ConnectionFakes.Log() {
            @Override
            public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                super.onConnectionFailure(c, reason);
                throw new IllegalStateException("thrown on purpose by the test");
            }
        };
        TcpConnection c = ConnectionFakes.client(backend, group.next(), failing, ClientOptions.DEFAULT);
        failing.expect("failure DNS");
        failing.expectBeforeMarker(c.loop());
        assertEquals(1, ConnectionFakes.callbackFailures(group));

        var connecting = new ConnectionFakes.ConnectingBackend();
        var closing = new ConnectionFakes.Log() {
            @Override
            public void onClosed(TcpConnection c) {
                super.onClosed(c);
                throw new IllegalStateException("thrown on purpose by the test");
            }
        };
        TcpConnection d = ConnectionFakes.client(connecting, group.next(), closing, ClientOptions.DEFAULT);
        closing.expect("connecting 1");
        connecting.connect(connecting.nextAttempt());
        closing.expect("connected");
        d.dispose();
        closing.expect("closed");
        closing.expectBeforeMarker(d.loop());
        assertEquals(2, ConnectionFakes.callbackFailures(group));
    }
}
