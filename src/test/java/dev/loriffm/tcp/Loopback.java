package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** Test helpers: listeners on loopback ephemeral ports, bounded waits, byte helpers. */
final class Loopback {
    /** Generous bound for anything that should happen promptly; never a pass condition on timing. */
    static final long WAIT_SECONDS = 30;

    static final NetAuth NET = NetAuth.ambient();
    static final TcpListenAuth LISTEN = TcpListenAuth.of(NET);
    static final TcpConnectAuth CONNECT = TcpConnectAuth.of(NET);
    static final TcpServerAuth SERVE = TcpServerAuth.of(NET);

    private Loopback() { }

    static String text(MemorySegment data) {
        return new String(data.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    static <T> T poll(BlockingQueue<T> queue) throws InterruptedException {
        T value = queue.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (value == null) {
            throw new AssertionError("nothing arrived within " + WAIT_SECONDS + " s");
        }
        return value;
    }

    /**
     * Starts a listener on 127.0.0.1 port 0 whose accepted connections use receivers made by
     * {@code serverFactory}; {@return its address once listening}
     */
    static Started listen(EventLoopGroup group, Function<AcceptedSocket, ServerLifecycleReceiver> serverFactory)
            throws Exception {
        return listen(group, "127.0.0.1", IpVersion.IP4, serverFactory);
    }

    static Started listen(EventLoopGroup group, String host, IpVersion version,
                          Function<AcceptedSocket, ServerLifecycleReceiver> serverFactory) throws Exception {
        return listenAccepting(group, host, version,
                socket -> TcpConnection.server(SERVE, socket, serverFactory.apply(socket)));
    }

    /**
     * Starts a listener on 127.0.0.1 port 0 whose accepted connections are TLS servers with
     * {@code context} and receivers made by {@code serverFactory}; {@return its address once listening}
     */
    static Started listenTls(EventLoopGroup group, dev.loriffm.tls.SslContext context,
                             Function<AcceptedSocket, ServerLifecycleReceiver> serverFactory) throws Exception {
        return listenAccepting(group, "127.0.0.1", IpVersion.IP4,
                socket -> TcpConnection.sslServer(SERVE, socket, context, serverFactory.apply(socket)));
    }

    private static Started listenAccepting(EventLoopGroup group, String host, IpVersion version,
                                           Function<AcceptedSocket, TcpConnection> accept) throws Exception {
        CompletableFuture<InetSocketAddress> listening = new CompletableFuture<>();
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        TcpListener listener = TcpListener.create(LISTEN, group, host, 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l.localAddress());
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                listening.completeExceptionally(new AssertionError("listen failed: " + failure));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return accept.apply(socket);
            }

            @Override
            public void onClosed(TcpListener l) {
                events.add("closed");
            }
        }, version, MaxSpawn.DEFAULT);
        return new Started(listener, await(listening), events);
    }

    record Started(TcpListener listener, InetSocketAddress address, BlockingQueue<String> events) { }

    /** A server receiver that echoes everything back. */
    static ServerLifecycleReceiver echo() {
        return new ServerLifecycleReceiver() {
            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                byte[] copy = data.toArray(ValueLayout.JAVA_BYTE);
                c.send(copy);
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) {
                throw new AssertionError("start failure " + reason);
            }
        };
    }
}
