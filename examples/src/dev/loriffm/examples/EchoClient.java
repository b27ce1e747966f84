package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.ClientLifecycleReceiver;
import dev.loriffm.tcp.ConnectionFailure;
import dev.loriffm.tcp.SendError;
import dev.loriffm.tcp.SendToken;
import dev.loriffm.tcp.TcpConnection;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;

/**
 * An echo client: sends its stdin to a server and writes exactly the bytes that come back to
 * stdout. Exits 0 once stdin has ended and every byte has come back; 1 if it cannot connect or
 * the connection ends early (the reason goes to stderr).
 */
public final class EchoClient {
    private static final String NAME = "echo-client";
    private static final String USAGE = """
            Usage: scripts/example echo-client --port PORT [--host HOST]

            Sends stdin to an echo server and writes the bytes that come back to stdout,
            nothing else. Exits 0 once stdin has ended and every byte has come back;
            exits 1 with a message on stderr if it cannot connect or the connection ends early.

              --host HOST   server address or name (default 127.0.0.1)
              --port PORT   server port (required)
            """;
    /** Bytes read from stdin per send. */
    private static final int CHUNK_BYTES = 64 * 1024;
    /** Chunks read from stdin whose bytes the kernel has not yet taken: bounds memory. */
    private static final int CHUNKS_IN_FLIGHT = 16;

    private EchoClient() { }

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(NAME, USAGE, argv);
        String host = args.string("--host", "127.0.0.1");
        int port = args.intOption("--port", -1, 1, 65535);
        args.finish();
        if (port < 0) {
            Args.fail(NAME, "option --port is required");
        }
        EventLoopGroup group = EventLoopGroup.create(1);
        Client client = new Client(host + ":" + port, System.in, new FileOutputStream(FileDescriptor.out));
        TcpConnection.client(Net.CONNECT, group.next(), host, port, client);
        int exitCode = client.exitCode.get();
        group.close();
        System.exit(exitCode);
    }

    /** The client connection: stdin out, echo in. Loop-confined except {@link #exitCode}. */
    static final class Client implements ClientLifecycleReceiver {
        final CompletableFuture<Integer> exitCode = new CompletableFuture<>();
        private final String target;
        private final InputStream in;
        private final OutputStream out;
        // Taken by the stdin reader per chunk, returned on the chunk's onSent.
        private final Semaphore window = new Semaphore(CHUNKS_IN_FLIGHT);

        // -- loop thread only
        private final ArrayDeque<byte[]> unsent = new ArrayDeque<>();
        private long bytesSent;
        private long bytesBack;
        private boolean inputEnded;
        private boolean closing;

        Client(String target, InputStream in, OutputStream out) {
            this.target = target;
            this.in = in;
            this.out = out;
        }

        @Override
        public void onConnected(TcpConnection connection) {
            Thread.ofPlatform().daemon(true).name("stdin-reader").start(() -> readInput(connection));
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
            System.err.println(NAME + ": connection to " + target + " closed early: " + bytesBack + " of "
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
            String detail = connection.failureDetail();
            System.err.println(NAME + ": cannot connect to " + target + ": " + why
                    + (detail.isEmpty() ? "" : " (" + detail + ")"));
            exitCode.complete(1);
        }

        private void fail(TcpConnection connection, String message) {
            System.err.println(NAME + ": " + message);
            exitCode.complete(1);
            connection.hardClose();
        }
    }
}
