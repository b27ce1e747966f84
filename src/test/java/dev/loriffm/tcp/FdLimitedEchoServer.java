package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The child-JVM side of {@link AcceptFdExhaustionTest}: an echo server on 127.0.0.1 (ephemeral
 * port) meant to run under a low {@code ulimit -n}. It reports on stdout, one line per event:
 * {@code listening <port>}, {@code started}, {@code closed}, {@code listener <event>} for anything
 * fatal to the listener, {@code stopping} when stdin closes (the listener's close follows), and at exit {@code fds <before> <after>} (its open descriptors before the
 * group existed and after it closed). It runs until stdin closes.
 *
 * <p>Everything the runtime will need is loaded first (one echo round trip through a throw-away
 * group, and one parameterised log line), because once descriptors run out the JVM cannot open a
 * class file either.
 */
public final class FdLimitedEchoServer {
    private static final System.Logger LOG = System.getLogger("dev.loriffm.tcp");

    private FdLimitedEchoServer() { }

    public static void main(String[] args) throws Exception {
        LOG.log(System.Logger.Level.INFO, "{0}: warming up ({1})", "fd-limited echo server", "child JVM");
        warmUp();
        long fdsBefore = openFds();
        EventLoopGroup group = EventLoopGroup.create(1);
        int port = listen(group, true);
        say("listening " + port);
        try (InputStream in = System.in) {
            while (in.read() >= 0) {
                // runs until the parent closes our stdin
            }
        }
        say("stopping");
        group.close();
        say("fds " + fdsBefore + " " + openFds());
    }

    private static void say(String line) {
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }

    /** Listens with echoing server connections; {@return the port} */
    private static int listen(EventLoopGroup group, boolean report) throws Exception {
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l.localAddress().getPort());
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                say("listener failure " + failure);
                listening.completeExceptionally(new IllegalStateException(failure.toString()));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return TcpConnection.server(Loopback.SERVE, socket, new ServerLifecycleReceiver() {
                    @Override
                    public void onStarted(TcpConnection c) {
                        if (report) {
                            say("started");
                        }
                    }

                    @Override
                    public void onReceived(TcpConnection c, MemorySegment data) {
                        c.send(data.toArray(ValueLayout.JAVA_BYTE));
                    }

                    @Override
                    public void onClosed(TcpConnection c) {
                        if (report) {
                            say("closed");
                        }
                    }

                    @Override
                    public void onStartFailure(TcpConnection c, StartFailure reason) {
                        say("start failure " + reason);
                    }
                });
            }

            @Override
            public void onClosed(TcpListener l) {
                if (report) {
                    say("listener closed");
                }
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        return listening.get(Loopback.WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** One echo round trip through the runtime, so its classes are loaded before fds run out. */
    private static void warmUp() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(1)) {
            int port = listen(group, false);
            CompletableFuture<String> echoed = new CompletableFuture<>();
            TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, new ClientLifecycleReceiver() {
                @Override
                public void onConnected(TcpConnection c) {
                    c.send("warm");
                }

                @Override
                public void onReceived(TcpConnection c, MemorySegment data) {
                    echoed.complete(Loopback.text(data));
                    c.close();
                }

                @Override
                public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                    echoed.completeExceptionally(new IllegalStateException(reason.toString()));
                }
            });
            echoed.get(Loopback.WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    private static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count() - 1; // not the one listing the directory
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
