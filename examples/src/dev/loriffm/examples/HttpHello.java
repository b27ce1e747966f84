package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.SendError;
import dev.loriffm.tcp.SendResult;
import dev.loriffm.tcp.SendToken;
import dev.loriffm.tcp.ServerLifecycleReceiver;
import dev.loriffm.tcp.StartFailure;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpListener;
import dev.loriffm.tls.SslContext;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * A minimal HTTP/1.1 server that answers every request with {@code Hello, World!}. It keeps
 * connections alive and is pipelining-safe: it counts request heads by finding each
 * {@code \r\n\r\n} in the byte stream (the match carries over between reads, so a terminator split
 * across reads still counts) and answers all the requests of one read with one send. Request
 * bodies are not supported (GET-style requests only). With {@code --tls} it serves HTTPS: the same
 * receiver behind a TLS handshake.
 */
public final class HttpHello {
    private static final String NAME = "http-hello";
    private static final String USAGE = """
            Usage: scripts/example http-hello [--host HOST] [--port PORT] [--loops N]
                       [--tls --cert FILE --key FILE [--key-password PW]]

            HTTP/1.1 keep-alive server answering every request with 'Hello, World!', until
            SIGINT or SIGTERM. Prints 'listening on HOST:PORT' on stdout once it accepts
            connections; on shutdown prints a summary line on stderr.

              --host HOST             address to bind (default 127.0.0.1)
              --port PORT             port to bind, 0 for an ephemeral one (default 0)
              --loops N               event loops (default 1)
              --tls                   serve HTTPS with --cert and --key (ALPN: http/1.1)
              --cert FILE             certificate chain (PEM): the leaf first, then intermediates
              --key FILE              the certificate's private key (PEM)
              --key-password PW       the key's password, if it is encrypted

            Try it with:  curl --cacert CA.pem https://localhost:PORT/ https://localhost:PORT/
            """;
    /** The whole response; never modified, so every send may share it. */
    static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\n"
            + "Hello, World!").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END_OF_HEAD = {'\r', '\n', '\r', '\n'};

    private HttpHello() { }

    /** Connection and request counts, shared by every loop. Thread-safe. */
    static final class Stats {
        final LongAdder connections = new LongAdder();
        final LongAdder requests = new LongAdder();
        /** Connections that never started: failed TLS handshakes. */
        final LongAdder failedStarts = new LongAdder();
    }

    public static void main(String[] argv) throws InterruptedException {
        Args args = Args.parse(NAME, USAGE, argv, Set.of("--tls"));
        String host = args.string("--host", "127.0.0.1");
        int port = args.intOption("--port", 0, 0, 65535);
        int loops = args.intOption("--loops", 1, 1, 1024);
        boolean tls = args.flag("--tls");
        TlsOptions tlsOptions = TlsOptions.parse(NAME, args);
        args.finish();
        if (tlsOptions.ca != null) {
            Args.fail(NAME, "unknown option --ca (http-hello does not verify clients)");
        }
        if (tls && tlsOptions.cert == null) {
            Args.fail(NAME, "option --tls needs --cert and --key (the server's certificate chain and key)");
        }
        if (!tls && tlsOptions.cert != null) {
            Args.fail(NAME, "options --cert and --key need --tls");
        }
        // ALPN tells clients such as curl that this server speaks HTTP/1.1 only.
        SslContext context = tls ? tlsOptions.orExit(NAME, tlsOptions.server(false, List.of("http/1.1"))) : null;

        EventLoopGroup group = EventLoopGroup.create(loops);
        Stats stats = new Stats();
        TcpListener listener;
        try {
            listener = context == null ? start(group, host, port, stats)
                    : Net.listenTls(group, host, port, context, socket -> new Http(stats));
        } catch (IOException e) {
            System.err.println(NAME + ": cannot listen on " + host + ":" + port + ": " + e.getMessage());
            group.close();
            if (context != null) {
                context.close();
            }
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            listener.close();
            group.close();
            if (context != null) {
                context.close();
            }
            System.err.println(NAME + ": stopped after " + stats.connections.sum() + " connections, "
                    + stats.requests.sum() + " requests" + (context == null ? ""
                    : ", " + stats.failedStarts.sum() + " failed handshakes"));
        }));
        Net.announce(listener);
        Thread.currentThread().join(); // until a signal runs the shutdown hook
    }

    /** Starts the server on {@code host:port}; {@return its listener, listening} */
    static TcpListener start(EventLoopGroup group, String host, int port, Stats stats)
            throws IOException, InterruptedException {
        return Net.listen(group, host, port, socket -> new Http(stats));
    }

    /** One keep-alive connection. Loop-confined. */
    static final class Http implements ServerLifecycleReceiver {
        private final Stats stats;
        // How many bytes of END_OF_HEAD the stream has matched so far (0..3), across reads.
        private int matched;
        // Requests counted but not yet answered (send refused while backpressured).
        private int owed;

        Http(Stats stats) {
            this.stats = stats;
        }

        @Override
        public void onStarted(TcpConnection connection) {
            stats.connections.increment();
            connection.setNodelay(true); // a response is one small write: send it now
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            int requests = countHeads(data);
            if (requests > 0) {
                stats.requests.add(requests);
                owed += requests;
                answer(connection);
            }
        }

        /** {@return how many request heads end in {@code data}} */
        int countHeads(MemorySegment data) {
            int heads = 0;
            int m = matched;
            long n = data.byteSize();
            for (long i = 0; i < n; i++) {
                byte b = data.get(ValueLayout.JAVA_BYTE, i);
                if (b == END_OF_HEAD[m]) {
                    if (++m == END_OF_HEAD.length) {
                        heads++;
                        m = 0;
                    }
                } else {
                    m = b == '\r' ? 1 : 0; // a mismatched byte can still start the next terminator
                }
            }
            matched = m;
            return heads;
        }

        /** Sends every owed response in one send; on backpressure stops reading until unthrottled. */
        private void answer(TcpConnection connection) {
            SendResult result = owed == 1 ? connection.send(RESPONSE)
                    : connection.send(Collections.nCopies(owed, RESPONSE));
            switch (result) {
                case SendToken accepted -> owed = 0;
                case SendError.NOT_WRITEABLE -> connection.mute();
                case SendError.NOT_CONNECTED -> owed = 0;
            }
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

        @Override
        public void onStartFailure(TcpConnection connection, StartFailure reason) {
            stats.failedStarts.increment();
            System.err.println(NAME + ": a connection failed to start: " + reason + " ("
                    + connection.failureDetail() + ")");
        }
    }
}
