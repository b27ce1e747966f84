package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.TcpListener;
import dev.loriffm.tls.SslContext;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The echo server over TLS: every connection handshakes with the server's certificate before
 * {@code onStarted}, then echoes exactly as {@link EchoServer} does (the same receiver; TLS is
 * invisible to it). Optionally verifies client certificates against {@code --ca}.
 */
public final class TlsEchoServer {
    private static final String NAME = "tls-echo-server";
    private static final String USAGE = """
            Usage: scripts/example tls-echo-server --cert FILE --key FILE [--key-password PW]
                       [--ca FILE [--require-client-cert]] [--alpn LIST] [--host HOST] [--port PORT] [--loops N]

            Echoes every byte each TLS client sends back to it, until SIGINT or SIGTERM.
            Prints 'listening on HOST:PORT' on stdout once it accepts connections; a failed
            handshake is reported on stderr; on shutdown prints a summary line on stderr.
            A certificate or key that cannot be loaded is reported (e.g. 'cannot load --key:
            wrong password: ...') with exit status 1.

              --host HOST             address to bind (default 127.0.0.1)
              --port PORT             port to bind, 0 for an ephemeral one (default 0)
              --loops N               event loops (default: available processors, here %d)
            %s  --require-client-cert   with --ca: refuse clients without a certificate that verifies
                                      against it (with --ca alone, a certificate is asked for and
                                      verified if sent)
              --alpn LIST             ALPN protocols to accept, comma-separated, in preference order
                                      (e.g. h2,http/1.1); default: no ALPN

            Try it with:  openssl s_client -connect 127.0.0.1:PORT -CAfile CA.pem
            or:           scripts/example echo-client --tls --ca CA.pem --servername localhost --port PORT
            """.formatted(Net.processors(), TlsOptions.USAGE);

    private TlsEchoServer() { }

    public static void main(String[] argv) throws InterruptedException {
        Args args = Args.parse(NAME, USAGE, argv, Set.of("--require-client-cert"));
        String host = args.string("--host", "127.0.0.1");
        int port = args.intOption("--port", 0, 0, 65535);
        int loops = args.intOption("--loops", Net.processors(), 1, 1024);
        TlsOptions tls = TlsOptions.parse(NAME, args);
        boolean requireClientCert = args.flag("--require-client-cert");
        String alpnList = args.string("--alpn", null);
        args.finish();
        if (tls.cert == null) {
            Args.fail(NAME, "options --cert and --key are required (the server's certificate chain and key)");
        }
        if (requireClientCert && tls.ca == null) {
            Args.fail(NAME, "option --require-client-cert needs --ca (the CA that client certificates must verify"
                    + " against)");
        }
        List<String> alpn = alpnList == null ? List.of() : Arrays.asList(alpnList.split(",", -1));

        SslContext context = tls.orExit(NAME, tls.server(requireClientCert, alpn));
        EventLoopGroup group = EventLoopGroup.create(loops);
        EchoServer.Stats stats = new EchoServer.Stats();
        TcpListener listener;
        try {
            listener = start(group, host, port, stats, context, System.err);
        } catch (IOException e) {
            System.err.println(NAME + ": cannot listen on " + host + ":" + port + ": " + e.getMessage());
            group.close();
            context.close();
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            listener.close();
            group.close();
            context.close();
            System.err.println(NAME + ": stopped after " + stats.connections.sum() + " connections, "
                    + stats.bytes.sum() + " bytes echoed, " + stats.pauses.sum() + " backpressure pauses, "
                    + stats.failedStarts.sum() + " failed handshakes");
        }));
        System.err.println(NAME + ": " + context);
        Net.announce(listener);
        Thread.currentThread().join(); // until a signal runs the shutdown hook
    }

    /**
     * Starts a TLS echo listener on {@code host:port} with {@code context} (a server context the
     * caller keeps open while the listener runs); {@return it, listening}
     *
     * @param log where to report failed handshakes, or {@code null} to only count them
     */
    static TcpListener start(EventLoopGroup group, String host, int port, EchoServer.Stats stats,
                             SslContext context, PrintStream log) throws IOException, InterruptedException {
        return Net.listenTls(group, host, port, context, socket -> new EchoServer.Echo(NAME, stats, log));
    }
}
