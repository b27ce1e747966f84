package dev.loriffm.tcp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;

/**
 * A loopback peer built from plain JDK blocking sockets, for tests that need a side lori-ffm does
 * not control: a reader that stops reading (so the kernel pushes back on our sender), with a tiny
 * receive buffer so backpressure comes quickly.
 *
 * <p>Not thread-safe; the {@code ...InBackground} methods do their I/O on a thread of their own.
 */
final class JdkPeer implements AutoCloseable {
    /** A receive buffer small enough that a non-reading peer closes its window at once. */
    static final int TINY_RCVBUF = 4096;

    private final SocketChannel channel;

    private JdkPeer(SocketChannel channel) {
        this.channel = channel;
    }

    /**
     * Opens, connects and closes one JDK socket pair, so the descriptors the JDK keeps for the life
     * of the process (its pre-close socket) exist before {@code FdLeakCheck} takes its snapshot.
     * Call it from {@code @BeforeAll}.
     */
    static void warmUp() throws IOException {
        try (Server server = listen(TINY_RCVBUF);
             JdkPeer client = connect(server.address(), TINY_RCVBUF);
             JdkPeer accepted = server.accept()) {
            client.write(new byte[1]);
            accepted.readExactly(1);
        }
    }

    /** A listening socket on 127.0.0.1, port 0, whose accepted sockets inherit its receive buffer. */
    static final class Server implements AutoCloseable {
        private final ServerSocketChannel channel;

        private Server(ServerSocketChannel channel) {
            this.channel = channel;
        }

        /** {@return the bound address (port chosen by the kernel)} */
        InetSocketAddress address() {
            try {
                return (InetSocketAddress) channel.getLocalAddress();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Accepts one connection, blocking until a client arrives. */
        JdkPeer accept() throws IOException {
            SocketChannel accepted = channel.accept();
            accepted.setOption(StandardSocketOptions.TCP_NODELAY, true);
            return new JdkPeer(accepted);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** {@return a listener on 127.0.0.1:0 whose connections have a {@code rcvBuf}-byte receive buffer} */
    static Server listen(int rcvBuf) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            // Set before bind so the window scale the handshake negotiates matches the small buffer.
            server.setOption(StandardSocketOptions.SO_RCVBUF, rcvBuf);
            server.bind(new InetSocketAddress("127.0.0.1", 0));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return new Server(server);
    }

    /** {@return a client connected to {@code address} with a {@code rcvBuf}-byte receive buffer} */
    static JdkPeer connect(InetSocketAddress address, int rcvBuf) throws IOException {
        SocketChannel client = SocketChannel.open();
        try {
            client.setOption(StandardSocketOptions.SO_RCVBUF, rcvBuf);
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
            client.connect(address);
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        return new JdkPeer(client);
    }

    /** Writes all of {@code bytes}, blocking while the peer does not read. */
    void write(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** Reads exactly {@code n} bytes, failing if the stream ends first. */
    byte[] readExactly(int n) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(n);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new IOException("stream ended after " + buffer.position() + " of " + n + " bytes");
            }
        }
        return buffer.array();
    }

    /** Reads until the stream ends; {@return the number of bytes read} */
    long readToEnd() throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        long total = 0;
        int n;
        while ((n = channel.read(buffer)) >= 0) {
            total += n;
            buffer.clear();
        }
        return total;
    }

    /** Reads until the stream ends, on a background thread; {@return the byte count, or the failure} */
    CompletableFuture<Long> readInBackground() {
        CompletableFuture<Long> total = new CompletableFuture<>();
        Thread.ofPlatform().daemon(true).name("jdk-peer-reader").start(() -> {
            try {
                total.complete(readToEnd());
            } catch (IOException | RuntimeException e) {
                total.completeExceptionally(e);
            }
        });
        return total;
    }

    /** Writes all of {@code bytes} on a background thread; {@return completion, or the failure} */
    CompletableFuture<Void> writeInBackground(byte[] bytes) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().daemon(true).name("jdk-peer-writer").start(() -> {
            try {
                write(bytes);
                done.complete(null);
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /** Reads exactly {@code n} bytes on a background thread; {@return them, or the failure} */
    CompletableFuture<byte[]> readExactlyInBackground(int n) {
        CompletableFuture<byte[]> done = new CompletableFuture<>();
        Thread.ofPlatform().daemon(true).name("jdk-peer-reader").start(() -> {
            try {
                done.complete(readExactly(n));
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /** Shuts down the output (sends FIN), keeping the input open. */
    void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    /** Closes with {@code SO_LINGER} 0, so the kernel resets the connection (RST) instead of a FIN. */
    void abort() throws IOException {
        channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        channel.close();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
