package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.BufferSize;
import dev.loriffm.tcp.ClientLifecycleReceiver;
import dev.loriffm.tcp.ConnectionFailure;
import dev.loriffm.tcp.SendResult;
import dev.loriffm.tcp.SendToken;
import dev.loriffm.tcp.ServerLifecycleReceiver;
import dev.loriffm.tcp.StartFailure;
import dev.loriffm.tcp.StartTlsResult;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpListener;
import dev.loriffm.tcp.TlsFailure;
import dev.loriffm.tcp.TlsInfo;
import dev.loriffm.tcp.TlsUpgradeStarted;
import dev.loriffm.tls.SslContext;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * STARTTLS, as SMTP, IMAP and XMPP use it: a client and a server in one process meet in plaintext
 * (a greeting, a {@code STARTTLS} request, an {@code OK} reply), both upgrade the open connection
 * with {@link TcpConnection#startTls}, then play ping-pong over TLS (4-byte numbers framed with
 * {@code bufferUntil}).
 *
 * <p>Two rules of {@code startTls} shape the exchange. It needs an empty write queue and an empty
 * read buffer, so the server upgrades in {@code onSent} of its {@code OK}, and mutes itself from
 * sending {@code OK} until then: the client's ClientHello may reach the socket before that
 * {@code onSent} runs, and must stay unread there instead of being read as plaintext. And bytes
 * received before the upgrade must never count as if they came over TLS (CVE-2021-23222), so each
 * side refuses plaintext that follows {@code STARTTLS} or {@code OK} in the same read.
 */
public final class StartTlsPingPong {
    private static final String NAME = "starttls-ping-pong";
    private static final String USAGE = """
            Usage: scripts/example starttls-ping-pong [--count N] [--servername NAME]
                       [--cert FILE --key FILE [--key-password PW]] [--ca FILE]

            Starts a plaintext server on 127.0.0.1 (ephemeral port) and a client in the same
            process. The server greets, the client asks STARTTLS, the server answers OK, both
            call startTls, and the client then sends N pings over TLS, one at a time; the server
            answers each with a pong carrying the same number. Prints the exchange and a summary;
            exits 0 if every pong came back.

              --count N               pings to send (default 100)
              --servername NAME       name the client verifies the server's certificate against
                                      (default localhost)
            %s
            Without --cert and --key the server uses a throwaway self-signed certificate for
            localhost made with the openssl command (deleted on exit), and the client trusts it
            (unless --ca says otherwise). Without --ca the client trusts the system store.
            """.formatted(TlsOptions.USAGE);
    private static final String GREETING = "HELLO lori-ffm starttls-ping-pong";
    private static final ValueLayout.OfInt BIG_ENDIAN_INT =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private StartTlsPingPong() { }

    /**
     * What a game came to.
     *
     * @param exchange the plaintext lines and upgrades, in order ({@code C: ...}, {@code S: ...})
     * @param tls      what the client's TLS session negotiated, or {@code null}
     * @param pings    pings the client sent over TLS
     * @param pongs    pongs it received with the number it expected
     * @param nanos    from the first ping to the last pong
     * @param error    why the game stopped early, or {@code null}
     */
    record Result(List<String> exchange, TlsInfo tls, int pings, int pongs, long nanos, String error) {
        boolean ok(int count) {
            return error == null && tls != null && pings == count && pongs == count;
        }

        String summary() {
            String perTrip = pongs == 0 ? "" : String.format(", %.1f µs per round trip", nanos / 1e3 / pongs);
            return pings + " pings sent, " + pongs + " pongs received over TLS in "
                    + String.format("%.1f", nanos / 1e6) + " ms" + perTrip
                    + (error == null ? "" : "; FAILED: " + error);
        }
    }

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(NAME, USAGE, argv);
        int count = args.intOption("--count", 100, 1, 100_000_000);
        String serverName = args.string("--servername", "localhost");
        TlsOptions given = TlsOptions.parse(NAME, args);
        args.finish();

