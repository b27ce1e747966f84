package dev.loriffm.examples;

import dev.loriffm.loop.EventLoop;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.ClientLifecycleReceiver;
import dev.loriffm.tcp.ConnectionFailure;
import dev.loriffm.tcp.SendError;
import dev.loriffm.tcp.SendToken;
import dev.loriffm.tcp.StartTlsError;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TlsFailure;
import dev.loriffm.tcp.TlsInfo;
import dev.loriffm.tcp.TlsUpgradeStarted;
import dev.loriffm.tls.SslContext;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;

/**
 * An echo client: sends its stdin to a server and writes exactly the bytes that come back to
 * stdout, in plaintext or over TLS. Exits 0 once stdin has ended and every byte has come back; 1
 * if it cannot connect, the TLS handshake fails, or the connection ends early (the reason goes to
 * stderr).
 */
public final class EchoClient {
    private static final String NAME = "echo-client";
    private static final String USAGE = """
            Usage: scripts/example echo-client --port PORT [--host HOST]
                       [--tls [--ca FILE | --insecure] [--servername NAME] [--cert FILE --key FILE]]

            Sends stdin to an echo server and writes the bytes that come back to stdout,
            nothing else. Exits 0 once stdin has ended and every byte has come back;
            exits 1 with a message on stderr if it cannot connect, the TLS handshake fails
            (the reason, e.g. 'certificate verify failed', is in the message) or the
            connection ends early.

              --host HOST             server address or name (default 127.0.0.1)
              --port PORT             server port (required)
              --tls                   connect over TLS; the negotiated protocol and cipher go to stderr
              --ca FILE               trust the CAs in FILE (PEM file or hashed directory); without
                                      it the server is verified against the system trust store
              --insecure              do not verify the server at all (prints a warning)
              --servername NAME       name to send as SNI and to verify the certificate against
                                      (default: --host)
              --cert FILE, --key FILE, --key-password PW
                                      client certificate, sent if the server asks for one
            """;
    /** Bytes read from stdin per send. */
    private static final int CHUNK_BYTES = 64 * 1024;
    /** Chunks read from stdin whose bytes the kernel has not yet taken: bounds memory. */
    private static final int CHUNKS_IN_FLIGHT = 16;

