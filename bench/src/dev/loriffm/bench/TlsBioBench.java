package dev.loriffm.bench;

import dev.loriffm.internal.sys.Fds;
import dev.loriffm.internal.sys.NativeScratch;
import dev.loriffm.internal.sys.SslSession;
import dev.loriffm.internal.sys.SysException;
import dev.loriffm.internal.sys.Sockets;
import dev.loriffm.internal.tls.NativeSslContext;
import dev.loriffm.internal.tls.SslContextAccess;
import dev.loriffm.tls.SslContext;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Compares the two ways lori-ffm can drive OpenSSL (issue #5): memory BIOs, where Java moves the
 * ciphertext between the socket and the session (the design connections use), and a socket BIO
 * ({@code SSL_set_fd}), where OpenSSL reads and writes the socket itself (the design that allows
 * kernel TLS). Two threads over a loopback TCP connection with blocking sockets, one TLS 1.3
 * session per side, alternating the designs over several rounds: bulk throughput (MiB/s and CPU
 * time per MiB of both threads) and full-handshake rate.
 *
 * <pre>bench/tls-bio [--mib 256] [--handshakes 500] [--rounds 3]</pre>
 */
public final class TlsBioBench {
    private static final int CHUNK = 16 * 1024;

    private TlsBioBench() { }

    /** Entry point; see the class comment for options. */
    public static void main(String[] args) throws Exception {
        int mib = intArg(args, "--mib", 256);
        int handshakes = intArg(args, "--handshakes", 500);
        int rounds = intArg(args, "--rounds", 3);
        Path dir = Path.of(stringArg(args, "--certs", "."));
        SslContext server = SslContext.server().certificateChain(dir.resolve("server.pem"), dir.resolve("server.key"))
                .buildOrThrow();
        SslContext client = SslContext.client().trustedCertificates(dir.resolve("ca.pem")).buildOrThrow();
        System.out.printf("TLS 1.3 over loopback, %d MiB bulk and %d full handshakes per run, %d rounds%n",
                mib, handshakes, rounds);
        List<String> rows = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            for (boolean socketBio : new boolean[] {false, true}) {
                Result bulk = bulk(SslContextAccess.of(client), SslContextAccess.of(server), socketBio, mib);
                Result hs = handshakes(SslContextAccess.of(client), SslContextAccess.of(server), socketBio, handshakes);
                rows.add(String.format("round %d  %-10s bulk %8.1f MiB/s  %7.1f us CPU/MiB   handshakes %7.1f /s"
                                + "  %7.1f us CPU/handshake", round, socketBio ? "socket BIO" : "memory BIO",
                        mib / bulk.seconds, bulk.cpuMicros / mib, handshakes / hs.seconds, hs.cpuMicros / handshakes));
                System.out.println(rows.getLast());
            }
        }
        server.close();
        client.close();
    }

    private record Result(double seconds, double cpuMicros) { }

    private static int intArg(String[] args, String name, int fallback) {
        String v = stringArg(args, name, null);
        return v == null ? fallback : Integer.parseInt(v);
    }

    private static String stringArg(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }

    /** A connected pair of blocking sockets: [client, server]. */
    private static int[] pair(NativeScratch scratch) {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        int listener = SysException.check("socket", Sockets.tcpSocket(scratch, any));
        SysException.check("bind", Sockets.bind(scratch, listener, any));
        SysException.check("listen", Sockets.listen(scratch, listener, 16));
        InetSocketAddress bound = Sockets.localAddress(scratch, listener);
        int client = SysException.check("socket", Sockets.tcpSocket(scratch, bound));
        SysException.check("fcntl", Fds.setNonBlocking(scratch, client, false));
        SysException.check("connect", Sockets.connect(scratch, client, bound));
        SysException.check("fcntl", Fds.setNonBlocking(scratch, listener, false));
        int server = SysException.check("accept4", Sockets.accept(scratch, listener));
        SysException.check("fcntl", Fds.setNonBlocking(scratch, server, false));
        Fds.close(scratch, listener);
        return new int[] {client, server};
    }

    private static Result bulk(NativeSslContext clientCtx, NativeSslContext serverCtx, boolean socketBio, int mib)
            throws Exception {
        long bytes = (long) mib << 20;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        try (NativeScratch scratch = new NativeScratch()) {
            int[] fds = pair(scratch);
            CompletableFuture<Long> readerCpu = new CompletableFuture<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                try (NativeScratch own = new NativeScratch(); Arena arena = Arena.ofConfined()) {
                    Side side = new Side(serverCtx, false, fds[1], socketBio, own, arena);
                    side.handshake();
                    MemorySegment buffer = arena.allocate(CHUNK);
                    long got = 0;
                    while (got < bytes) {
                        got += side.read(buffer);
                    }
                    side.close();
                    readerCpu.complete(threads.getCurrentThreadCpuTime());
                } catch (Throwable t) {
                    readerCpu.completeExceptionally(t);
                }
            });
            long cpu0 = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            try (Arena arena = Arena.ofConfined()) {
                Side side = new Side(clientCtx, true, fds[0], socketBio, scratch, arena);
                side.handshake();
                MemorySegment data = arena.allocate(CHUNK).fill((byte) 'x');
                for (long sent = 0; sent < bytes; sent += CHUNK) {
                    side.write(data);
                }
                long readerCpuNs = readerCpu.get(10, TimeUnit.MINUTES);
                double seconds = (System.nanoTime() - start) / 1e9;
                long writerCpuNs = threads.getCurrentThreadCpuTime() - cpu0;
                side.close();
                reader.join();
                Fds.close(scratch, fds[0]);
                Fds.close(scratch, fds[1]);
                return new Result(seconds, (writerCpuNs + readerCpuNs) / 1e3);
            }
        }
    }

    private static Result handshakes(NativeSslContext clientCtx, NativeSslContext serverCtx, boolean socketBio,
                                     int count) throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long start = System.nanoTime();
        long cpu = 0;
        try (NativeScratch scratch = new NativeScratch()) {
            for (int i = 0; i < count; i++) {
                int[] fds = pair(scratch);
                CompletableFuture<Long> serverCpu = new CompletableFuture<>();
                Thread server = Thread.ofPlatform().start(() -> {
                    long c0 = threads.getCurrentThreadCpuTime();
                    try (NativeScratch own = new NativeScratch(); Arena arena = Arena.ofConfined()) {
                        Side side = new Side(serverCtx, false, fds[1], socketBio, own, arena);
                        side.handshake();
                        side.close();
                        serverCpu.complete(threads.getCurrentThreadCpuTime() - c0);
                    } catch (Throwable t) {
                        serverCpu.completeExceptionally(t);
                    }
                });
                long c0 = threads.getCurrentThreadCpuTime();
                try (Arena arena = Arena.ofConfined()) {
                    Side side = new Side(clientCtx, true, fds[0], socketBio, scratch, arena);
                    side.handshake();
                    side.close();
                }
                cpu += threads.getCurrentThreadCpuTime() - c0 + serverCpu.get(1, TimeUnit.MINUTES);
                server.join();
                Fds.close(scratch, fds[0]);
                Fds.close(scratch, fds[1]);
            }
        }
        return new Result((System.nanoTime() - start) / 1e9, cpu / 1e3);
    }

    /** One side of a TLS connection over a blocking socket, in either design. */
    private static final class Side {
        private final NativeSslContext context;
        private final SslSession session;
        private final int fd;
        private final boolean socketBio;
        private final NativeScratch scratch;
        private final MemorySegment wire;

        Side(NativeSslContext context, boolean client, int fd, boolean socketBio, NativeScratch scratch, Arena arena) {
            this.context = context;
            this.fd = fd;
            this.socketBio = socketBio;
            this.scratch = scratch;
            this.wire = arena.allocate(64 * 1024);
            if (!context.acquire()) {
                throw new IllegalStateException("context closed");
            }
            List<dev.loriffm.internal.sys.OpenSsl.SslError> errors = new ArrayList<>();
            session = socketBio ? SslSession.createOnSocket(context.sslCtx(), client, fd, errors)
                    : SslSession.create(context.sslCtx(), client, errors);
            if (session == null) {
                throw new IllegalStateException("session: " + errors);
            }
            if (client && !session.serverName("localhost", true)) {
                throw new IllegalStateException("server name");
            }
        }

        void handshake() {
            while (true) {
                int r = session.handshake(scratch);
                flush();
                if (r == 0) {
                    return;
                }
                if (r != SslSession.WANT_INPUT) {
                    throw new IllegalStateException("handshake failed: " + session.lastErrors());
                }
                receive();
            }
        }

        long read(MemorySegment into) {
            while (true) {
                long n = session.read(scratch, into);
                if (n > 0) {
                    return n;
                }
                if (n != SslSession.WANT_INPUT) {
                    throw new IllegalStateException("read failed: " + n + " " + session.lastErrors());
                }
                flush();
                receive();
            }
        }

        void write(MemorySegment data) {
            long offset = 0;
            while (offset < data.byteSize()) {
                long n = session.write(scratch, data.asSlice(offset));
                if (n <= 0) {
                    throw new IllegalStateException("write failed: " + session.lastErrors());
                }
                offset += n;
            }
            flush();
        }

        /** Memory BIO: move the session's ciphertext to the socket. */
        private void flush() {
            if (socketBio) {
                return;
            }
            int n;
            while ((n = session.drainOutput(wire)) > 0) {
                MemorySegment out = wire.asSlice(0, n);
                while (out.byteSize() > 0) {
                    long w = Fds.write(scratch, fd, out);
                    if (w < 0) {
                        throw new IllegalStateException("write: " + w);
                    }
                    out = out.asSlice(w);
                }
            }
        }

        /** Memory BIO: move ciphertext from the socket into the session. */
        private void receive() {
            if (socketBio) {
                return; // OpenSSL reads the socket itself; WANT_INPUT does not happen on a blocking socket
            }
            long n = Fds.read(scratch, fd, wire);
            if (n <= 0) {
                throw new IllegalStateException("peer closed or read failed: " + n);
            }
            session.feed(wire.asSlice(0, n));
        }

        void close() {
            session.closeNotify(scratch);
            flush();
            session.close();
            context.release();
        }
    }
}