        ThrowawayCertificate throwaway = null;
        SslContext server = null;
        SslContext client = null;
        int exitCode = 1;
        try {
            TlsOptions tls = given;
            if (given.cert == null) {
                throwaway = ThrowawayCertificate.create();
                System.out.println(NAME + ": using " + throwaway.describe());
                tls = given.orElse(throwaway.certificate(), throwaway.key(), throwaway.certificate());
            }
            // The server presents the certificate; the client trusts --ca (and presents nothing).
            TlsOptions serverSide = new TlsOptions(tls.cert, tls.key, tls.keyPassword, null);
            TlsOptions clientSide = new TlsOptions(null, null, null, tls.ca);
            server = serverSide.orReport(NAME, serverSide.server(false, List.of()));
            client = server == null ? null : clientSide.orReport(NAME, clientSide.client(false));
            if (client != null) {
                try (EventLoopGroup group = EventLoopGroup.create(2)) {
                    Result result = run(group, count, server, client, serverName);
                    for (String line : result.exchange()) {
                        System.out.println("  " + line);
                    }
                    System.out.println(NAME + ": " + result.summary());
                    exitCode = result.ok(count) ? 0 : 1;
                }
            }
        } catch (IOException e) {
            System.err.println(NAME + ": " + e.getMessage());
        } finally {
            if (server != null) {
                server.close();
            }
            if (client != null) {
                client.close();
            }
            if (throwaway != null) {
                throwaway.close(); // before System.exit: exiting runs no finally blocks
            }
        }
        System.out.flush();
        System.exit(exitCode);
    }

    /**
     * Plays one game on a fresh plaintext listener on 127.0.0.1; {@return the outcome}
     *
     * @param serverContext the server's context (certificate and key)
     * @param clientContext the client's context (what it trusts)
     * @param serverName    the name the client verifies the certificate against
     */
    static Result run(EventLoopGroup group, int count, SslContext serverContext, SslContext clientContext,
                      String serverName) throws Exception {
        List<String> exchange = new CopyOnWriteArrayList<>(); // both loops append, in causal order
        TcpListener listener = Net.listen(group, "127.0.0.1", 0, socket -> new Server(serverContext, exchange));
        try {
            Client client = new Client(count, clientContext, serverName, exchange);
            TcpConnection.client(Net.CONNECT, group.next(), "127.0.0.1", listener.localAddress().getPort(), client);
            return client.result.get(Net.WAIT_SECONDS + count / 10_000, TimeUnit.SECONDS);
        } finally {
            listener.close();
        }
    }

    static byte[] line(String text) {
        return (text + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Collects plaintext lines; {@link #take} hands out one complete line at a time. Loop-confined.
     */
    private static final class Lines {
        private final StringBuilder pending = new StringBuilder();

        void add(MemorySegment data) {
            pending.append(new String(data.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII));
        }

        /** {@return the next complete line without its '\n', or {@code null}} */
        String take() {
            int end = pending.indexOf("\n");
            if (end < 0) {
                return null;
            }
            String line = pending.substring(0, end);
            pending.delete(0, end + 1);
            return line;
        }

        boolean isEmpty() {
            return pending.isEmpty();
        }
    }

    /** Greets, upgrades on STARTTLS, then answers each 4-byte ping with its pong. Loop-confined. */
    static final class Server implements ServerLifecycleReceiver {
        private final SslContext context;
        private final List<String> exchange;
        private final Lines lines = new Lines();
        private SendToken okToken; // the OK reply: startTls once it is written
        private boolean secure;

        Server(SslContext context, List<String> exchange) {
            this.context = context;
            this.exchange = exchange;
        }

        @Override
        public void onStarted(TcpConnection connection) {
            connection.setNodelay(true);
            exchange.add("S: " + GREETING + "   (plaintext)");
            connection.send(line(GREETING));
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            if (secure) {
                connection.send(PingPong.number(data.get(BIG_ENDIAN_INT, 0)));
                return;
            }
            if (okToken != null) {
                refuse(connection, "plaintext after STARTTLS");
                return;
            }
            lines.add(data);
            String command = lines.take();
            if (command == null) {
                return;
            }
            if (!command.equals("STARTTLS") || !lines.isEmpty()) {
                refuse(connection, command.equals("STARTTLS") ? "plaintext after STARTTLS" : "'" + command + "'");
                return;
            }
            exchange.add("S: OK   (plaintext; the server mutes, then calls startTls in onSent of this reply)");
            SendResult reply = connection.send(line("OK"));
            if (reply instanceof SendToken token) {
                okToken = token;
                // Read nothing more until the upgrade: the ClientHello may arrive before onSent.
                connection.mute();
            } else {
                refuse(connection, "cannot send OK: " + reply);
            }
        }

        @Override
        public void onSent(TcpConnection connection, SendToken token) {
            if (token.equals(okToken)) {
                // The write queue is empty now, and the read buffer too (muted since OK): startTls
                // accepts. unmute() takes effect in a later turn, by when the connection reads TLS.
                connection.unmute();
                StartTlsResult started = connection.startTls(context, "");
                exchange.add("S: startTls -> " + started);
                if (!(started instanceof TlsUpgradeStarted)) {
                    connection.hardClose();
                }
            }
        }

        @Override
        public void onTlsReady(TcpConnection connection) {
            secure = true;
            exchange.add("S: TLS ready; pings now arrive framed by bufferUntil(BufferSize.of(4))");
            connection.bufferUntil(BufferSize.of(4));
        }

        @Override
        public void onTlsFailure(TcpConnection connection, TlsFailure reason) {
            exchange.add("S: TLS handshake failed: " + reason + " (" + connection.failureDetail() + ")");
        }

        private void refuse(TcpConnection connection, String what) {
            exchange.add("S: refusing " + what + "; closing");
            connection.hardClose();
        }

        @Override
        public void onStartFailure(TcpConnection connection, StartFailure reason) {
            exchange.add("S: connection failed to start: " + reason);
        }
    }

    /**
     * Asks for STARTTLS after the greeting, upgrades on OK, then sends ping 1..count over TLS, the
     * next once the previous pong is back. Loop-confined except {@link #result}.
     */
    static final class Client implements ClientLifecycleReceiver {
        final CompletableFuture<Result> result = new CompletableFuture<>();
        private final int count;
        private final SslContext context;
        private final String serverName;
        private final List<String> exchange;
        private final Lines lines = new Lines();
        private boolean askedStartTls;
        private TlsInfo tls;
        private int pings;
        private int pongs;
        private long startNs;
        private long endNs;
        private String error;

        Client(int count, SslContext context, String serverName, List<String> exchange) {
            this.count = count;
            this.context = context;
            this.serverName = serverName;
            this.exchange = exchange;
        }

        @Override
        public void onConnected(TcpConnection connection) {
            connection.setNodelay(true);
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            if (tls != null) {
                pong(connection, data.get(BIG_ENDIAN_INT, 0));
                return;
            }
            lines.add(data);
            String reply = lines.take();
            if (reply == null) {
                return;
            }
            if (!askedStartTls && reply.equals(GREETING)) {
                askedStartTls = true;
                exchange.add("C: STARTTLS");
                connection.send(line("STARTTLS"));
            } else if (askedStartTls && reply.equals("OK") && lines.isEmpty()) {
                StartTlsResult started = connection.startTls(context, serverName);
                exchange.add("C: startTls(\"" + serverName + "\") -> " + started);
                if (!(started instanceof TlsUpgradeStarted)) {
                    stop(connection, "startTls refused: " + started + " " + connection.failureDetail());
                }
            } else {
                // Anything after OK in the same read would be plaintext posing as TLS data.
                stop(connection, "unexpected plaintext from the server: '" + reply + "'"
                        + (lines.isEmpty() ? "" : " followed by more"));
            }
        }

        @Override
        public void onTlsReady(TcpConnection connection) {
            tls = connection.tlsInfo();
            exchange.add("C: TLS ready: " + tls.protocol() + ", " + tls.cipher() + ", certificate verified for '"
                    + serverName + "'");
            connection.bufferUntil(BufferSize.of(4));
            startNs = System.nanoTime();
            ping(connection);
        }

        private void ping(TcpConnection connection) {
            if (connection.send(PingPong.number(pings + 1)) instanceof SendToken) {
                pings++;
            } else {
                stop(connection, "send refused for ping " + (pings + 1));
            }
        }

        private void pong(TcpConnection connection, int n) {
            if (n != pings) {
                stop(connection, "pong " + n + " answered ping " + pings);
                return;
            }
            pongs++;
            if (pongs == count) {
                endNs = System.nanoTime();
                connection.close(); // close_notify, then FIN
            } else {
                ping(connection);
            }
        }

        @Override
        public void onTlsFailure(TcpConnection connection, TlsFailure reason) {
            error = "client TLS handshake failed: " + reason + " (" + connection.failureDetail() + ")";
        }

        private void stop(TcpConnection connection, String why) {
            error = why;
            endNs = System.nanoTime();
            connection.hardClose();
        }

        @Override
        public void onClosed(TcpConnection connection) {
            if (error == null && pongs < count) {
                String detail = connection.failureDetail();
                error = "connection closed after " + pongs + " pongs" + (detail.isEmpty() ? "" : " (" + detail + ")");
                endNs = System.nanoTime();
            }
            result.complete(new Result(List.copyOf(exchange), tls, pings, pongs,
                    startNs == 0 ? 0 : endNs - startNs, error));
        }

        @Override
        public void onConnectionFailure(TcpConnection connection, ConnectionFailure reason) {
            result.complete(new Result(List.copyOf(exchange), null, 0, 0, 0,
                    "cannot connect: " + reason + " (" + connection.failureDetail() + ")"));
        }
    }
}
