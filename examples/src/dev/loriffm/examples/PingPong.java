package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.BufferSize;
import dev.loriffm.tcp.ClientLifecycleReceiver;
import dev.loriffm.tcp.ConnectionFailure;
import dev.loriffm.tcp.SendToken;
import dev.loriffm.tcp.ServerLifecycleReceiver;
import dev.loriffm.tcp.StartFailure;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpListener;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A client and a server in one process play ping-pong on loopback: each ping and pong is a 4-byte
 * big-endian sequence number, and {@code bufferUntil(BufferSize.of(4))} makes every
 * {@code onReceived} exactly one of them, however TCP splits or joins the bytes.
 */
public final class PingPong {
    private static final String NAME = "ping-pong";
    private static final String USAGE = """
            Usage: scripts/example ping-pong [--count N]

            Starts a server on 127.0.0.1 (ephemeral port) and a client that sends N pings,
            one at a time; the server answers each with a pong carrying the same number.
            Both sides frame their input with bufferUntil(BufferSize.of(4)). Prints a summary.

              --count N   pings to send (default 100)
            """;
    private static final ValueLayout.OfInt BIG_ENDIAN_INT =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    private PingPong() { }

    /**
     * What a game came to.
     *
     * @param pings  pings the client sent
     * @param pongs  pongs the client received with the number it expected
     * @param nanos  from the first ping to the last pong
     * @param error  why the game stopped early, or {@code null}
     */
    record Result(int pings, int pongs, long nanos, String error) {
        boolean ok(int count) {
            return error == null && pings == count && pongs == count;
        }

        String summary() {
            String perTrip = pongs == 0 ? "" : String.format(", %.1f µs per round trip", nanos / 1e3 / pongs);
            return pings + " pings sent, " + pongs + " pongs received in " + String.format("%.1f", nanos / 1e6)
                    + " ms" + perTrip + (error == null ? "" : "; FAILED: " + error);
        }
    }

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(NAME, USAGE, argv);
        int count = args.intOption("--count", 100, 1, 100_000_000);
        args.finish();
        try (EventLoopGroup group = EventLoopGroup.create(2)) {
            Result result = run(group, count);
            System.out.println(NAME + ": " + result.summary());
            System.exit(result.ok(count) ? 0 : 1);
        }
    }

    /** Plays {@code count} rounds on a fresh loopback listener; {@return the outcome} */
    static Result run(EventLoopGroup group, int count) throws Exception {
        TcpListener listener = Net.listen(group, "127.0.0.1", 0, socket -> new Server());
        try {
            Client client = new Client(count);
            TcpConnection.client(Net.CONNECT, group.next(), "127.0.0.1", listener.localAddress().getPort(), client);
            return client.result.get(Net.WAIT_SECONDS + count / 10_000, TimeUnit.SECONDS);
        } finally {
            listener.close();
        }
    }

    static byte[] number(int n) {
        return ByteBuffer.allocate(4).putInt(n).array(); // ByteBuffer is big-endian
    }

    /** Answers each 4-byte ping with a pong carrying the same number. Loop-confined. */
    static final class Server implements ServerLifecycleReceiver {
        @Override
        public void onStarted(TcpConnection connection) {
            connection.setNodelay(true); // one tiny message at a time: do not wait to coalesce
            connection.bufferUntil(BufferSize.of(4));
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment ping) {
            connection.send(number(ping.get(BIG_ENDIAN_INT, 0)));
        }

        @Override
        public void onStartFailure(TcpConnection connection, StartFailure reason) {
            System.err.println(NAME + ": server connection failed to start: " + reason);
        }
    }

    /** Sends ping 1..count, the next once the previous pong is back. Loop-confined except {@link #result}. */
    static final class Client implements ClientLifecycleReceiver {
        final CompletableFuture<Result> result = new CompletableFuture<>();
        private final int count;
        private int pings;
        private int pongs;
        private long startNs;
        private long endNs;
        private String error;

        Client(int count) {
            this.count = count;
        }

        @Override
        public void onConnected(TcpConnection connection) {
            connection.setNodelay(true);
            connection.bufferUntil(BufferSize.of(4));
            startNs = System.nanoTime();
            ping(connection);
        }

        private void ping(TcpConnection connection) {
            if (connection.send(number(pings + 1)) instanceof SendToken) {
                pings++;
            } else {
                stop(connection, "send refused for ping " + (pings + 1));
            }
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment pong) {
            int n = pong.get(BIG_ENDIAN_INT, 0);
            if (n != pings) {
                stop(connection, "pong " + n + " answered ping " + pings);
                return;
            }
            pongs++;
            if (pongs == count) {
                endNs = System.nanoTime();
                connection.close();
            } else {
                ping(connection);
            }
        }

        private void stop(TcpConnection connection, String why) {
            error = why;
            endNs = System.nanoTime();
            connection.hardClose();
        }

        @Override
        public void onClosed(TcpConnection connection) {
            if (error == null && pongs < count) {
                error = "connection closed after " + pongs + " pongs";
                endNs = System.nanoTime();
            }
            result.complete(new Result(pings, pongs, endNs - startNs, error));
        }

        @Override
        public void onConnectionFailure(TcpConnection connection, ConnectionFailure reason) {
            result.complete(new Result(0, 0, 0, "cannot connect: " + reason + " (" + connection.failureDetail() + ")"));
        }
    }
}