    private EchoClient() { }

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(NAME, USAGE, argv, Set.of("--tls", "--insecure"));
        String host = args.string("--host", "127.0.0.1");
        int port = args.intOption("--port", -1, 1, 65535);
        boolean tls = args.flag("--tls");
        boolean insecure = args.flag("--insecure");
        String serverName = args.string("--servername", null);
        TlsOptions tlsOptions = TlsOptions.parse(NAME, args);
        args.finish();
        if (port < 0) {
            Args.fail(NAME, "option --port is required");
        }
        if (!tls && (insecure || serverName != null || tlsOptions.ca != null || tlsOptions.cert != null)) {
            Args.fail(NAME, "options --ca, --insecure, --servername, --cert and --key need --tls");
        }
        if (insecure && tlsOptions.ca != null) {
            Args.fail(NAME, "options --insecure and --ca exclude each other");
        }
        String target = host + ":" + port;
        SslContext context = null;
        if (tls) {
            context = tlsOptions.orExit(NAME, tlsOptions.client(insecure));
            if (insecure) {
                System.err.println(NAME + ": WARNING: --insecure: the server's certificate is not verified, so"
                        + " anyone on the path can impersonate it; the connection is encrypted, not authenticated");
            }
            String verified = serverName != null ? serverName : host;
            String trust = insecure ? "not verified" : "verified against " + (tlsOptions.ca != null
                    ? tlsOptions.ca : "the system trust store") + " for '" + verified + "'";
            target = target + " (TLS, " + trust + ")";
        }
        EventLoopGroup group = EventLoopGroup.create(1);
        Client client = new Client(target, System.in, new FileOutputStream(FileDescriptor.out), context,
                serverName);
        if (tls && tlsOptions.ca == null && !insecure) {
            client.verifyHint = "use --ca FILE to trust the server's CA, or --servername NAME if the certificate "
                    + "is for another name";
        }
        client.secured.thenAccept(info -> System.err.println(NAME + ": " + info.protocol() + ", " + info.cipher()
                + (info.alpn().isEmpty() ? "" : ", ALPN " + info.alpn())));
        client.connect(group.next(), host, port);
        int exitCode = client.exitCode.get();
        group.close();
        if (context != null) {
            context.close();
        }
        System.exit(exitCode);
    }

    /**
     * The client connection: stdin out, echo in. Loop-confined except {@link #exitCode},
     * {@link #secured} and {@link #connect}.
     */
    static final class Client implements ClientLifecycleReceiver {
        final CompletableFuture<Integer> exitCode = new CompletableFuture<>();
        /** What TLS negotiated, once the handshake is done; never completed without TLS. */
        final CompletableFuture<TlsInfo> secured = new CompletableFuture<>();
        /** Where failures are reported (default stderr); set before {@link #connect}, which publishes it. */
        PrintStream messages = System.err;
        /** Appended to a certificate verification failure's message; set before {@link #connect}. */
        String verifyHint = "";
        private final String target;
        private final InputStream in;
        private final OutputStream out;
        private final SslContext tls;
        private final String serverName;
        // Taken by the stdin reader per chunk, returned on the chunk's onSent.
        private final Semaphore window = new Semaphore(CHUNKS_IN_FLIGHT);

        // -- loop thread only
        private final ArrayDeque<byte[]> unsent = new ArrayDeque<>();
        private long bytesSent;
        private long bytesBack;
        private boolean inputEnded;
        private boolean closing;

        // Set by connect() (published to the loop by it) when TLS starts with startTls in
        // onConnected; cleared on onTlsReady.
        private boolean upgrading;

        /** A plaintext client; call {@link #connect}. */
        Client(String target, InputStream in, OutputStream out) {
            this(target, in, out, null, null);
        }

        /**
         * A client that uses TLS with {@code tls} (a client context) unless it is {@code null}.
         *
         * @param serverName the name to send as SNI and verify the certificate against, or
         *                   {@code null} for the host connected to
         */
        Client(String target, InputStream in, OutputStream out, SslContext tls, String serverName) {
            this.target = target;
            this.in = in;
            this.out = out;
            this.tls = tls;
            this.serverName = serverName;
        }

        /** Connects to {@code host:port} as configured; callable from any thread, once. */
        void connect(EventLoop loop, String host, int port) {
            if (tls == null) {
                TcpConnection.client(Net.CONNECT, loop, host, port, this);
            } else if (serverName == null || serverName.equals(host)) {
                // The usual way: the handshake runs before onConnected, verifying the server as 'host'.
                TcpConnection.sslClient(Net.CONNECT, loop, host, port, tls, this);
            } else {
                // sslClient verifies the host it connects to. To connect to one name (say 127.0.0.1)
                // and verify another, connect in plaintext and start TLS before any byte is sent:
                // on the wire the same as sslClient, with the handshake after onConnected.
                upgrading = true;
                TcpConnection.client(Net.CONNECT, loop, host, port, this);
            }
        }

        @Override
        public void onConnected(TcpConnection connection) {
            if (upgrading) {
                switch (connection.startTls(tls, serverName)) {
                    case TlsUpgradeStarted started -> { } // onTlsReady or onTlsFailure follows
                    case StartTlsError error -> fail(connection, "cannot start TLS with " + target + ": " + error
                            + " " + connection.failureDetail());
                }
                return;
            }
            ready(connection);
        }

        @Override
        public void onTlsReady(TcpConnection connection) {
            upgrading = false;
            ready(connection);
        }

        /** The connection carries data now (after the TLS handshake if any): start sending stdin. */
        private void ready(TcpConnection connection) {
            TlsInfo info = connection.tlsInfo();
            if (info != null) {
                secured.complete(info);
            }
            Thread.ofPlatform().daemon(true).name("stdin-reader").start(() -> readInput(connection));
        }

        @Override
        public void onTlsFailure(TcpConnection connection, TlsFailure reason) {
            String why = switch (reason) {
                case AUTH_FAILED -> "TLS handshake failed: the server's certificate did not verify";
                case GENERAL_ERROR -> "TLS handshake failed";
            };
            report("cannot connect to " + target + ": " + why, connection.failureDetail());
            exitCode.complete(1); // onClosed follows and finds the exit code set
        }

        /** Runs on the reader thread: hands stdin to the loop chunk by chunk, bounded by the window. */
        private void readInput(TcpConnection connection) {
            byte[] buffer = new byte[CHUNK_BYTES];
            try {
                while (true) {
                    window.acquire();
                    int n = in.read(buffer);
                    if (n < 0) {
                        connection.execute(() -> inputEnded(connection));
                        return;
                    }
                    byte[] chunk = Arrays.copyOf(buffer, n);
                    connection.execute(() -> offer(connection, chunk));
                }
            } catch (IOException e) {
                connection.execute(() -> fail(connection, "cannot read stdin: " + e.getMessage()));
            } catch (InterruptedException | RejectedExecutionException stopped) {
                // The client is shutting down.
            }
        }

        private void offer(TcpConnection connection, byte[] chunk) {
            unsent.addLast(chunk);
            sendUnsent(connection);
        }

        private void sendUnsent(TcpConnection connection) {
            while (!unsent.isEmpty()) {
                byte[] chunk = unsent.peekFirst();
                switch (connection.send(chunk)) {
                    case SendToken accepted -> {
                        unsent.removeFirst();
                        bytesSent += chunk.length;
                    }
                    case SendError.NOT_WRITEABLE -> {
                        return; // onUnthrottled resumes
                    }
                    case SendError.NOT_CONNECTED -> {
                        return; // closed; onClosed reports it
                    }
                }
            }
        }

        @Override
        public void onUnthrottled(TcpConnection connection) {
            sendUnsent(connection);
            finishIfDone(connection);
        }

        @Override
        public void onSent(TcpConnection connection, SendToken token) {
            window.release();
        }

        private void inputEnded(TcpConnection connection) {
            inputEnded = true;
            finishIfDone(connection);
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            try {
                out.write(data.toArray(ValueLayout.JAVA_BYTE));
                out.flush();
            } catch (IOException e) {
                fail(connection, "cannot write stdout: " + e.getMessage());
                return;
            }
            bytesBack += data.byteSize();
            finishIfDone(connection);
        }

        private void finishIfDone(TcpConnection connection) {
            if (inputEnded && unsent.isEmpty() && bytesBack >= bytesSent && !closing) {
                closing = true;
                connection.close();
            }
        }

        @Override
        public void onClosed(TcpConnection connection) {
            if (exitCode.isDone()) {
                return; // fail() already reported why
            }
            if (closing) {
                exitCode.complete(0);
                return;
            }
            String detail = connection.failureDetail();
            messages.println(NAME + ": connection to " + target + " closed early: " + bytesBack + " of "
                    + bytesSent + " bytes sent came back" + (inputEnded ? "" : ", stdin not finished")
                    + (detail.isEmpty() ? "" : " (" + detail + ")"));
            exitCode.complete(1);
        }

        @Override
        public void onConnectionFailure(TcpConnection connection, ConnectionFailure reason) {
            String why = switch (reason) {
                case DNS -> "name resolution failed";
                case TCP -> "TCP connection failed";
                case SSL -> "TLS handshake failed";
                case TIMEOUT -> "timed out";
                case TIMER_ERROR -> "connection timer failed";
            };
            report("cannot connect to " + target + ": " + why, connection.failureDetail());
            exitCode.complete(1);
        }

        /** Prints a failure and its detail, with {@link #verifyHint} if verification failed. */
        private void report(String message, String detail) {
            boolean verify = detail.contains("certificate verify failed") || message.contains("did not verify");
            messages.println(NAME + ": " + message + (detail.isEmpty() ? "" : " (" + detail + ")")
                    + (verify && !verifyHint.isEmpty() ? "; " + verifyHint : ""));
        }

        private void fail(TcpConnection connection, String message) {
            messages.println(NAME + ": " + message);
            exitCode.complete(1);
            connection.hardClose();
        }
    }
}
