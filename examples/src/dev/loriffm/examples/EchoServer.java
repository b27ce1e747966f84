package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.SendError;
import dev.loriffm.tcp.SendToken;
import dev.loriffm.tcp.ServerLifecycleReceiver;
import dev.loriffm.tcp.StartFailure;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpListener;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * An echo server: every byte a client sends comes back to it. Honours backpressure: when the
 * kernel will take no more, the connection stops reading until its queued echo has drained.
 */
public final class EchoServer {
    private static final String NAME = "echo-server";
    private static final String USAGE = """
            Usage: scripts/example echo-server [--host HOST] [--port PORT] [--loops N]

            Echoes every byte each client sends back to it, until SIGINT or SIGTERM.
            Prints 'listening on HOST:PORT' on stdout once it accepts connections;
            on shutdown prints a summary line on stderr.

              --host HOST   address to bind (default 127.0.0.1)
              --port PORT   port to bind, 0 for an ephemeral one (default 0)
              --loops N     event loops (default: available processors, here %d)
            """.formatted(Net.processors());

    private EchoServer() { }

    /** Connection and byte counts, shared by every loop. Thread-safe. */
    static final class Stats {
        final LongAdder connections = new LongAdder();
        final LongAdder bytes = new LongAdder();
        final LongAdder pauses = new LongAdder();
        /** Connections that never started: for TLS, failed handshakes. */
        final LongAdder failedStarts = new LongAdder();
    }

    public static void main(String[] argv) throws InterruptedException {
        Args args = Args.parse(NAME, USAGE, argv);
        String host = args.string("--host", "127.0.0.1");
        int port = args.intOption("--port", 0, 0, 65535);
        int loops = args.intOption("--loops", Net.processors(), 1, 1024);
        args.finish();

        EventLoopGroup group = EventLoopGroup.create(loops);
        Stats stats = new Stats();
        TcpListener listener;
        try {
            listener = start(group, host, port, stats);
        } catch (IOException e) {
            System.err.println(NAME + ": cannot listen on " + host + ":" + port + ": " + e.getMessage());
            group.close();
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            listener.close();
            group.close();
            System.err.println(NAME + ": stopped after " + stats.connections.sum() + " connections, "
                    + stats.bytes.sum() + " bytes echoed, " + stats.pauses.sum() + " backpressure pauses");
        }));
        Net.announce(listener);
        Thread.currentThread().join(); // until a signal runs the shutdown hook
    }

    /** Starts an echo listener on {@code host:port}; {@return it, listening} */
    static TcpListener start(EventLoopGroup group, String host, int port, Stats stats)
            throws IOException, InterruptedException {
        return Net.listen(group, host, port, socket -> new Echo(NAME, stats, System.err));
    }

    /** One connection's echo. Loop-confined. */
    static final class Echo implements ServerLifecycleReceiver {
        private final String name;
        private final Stats stats;
        private final PrintStream log;
        // Received bytes that send() refused; sent, in order, once the connection is writeable.
        private final ArrayDeque<byte[]> held = new ArrayDeque<>();

        /**
         * @param name the example's name, for messages
         * @param log  where to report connections that fail to start, or {@code null} for nowhere
         */
        Echo(String name, Stats stats, PrintStream log) {
            this.name = name;
            this.stats = stats;
            this.log = log;
        }

        @Override
        public void onStarted(TcpConnection connection) {
            stats.connections.increment();
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            // The slice is only valid during this callback, and send() holds its buffer by
            // reference until onSent: copy.
            byte[] copy = data.toArray(ValueLayout.JAVA_BYTE);
            stats.bytes.add(copy.length);
            if (!held.isEmpty()) {
                held.addLast(copy);
                return;
            }
            switch (connection.send(copy)) {
                case SendToken accepted -> { }
                case SendError.NOT_WRITEABLE -> {
                    held.addLast(copy);
                    pause(connection);
                }
                case SendError.NOT_CONNECTED -> { } // closing: nowhere to echo to
            }
        }

        @Override
        public void onThrottled(TcpConnection connection) {
            // The peer is not reading its echo: stop reading from it until the queue drains.
            pause(connection);
        }

        @Override
        public void onUnthrottled(TcpConnection connection) {
            while (!held.isEmpty()) {
                switch (connection.send(held.peekFirst())) {
                    case SendToken accepted -> held.removeFirst();
                    case SendError.NOT_WRITEABLE -> {
                        return; // still paused; the next onUnthrottled continues
                    }
                    case SendError.NOT_CONNECTED -> {
                        held.clear();
                        return;
                    }
                }
            }
            connection.unmute();
        }

        private void pause(TcpConnection connection) {
            if (!connection.isMuted()) {
                connection.mute();
                stats.pauses.increment();
            }
        }

        @Override
        public void onStartFailure(TcpConnection connection, StartFailure reason) {
            stats.failedStarts.increment();
            if (log == null) {
                return;
            }
            String detail = connection.failureDetail();
            log.println(name + ": a connection failed to start: " + reason
                    + (detail.isEmpty() ? "" : " (" + detail + ")"));
        }
    }
}
