package dev.loriffm.bench.servers;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.AcceptedSocket;
import dev.loriffm.tcp.IpVersion;
import dev.loriffm.tcp.ListenFailure;
import dev.loriffm.tcp.ListenerOptions;
import dev.loriffm.tcp.ListenerReceiver;
import dev.loriffm.tcp.MaxSpawn;
import dev.loriffm.tcp.NetAuth;
import dev.loriffm.tcp.ReadBufferSize;
import dev.loriffm.tcp.SendError;
import dev.loriffm.tcp.SendResult;
import dev.loriffm.tcp.SendToken;
import dev.loriffm.tcp.ServerLifecycleReceiver;
import dev.loriffm.tcp.StartFailure;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpListenAuth;
import dev.loriffm.tcp.TcpListener;
import dev.loriffm.tcp.TcpServerAuth;
import dev.loriffm.tls.SslContext;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The lori-ffm benchmark server: {@code --mode http|echo|tls-echo [--port P] [--cert F --key F]}.
 * One event loop does accept and I/O; TCP_NODELAY on every connection; prints
 * {@code listening on 127.0.0.1:PORT} once it accepts; runs until SIGTERM. The application logic
 * is {@link HelloProtocol}'s, shared with the Netty and NIO servers.
 */
public final class LoriServer {
    private static final TcpListenAuth LISTEN = TcpListenAuth.of(NetAuth.ambient());
    private static final TcpServerAuth SERVE = TcpServerAuth.of(LISTEN);
    /**
     * 64 KiB, what the NIO and C servers read into and where Netty's adaptive allocator tops out
     * (lori's default is 16 KiB).
     */
    private static final ReadBufferSize READ_BUFFER = new ReadBufferSize(65536);
    /** Responses for up to this many requests of one read are one slice of {@link #RESPONSES}. */
    private static final int BATCH = 64;
    // RESPONSE repeated BATCH times in native memory, for the whole run: a batch of n responses is
    // one slice of it, so the kernel copies straight from it with no staging.
    private static final MemorySegment RESPONSES = repeated(HelloProtocol.RESPONSE, BATCH);

    private LoriServer() { }

    public static void main(String[] argv) throws Exception {
        ServerArgs args = ServerArgs.parse("LoriServer", argv, false);
        SslContext tls = null;
        if (args.mode() == ServerArgs.Mode.TLS_ECHO) {
            tls = SslContext.server().certificateChain(Path.of(args.cert()), Path.of(args.key())).buildOrThrow();
        }
        EventLoopGroup group = EventLoopGroup.create(1);
        CompletableFuture<TcpListener> listening = new CompletableFuture<>();
        SslContext context = tls;
        ListenerOptions options = ListenerOptions.DEFAULT.withIpVersion(IpVersion.IP4)
                .withLimit(MaxSpawn.DEFAULT).withBacklog(4096);
        TcpListener listener = TcpListener.create(LISTEN, group, "127.0.0.1", args.port(), new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l);
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                listening.completeExceptionally(new IllegalStateException(failure.message()));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                ServerLifecycleReceiver receiver = args.mode() == ServerArgs.Mode.HTTP ? new Http() : new Echo();
                return context == null ? TcpConnection.server(SERVE, socket, receiver, READ_BUFFER)
                        : TcpConnection.sslServer(SERVE, socket, context, receiver, READ_BUFFER);
            }
        }, options);
        TcpListener l = listening.get(30, TimeUnit.SECONDS);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            l.close();
            group.close();
            if (context != null) {
                context.close();
            }
            stopped.countDown();
        }));
        System.out.println("listening on 127.0.0.1:" + l.localAddress().getPort());
        System.out.flush();
        stopped.await();
    }

    private static MemorySegment repeated(byte[] bytes, int times) {
        MemorySegment all = Arena.global().allocate((long) bytes.length * times);
        for (int i = 0; i < times; i++) {
            MemorySegment.copy(bytes, 0, all, ValueLayout.JAVA_BYTE, (long) i * bytes.length, bytes.length);
        }
        return all.asReadOnly();
    }

    /** HTTP hello: counts heads per read and answers them with one send. Loop-confined. */
    static final class Http implements ServerLifecycleReceiver {
        private final HelloProtocol.Heads heads = new HelloProtocol.Heads();
        // Requests counted but not yet answered because the connection was throttled.
        private int owed;

        @Override
        public void onStarted(TcpConnection connection) {
            connection.setNodelay(true);
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            int n = 0;
            long size = data.byteSize();
            for (long i = 0; i < size; i++) {
                if (heads.feed(data.get(ValueLayout.JAVA_BYTE, i))) {
                    n++;
                }
            }
            if (n > 0) {
                owed += n;
                answer(connection);
            }
        }

        private void answer(TcpConnection connection) {
            int n = owed;
            long length = (long) HelloProtocol.RESPONSE.length;
            SendResult result = n <= BATCH ? connection.send(RESPONSES.asSlice(0, n * length))
                    : connection.send(Collections.nCopies(n, HelloProtocol.RESPONSE));
            switch (result) {
                case SendToken accepted -> owed = 0;
                case SendError.NOT_WRITEABLE -> connection.mute();
                case SendError.NOT_CONNECTED -> owed = 0;
            }
        }

        @Override
        public void onStartFailure(TcpConnection connection, StartFailure reason) {
            // A failed TLS handshake (s_time closing early, say): nothing to clean up.
        }

        @Override
        public void onThrottled(TcpConnection connection) {
            connection.mute(); // the client is not reading its responses: stop reading its requests
        }

        @Override
        public void onUnthrottled(TcpConnection connection) {
            if (owed > 0) {
                answer(connection);
            }
            if (owed == 0) {
                connection.unmute();
            }
        }
    }

    /** Echo: every read goes back with one send; reading stops while the peer is not reading. Loop-confined. */
    static final class Echo implements ServerLifecycleReceiver {
        // Reads that arrived while throttled, sent in order once unthrottled. Made only when
        // needed, like Netty's handler state, so an idle connection carries none.
        private ArrayDeque<byte[]> held;

        @Override
        public void onStarted(TcpConnection connection) {
            connection.setNodelay(true);
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            // sendCopy writes straight from the slice and copies only what the kernel does not
            // take, so the slice may go once this returns: no copy while the client keeps up.
            if ((held == null || held.isEmpty()) && connection.sendCopy(data) != SendError.NOT_WRITEABLE) {
                return;
            }
            if (held == null) {
                held = new ArrayDeque<>();
            }
            held.addLast(data.toArray(ValueLayout.JAVA_BYTE));
            connection.mute();
        }

        @Override
        public void onStartFailure(TcpConnection connection, StartFailure reason) {
            // A failed TLS handshake (s_time closing early, say): nothing to clean up.
        }

        @Override
        public void onThrottled(TcpConnection connection) {
            connection.mute();
        }

        @Override
        public void onUnthrottled(TcpConnection connection) {
            while (held != null && !held.isEmpty()) {
                SendResult result = connection.send(held.peekFirst());
                if (result == SendError.NOT_WRITEABLE) {
                    return;
                }
                held.removeFirst();
            }
            connection.unmute();
        }
    }
}
