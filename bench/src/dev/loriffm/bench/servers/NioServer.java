package dev.loriffm.bench.servers;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CountDownLatch;

/**
 * The JDK NIO side of the end-to-end comparison: one {@link Selector} on one thread that both
 * accepts and does all I/O, serving {@link HelloProtocol} ({@code http}) or a plain echo
 * ({@code echo}). It is the baseline a Java programmer gets without a framework or FFM, written
 * plainly but without waste: direct buffers, no allocation per read, one write per read batch.
 * TLS is not offered; the TLS comparison is between Netty's engines and lori-ffm.
 *
 * <p>Usage: {@code --mode http|echo [--port P]}. Prints {@code listening on 127.0.0.1:PORT} once
 * bound and runs until SIGTERM, then exits 0.
 */
public final class NioServer {
    /** Matches the other servers of the comparison, so no server wins by refusing connections. */
    private static final int BACKLOG = 4096;
    /** Read buffer size per connection; Netty's reads top out at the same 64 KiB by default. */
    private static final int READ_BUFFER_BYTES = 64 * 1024;
    /** Initial response buffer size; it grows only for an unusually deep pipeline. */
    private static final int OUTPUT_BUFFER_BYTES = 16 * 1024;

    // The selector every channel is registered with; used only by the loop thread, except for
    // wakeup() from the shutdown hook.
    private final Selector selector;
    // The listening socket.
    private final ServerSocketChannel server;
    // True for http, false for echo.
    private final boolean http;
    // Cleared by the shutdown hook; the loop checks it after every select.
    private volatile boolean running = true;
    // Counted down when the loop has closed everything, so the hook can wait for a clean stop.
    private final CountDownLatch stopped = new CountDownLatch(1);

