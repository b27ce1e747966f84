package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.AcceptedSocket;
import dev.loriffm.tcp.ListenFailure;
import dev.loriffm.tcp.ListenerReceiver;
import dev.loriffm.tcp.NetAuth;
import dev.loriffm.tcp.ReadBufferSize;
import dev.loriffm.tcp.ServerLifecycleReceiver;
import dev.loriffm.tcp.TcpConnectAuth;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpListenAuth;
import dev.loriffm.tcp.TcpListener;
import dev.loriffm.tcp.TcpServerAuth;
import dev.loriffm.tls.SslContext;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * What every example needs: the capabilities derived from the root network authority, a listener
 * that is known to be listening, and addresses printed as {@code host:port}. Thread-safe.
 */
final class Net {
    /** The capability to listen. */
    static final TcpListenAuth LISTEN = TcpListenAuth.of(NetAuth.ambient());
    /** The capability to wrap accepted sockets in server connections. */
    static final TcpServerAuth SERVE = TcpServerAuth.of(LISTEN);
    /** The capability to open client connections. */
    static final TcpConnectAuth CONNECT = TcpConnectAuth.of(NetAuth.ambient());
    /** How long an example waits for something that should be prompt before it gives up. */
    static final long WAIT_SECONDS = 30;

    private Net() { }

    /**
     * Starts a listener on {@code host:port} whose accepted connections get receivers from
     * {@code receivers}, and waits until it listens.
     *
     * @return the listening listener ({@link TcpListener#localAddress()} is set)
     * @throws IOException if it could not listen (the message says why)
     */
    static TcpListener listen(EventLoopGroup group, String host, int port,
                              Function<AcceptedSocket, ServerLifecycleReceiver> receivers)
            throws IOException, InterruptedException {
        return listen(group, host, port, receivers, ReadBufferSize.DEFAULT);
    }

    /** As {@link #listen(EventLoopGroup, String, int, Function)}, with a read buffer size per connection. */
    static TcpListener listen(EventLoopGroup group, String host, int port,
                              Function<AcceptedSocket, ServerLifecycleReceiver> receivers, ReadBufferSize readBuffer)
            throws IOException, InterruptedException {
        return listen(group, host, port, receivers, readBuffer, null);
    }

    /**
     * As {@link #listen(EventLoopGroup, String, int, Function)}, for TLS: every accepted
     * connection handshakes with {@code tls} (a server context) before its receiver hears
     * {@code onStarted}. The caller keeps {@code tls} open while the listener runs.
     */
    static TcpListener listenTls(EventLoopGroup group, String host, int port, SslContext tls,
                                 Function<AcceptedSocket, ServerLifecycleReceiver> receivers)
            throws IOException, InterruptedException {
        return listen(group, host, port, receivers, ReadBufferSize.DEFAULT, Objects.requireNonNull(tls));
    }

    private static TcpListener listen(EventLoopGroup group, String host, int port,
                                      Function<AcceptedSocket, ServerLifecycleReceiver> receivers,
                                      ReadBufferSize readBuffer, SslContext tls)
            throws IOException, InterruptedException {
        CompletableFuture<TcpListener> listening = new CompletableFuture<>();
        TcpListener listener = TcpListener.create(LISTEN, group, host, port, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l);
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                listening.completeExceptionally(new IOException(failure.message()));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                ServerLifecycleReceiver receiver = receivers.apply(socket);
                return tls == null ? TcpConnection.server(SERVE, socket, receiver, readBuffer)
                        : TcpConnection.sslServer(SERVE, socket, tls, receiver, readBuffer);
            }
        });
        try {
            return listening.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (IOException) e.getCause();
        } catch (TimeoutException e) {
            listener.close();
            throw new IOException("listening on " + host + ":" + port + " did not start within "
                    + WAIT_SECONDS + " s");
        }
    }

    /** {@return {@code address} as {@code 127.0.0.1:8080} or {@code [::1]:8080}} */
    static String format(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        if (address.getAddress() instanceof Inet6Address) {
            int zone = host.indexOf('%');
            host = "[" + compress(zone >= 0 ? host.substring(0, zone) : host) + "]";
        }
        return host + ":" + address.getPort();
    }

    /** {@return a full IPv6 address ({@code 0:0:0:0:0:0:0:1}) with its longest zero run as {@code ::}} */
    private static String compress(String full) {
        String[] groups = full.split(":");
        int bestStart = -1;
        int bestLength = 1; // RFC 5952: never compress a single zero group
        for (int i = 0; i < groups.length; i++) {
            int j = i;
            while (j < groups.length && groups[j].equals("0")) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = Math.max(i, j);
        }
        if (bestStart < 0) {
            return full;
        }
        String head = String.join(":", Arrays.copyOfRange(groups, 0, bestStart));
        String tail = String.join(":", Arrays.copyOfRange(groups, bestStart + bestLength, groups.length));
        return head + "::" + tail;
    }

    /** Prints {@code listening on HOST:PORT} on stdout and flushes it: the line scripts wait for. */
    static void announce(TcpListener listener) {
        System.out.println("listening on " + format(listener.localAddress()));
        System.out.flush();
    }

    /** {@return the number of available processors, the default number of event loops} */
    static int processors() {
        return Runtime.getRuntime().availableProcessors();
    }
}
