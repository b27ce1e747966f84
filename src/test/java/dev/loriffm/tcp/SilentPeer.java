package dev.loriffm.tcp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A loopback address where a TCP connect never completes: a listener with an accept backlog of 1
 * that never accepts, its accept queue filled with plain JDK connections. Linux drops a SYN to a
 * listener whose accept queue is full ({@code tcp_conn_request}: "listen overflow"), so a further
 * connect stays in SYN-SENT, retransmitting, for as long as the peer is open. It stands in for
 * lori's unroutable 192.0.2.1 without leaving loopback.
 *
 * <p>Filling is deterministic: connects are made one at a time (each completes, since the queue is
 * not full when its SYN arrives) until the kernel reports the listener's accept queue longer than
 * its backlog ({@code /proc/net/tcp}'s {@code rx_queue} of a listening socket is its accept queue
 * length). Linux-only, like the runtime. Not thread-safe.
 */
final class SilentPeer implements AutoCloseable {
    private static final int BACKLOG = 1;
    private static final String LISTEN_STATE = "0A";

    private final ServerSocketChannel listener;
    private final List<SocketChannel> queued = new ArrayList<>();
    private final InetSocketAddress address;

    private SilentPeer() throws IOException {
        listener = ServerSocketChannel.open(StandardProtocolFamily.INET);
        try {
            listener.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), BACKLOG);
            address = (InetSocketAddress) listener.getLocalAddress();
            fill();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** {@return a silent peer, its accept queue already full} */
    static SilentPeer open() throws IOException {
        return new SilentPeer();
    }

    /** {@return the address that never answers a SYN} */
    InetSocketAddress address() {
        return address;
    }

    int port() {
        return address.getPort();
    }

    private void fill() throws IOException {
        // sk_acceptq_is_full() is "queued > backlog": BACKLOG + 1 connections fill the queue.
        while (acceptQueueLength() <= BACKLOG) {
            int before = acceptQueueLength();
            SocketChannel c = SocketChannel.open(StandardProtocolFamily.INET);
            queued.add(c);
            c.connect(address); // blocking; completes, the queue is not full
            awaitAcceptQueue(before + 1);
        }
    }

    private void awaitAcceptQueue(int atLeast) {
        // The server side counts the connection when it processes the client's ACK, which can
        // trail the client's connect() by a moment: poll the kernel's state, bounded.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Loopback.WAIT_SECONDS);
        while (acceptQueueLength() < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("accept queue of " + address + " never reached " + atLeast);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /** {@return the listener's accept queue length as the kernel reports it} */
    private int acceptQueueLength() {
        String port = String.format(":%04X", address.getPort());
        for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(file))) {
                    String[] f = line.trim().split("\\s+");
                    // sl local_address rem_address st tx_queue:rx_queue ...
                    if (f.length > 4 && f[1].endsWith(port) && f[3].equals(LISTEN_STATE)) {
                        return Integer.parseInt(f[4].substring(f[4].indexOf(':') + 1), 16);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("listener " + address + " not found in /proc/net/tcp");
    }

    @Override
    public void close() throws IOException {
        for (SocketChannel c : queued) {
            c.close();
        }
        listener.close();
    }
}