    /**
     * Opens the selector and binds the listening socket.
     *
     * @param http whether to serve http (else echo)
     * @param port the port to bind, 0 for an ephemeral one
     * @throws IOException if binding fails
     */
    private NioServer(boolean http, int port) throws IOException {
        this.http = http;
        selector = Selector.open();
        server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress("127.0.0.1", port), BACKLOG);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            server.close();
            selector.close();
            throw e;
        }
    }

    /**
     * Parses the arguments, binds, prints the listening line and runs the loop on this thread.
     *
     * @param args the command line described in the class comment
     * @throws IOException if the server cannot start
     */
    public static void main(String[] args) throws IOException {
        String mode = null;
        int port = 0;
        try {
            for (int i = 0; i < args.length; i++) {
                String name = args[i];
                if (i + 1 == args.length) {
                    throw new IllegalArgumentException("missing value for " + name);
                }
                String value = args[++i];
                switch (name) {
                    case "--mode" -> mode = value;
                    case "--port" -> port = port(value);
                    // Accepted so one harness command line fits every server; unused here.
                    case "--cert", "--key" -> { }
                    default -> throw new IllegalArgumentException("unknown option: " + name);
                }
            }
            if (mode == null) {
                throw new IllegalArgumentException("--mode is required");
            }
            if (mode.equals("tls-echo")) {
                throw new IllegalArgumentException("tls-echo is not supported by the NIO server"
                        + " (TLS is compared between Netty and lori-ffm only)");
            }
            if (!mode.equals("http") && !mode.equals("echo")) {
                throw new IllegalArgumentException("unknown mode: " + mode);
            }
        } catch (IllegalArgumentException e) {
            System.err.println("NioServer: " + e.getMessage());
            System.err.println("usage: NioServer --mode http|echo [--port P]");
            System.exit(2);
            return;
        }

        NioServer nio = new NioServer(mode.equals("http"), port);
        Runtime.getRuntime().addShutdownHook(new Thread(nio::stop, "nio-server-stop"));
        int bound = ((InetSocketAddress) nio.server.getLocalAddress()).getPort();
        System.out.println("listening on 127.0.0.1:" + bound);
        System.out.flush();
        nio.run();
    }

    /**
     * Asks the loop to stop, waits until it has closed every socket, then ends the JVM with
     * status 0.
     */
    private void stop() {
        running = false;
        selector.wakeup();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // A JVM ended by SIGTERM exits with 143 even when every hook succeeds; the contract
        // asks for 0 after a clean stop, and halting is the only way to set it from a hook.
        // The price: other hooks still running are cut short (a JFR dump on exit, say).
        Runtime.getRuntime().halt(0);
    }

    /** The event loop: waits for readiness and handles each ready key, until stopped. */
    private void run() {
        try {
            while (running) {
                // The Consumer form walks the ready keys without the selected-key set and its
                // iterator, so an idle-to-busy turn allocates nothing.
                selector.select(this::ready);
            }
        } catch (IOException e) {
            e.printStackTrace();
        } finally {
            for (SelectionKey key : selector.keys()) {
                closeQuietly(key);
            }
            try {
                selector.close();
            } catch (IOException ignored) {
                // Exiting anyway; nothing left to release.
            }
            stopped.countDown();
        }
    }

    /**
     * Handles one ready key: accept on the listener, otherwise read or write on a connection.
     *
     * @param key the ready key
     */
    private void ready(SelectionKey key) {
        if (key.channel() == server) {
            accept();
            return;
        }
        Connection c = (Connection) key.attachment();
        try {
            if (key.isWritable()) {
                c.drain(key);
            } else if (key.isReadable()) {
                c.read(key);
            }
        } catch (IOException e) {
            // A reset or broken pipe only ends that connection.
            closeQuietly(key);
        }
    }

    /** Accepts every pending connection, so a burst of connects costs one wakeup. */
    private void accept() {
        while (true) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                // Out of file descriptors, typically; the listener stays readable, so this
                // retries on the next turn. A benchmark that gets here is misconfigured anyway.
                System.err.println("NioServer: accept failed: " + e);
                return;
            }
            if (ch == null) {
                return;
            }
            try {
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.register(selector, SelectionKey.OP_READ, new Connection(ch, http));
            } catch (IOException e) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // Already failing; the socket is gone either way.
                }
            }
        }
    }

    /**
     * Cancels a key and closes its channel, ignoring errors since the socket is being dropped.
     *
     * @param key the key to close
     */
    private static void closeQuietly(SelectionKey key) {
        key.cancel();
        try {
            key.channel().close();
        } catch (IOException ignored) {
            // Dropping the connection is all that was wanted.
        }
    }

    /**
     * Parses a port number.
     *
     * @param value the text
     * @return the port, 0 to 65535
     * @throws IllegalArgumentException if it is not a valid port
     */
    private static int port(String value) {
        int port;
        try {
            port = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port: " + value);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("bad port: " + value);
        }
        return port;
    }

    /**
     * Where every read lands and where http answers are built: one of each for the loop, as in
     * the C server, so that a connection costs no buffer while idle (10,000 idle connections
     * with 64 KiB each would need 640 MiB of direct memory). Used only by the loop thread.
     */
    private static final ByteBuffer SHARED_IN = ByteBuffer.allocateDirect(READ_BUFFER_BYTES);
    private static ByteBuffer sharedOut = ByteBuffer.allocateDirect(OUTPUT_BUFFER_BYTES);

    /**
     * One accepted connection. It is either reading (interest {@code OP_READ}, nothing pending)
     * or draining (interest {@code OP_WRITE}, {@code pending} holds what the socket did not
     * take, copied out of the shared buffers): while output is pending it does not read, which
     * is the backpressure, and since nothing new is queued behind pending output, bytes can be
     * neither lost nor reordered. Used only by the loop thread.
     */
    private static final class Connection {
        // The socket.
        private final SocketChannel ch;
        // Request-head state for http, carried across reads; null for echo.
        private final HelloProtocol.Heads heads;
        // Output the socket did not take, or null.
        private ByteBuffer pending;

        /**
         * Creates the state for a newly accepted socket.
         *
         * @param ch the socket
         * @param http whether it serves http (else echo)
         */
        Connection(SocketChannel ch, boolean http) {
            this.ch = ch;
            heads = http ? new HelloProtocol.Heads() : null;
        }

        /**
         * Reads once, answers what the read completed with one write, and switches to draining
         * if the socket took only part of it. Closes on end of input; output is always empty
         * then, because reading stops while any is pending.
         *
         * @param key the connection's key
         * @throws IOException if the socket fails
         */
        void read(SelectionKey key) throws IOException {
            ByteBuffer in = SHARED_IN;
            in.clear();
            int n = ch.read(in);
            if (n < 0) {
                closeQuietly(key);
                return;
            }
            if (n == 0) {
                return;
            }
            in.flip();
            // Echo writes back from where the bytes were read, which saves a copy.
            ByteBuffer out = heads == null ? in : respond(in);
            ch.write(out);
            if (out.hasRemaining()) {
                pending = ByteBuffer.allocate(out.remaining()).put(out).flip();
                key.interestOps(SelectionKey.OP_WRITE);
            }
        }

        /**
         * Counts the request heads in the read and fills the shared output with that many
         * responses.
         *
         * @return the output, flipped for writing
         */
        private ByteBuffer respond(ByteBuffer buf) {
            int found = 0;
            HelloProtocol.Heads h = heads;
            for (int i = 0, end = buf.limit(); i < end; i++) {
                if (h.feed(buf.get(i))) {
                    found++;
                }
            }
            byte[] response = HelloProtocol.RESPONSE;
            int needed = found * response.length;
            if (needed > sharedOut.capacity()) {
                // Only a deep pipeline gets here; the larger buffer stays, as such a client is
                // likely to pipeline as deeply again.
                sharedOut = ByteBuffer.allocateDirect(Integer.highestOneBit(needed - 1) << 1);
            }
            ByteBuffer o = sharedOut;
            o.clear();
            for (int i = 0; i < found; i++) {
                o.put(response);
            }
            return o.flip();
        }

        /**
         * Writes pending output; once all of it is gone, goes back to reading.
         *
         * @param key the connection's key
         * @throws IOException if the socket fails
         */
        void drain(SelectionKey key) throws IOException {
            ch.write(pending);
            if (!pending.hasRemaining()) {
                pending = null;
                key.interestOps(SelectionKey.OP_READ);
            }
        }
    }
}
