package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.ClientLifecycleReceiver;
import dev.loriffm.tcp.ConnectionFailure;
import dev.loriffm.tcp.SendError;
import dev.loriffm.tcp.SendToken;
import dev.loriffm.tcp.ServerLifecycleReceiver;
import dev.loriffm.tcp.StartFailure;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpListener;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A client floods a server that reads slowly. The server starts muted and stays so until the
 * client has been throttled (or has handed everything to the kernel); then it reads in bursts,
 * muting itself after each burst and unmuting from a timer thread through {@code execute}. The
 * client sends until {@code send} refuses with {@link SendError#NOT_WRITEABLE}, waits for
 * {@code onUnthrottled}, and counts every {@code onSent}. Both sides check the byte totals and the
 * server checks every byte.
 */
public final class Backpressure {
    private static final String NAME = "backpressure";
    private static final String USAGE = """
            Usage: scripts/example backpressure [--mib N] [--chunk-kib N] [--burst-kib N] [--pause-ms N]

            Starts a slow-reading server on 127.0.0.1 (ephemeral port) and a client that sends
            N MiB as fast as send() accepts it. Prints how often the client was refused
            (NOT_WRITEABLE), throttled and unthrottled, how many onSent tokens it got, and what
            the server read and verified.

              --mib N         MiB to send (default 32)
              --chunk-kib N   KiB per send (default 64)
              --burst-kib N   KiB the server reads before pausing (default 1024)
              --pause-ms N    how long each pause lasts (default 2)
            """;
    /** The byte at stream offset {@code o} is {@code o % PATTERN}; a prime, so consecutive chunks differ. */
    private static final int PATTERN = 251;

    private Backpressure() { }

    /**
     * What the flood came to.
     *
     * @param total       bytes the client meant to send
     * @param accepted    sends accepted (tokens minted)
     * @param sentTokens  onSent callbacks the client got
     * @param refusals    sends refused with NOT_WRITEABLE
     * @param throttles   onThrottled callbacks
     * @param unthrottles onUnthrottled callbacks
     * @param received    bytes the server read
     * @param pauses      times the server muted itself
     * @param error       what went wrong, or {@code null}
     */
    record Result(long total, long accepted, long sentTokens, long refusals, long throttles, long unthrottles,
                  long received, long pauses, String error) {
        boolean ok() {
            return error == null && received == total && sentTokens == accepted;
        }

        String summary() {
            String verdict = error != null ? "FAILED: " + error
                    : ok() ? "byte totals match" : "MISMATCH: " + received + " of " + total + " bytes arrived";
            return "client sent " + total + " bytes in " + accepted + " accepted sends\n"
                    + "  send() refused with NOT_WRITEABLE: " + refusals + " times\n"
                    + "  onThrottled: " + throttles + ", onUnthrottled: " + unthrottles + "\n"
                    + "  onSent tokens: " + sentTokens + " of " + accepted + "\n"
                    + "  server paused (mute, timer, unmute) " + pauses + " times, read " + received
                    + " bytes and checked every one\n"
                    + "  " + verdict;
        }
    }

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(NAME, USAGE, argv);
        int mib = args.intOption("--mib", 32, 1, 64 * 1024);
        int chunkKib = args.intOption("--chunk-kib", 64, 1, 64 * 1024);
        int burstKib = args.intOption("--burst-kib", 1024, 1, 1024 * 1024);
        int pauseMs = args.intOption("--pause-ms", 2, 0, 60_000);
        args.finish();
        try (EventLoopGroup group = EventLoopGroup.create(2)) {
            Result result = run(group, (long) mib << 20, chunkKib << 10, (long) burstKib << 10, pauseMs);
            System.out.println(NAME + ": " + result.summary());
            System.exit(result.ok() ? 0 : 1);
        }
    }

    /** Floods a slow reader with {@code total} bytes; {@return the outcome} */
    static Result run(EventLoopGroup group, long total, int chunkBytes, long burstBytes, int pauseMs)
            throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon(true).name("backpressure-timer").unstarted(r));
        CompletableFuture<TcpConnection> serverStarted = new CompletableFuture<>();
        CompletableFuture<Void> clientBlocked = new CompletableFuture<>();
        // The server reads nothing until the client has felt backpressure (or has handed the kernel
        // everything), so the client is throttled whenever the data outgrows the socket buffers.
        serverStarted.thenAcceptBoth(clientBlocked, (server, blocked) -> resume(server));
        SlowServer server = new SlowServer(serverStarted, timer, burstBytes, pauseMs);
        TcpListener listener = Net.listen(group, "127.0.0.1", 0, socket -> server);
        try {
            Flood client = new Flood(total, chunkBytes, clientBlocked);
            TcpConnection.client(Net.CONNECT, group.next(), "127.0.0.1", listener.localAddress().getPort(), client);
            long wait = Net.WAIT_SECONDS + total / (8 << 20);
            Flood.Counts counts = client.done.get(wait, TimeUnit.SECONDS);
            long[] read = server.done.get(wait, TimeUnit.SECONDS);
            String error = counts.error() != null ? counts.error() : server.error;
            return new Result(total, counts.accepted(), counts.sentTokens(), counts.refusals(), counts.throttles(),
                    counts.unthrottles(), read[0], read[1], error);
        } finally {
            listener.close();
            timer.shutdownNow();
        }
    }

    /** Unmutes {@code connection} from any thread, in its loop. */
    static void resume(TcpConnection connection) {
        try {
            connection.execute(connection::unmute);
        } catch (RejectedExecutionException loopGone) {
            // The loop shut down; so did the connection.
        }
    }

    /** {@return {@code length} pattern bytes starting at stream offset {@code offset}} */
    static byte[] chunk(long offset, int length) {
        byte[] bytes = new byte[length];
        int value = (int) (offset % PATTERN);
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) value;
            value = value == PATTERN - 1 ? 0 : value + 1;
        }
        return bytes;
    }

    /** Reads in bursts with pauses, checking every byte. Accepts one connection. Loop-confined. */
    static final class SlowServer implements ServerLifecycleReceiver {
        /** Completes with {bytes read, pauses} when the connection closes. */
        final CompletableFuture<long[]> done = new CompletableFuture<>();
        private final CompletableFuture<TcpConnection> started;
        private final ScheduledExecutorService timer;
        private final long burstBytes;
        private final int pauseMs;
        private long received;
        private long sinceResume;
        private long pauses;
        private volatile String error;

        SlowServer(CompletableFuture<TcpConnection> started, ScheduledExecutorService timer, long burstBytes,
                   int pauseMs) {
            this.started = started;
            this.timer = timer;
            this.burstBytes = burstBytes;
            this.pauseMs = pauseMs;
        }

        @Override
        public void onStarted(TcpConnection connection) {
            connection.mute();
            started.complete(connection);
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            long n = data.byteSize();
            int expected = (int) (received % PATTERN);
            for (long i = 0; i < n; i++) {
                if (data.get(ValueLayout.JAVA_BYTE, i) != (byte) expected) {
                    error = "byte " + (received + i) + " is " + data.get(ValueLayout.JAVA_BYTE, i)
                            + ", expected " + (byte) expected;
                    connection.hardClose();
                    return;
                }
                expected = expected == PATTERN - 1 ? 0 : expected + 1;
            }
            received += n;
            sinceResume += n;
            if (sinceResume >= burstBytes) {
                sinceResume = 0;
                pauses++;
                connection.mute();
                try {
                    timer.schedule(() -> resume(connection), pauseMs, TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException shutDown) {
                    connection.unmute();
                }
            }
        }

        @Override
        public void onClosed(TcpConnection connection) {
            done.complete(new long[] {received, pauses});
        }

        @Override
        public void onStartFailure(TcpConnection connection, StartFailure reason) {
            error = "server connection failed to start: " + reason;
            done.complete(new long[] {0, 0});
        }
    }

    /** Sends {@code total} bytes as fast as the connection accepts them. Loop-confined except {@link #done}. */
    static final class Flood implements ClientLifecycleReceiver {
        /** What the client counted. */
        record Counts(long accepted, long sentTokens, long refusals, long throttles, long unthrottles,
                      String error) { }

        final CompletableFuture<Counts> done = new CompletableFuture<>();
        private final long total;
        private final int chunkBytes;
        private final CompletableFuture<Void> blocked;
        private long offset;
        private long accepted;
        private long sentTokens;
        private long refusals;
        private long throttles;
        private long unthrottles;
        private String error;

        Flood(long total, int chunkBytes, CompletableFuture<Void> blocked) {
            this.total = total;
            this.chunkBytes = chunkBytes;
            this.blocked = blocked;
        }

        @Override
        public void onConnected(TcpConnection connection) {
            sendMore(connection);
        }

        private void sendMore(TcpConnection connection) {
            while (offset < total) {
                int length = (int) Math.min(chunkBytes, total - offset);
                switch (connection.send(chunk(offset, length))) {
                    case SendToken token -> {
                        accepted++;
                        offset += length;
                    }
                    case SendError.NOT_WRITEABLE -> {
                        refusals++;
                        return; // onUnthrottled resumes
                    }
                    case SendError.NOT_CONNECTED -> {
                        error = "connection lost after " + offset + " bytes";
                        return;
                    }
                }
            }
            connection.close(); // graceful: the queue drains, then FIN
        }

        @Override
        public void onThrottled(TcpConnection connection) {
            throttles++;
            blocked.complete(null);
        }

        @Override
        public void onUnthrottled(TcpConnection connection) {
            unthrottles++;
            sendMore(connection);
        }

        @Override
        public void onSent(TcpConnection connection, SendToken token) {
            sentTokens++;
            if (offset == total && sentTokens == accepted) {
                blocked.complete(null); // never throttled: let the server read anyway
            }
        }

        @Override
        public void onClosed(TcpConnection connection) {
            done.complete(new Counts(accepted, sentTokens, refusals, throttles, unthrottles, error));
        }

        @Override
        public void onConnectionFailure(TcpConnection connection, ConnectionFailure reason) {
            blocked.complete(null);
            done.complete(new Counts(0, 0, 0, 0, 0, "cannot connect: " + reason + " (" + connection.failureDetail()
                    + ")"));
        }
    }
}
