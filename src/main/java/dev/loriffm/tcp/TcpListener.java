package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.IoHandler;
import dev.loriffm.internal.reactor.LoopResource;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.reactor.Timer;
import dev.loriffm.internal.sys.Dns;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.loop.EventLoop;
import dev.loriffm.loop.EventLoopGroup;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;

/**
 * A TCP listener: binds, listens with backlog {@code SOMAXCONN} and {@code SO_REUSEADDR}, accepts
 * until the kernel has no more, and hands each socket to {@link ListenerReceiver#onAccept}, which
 * wraps it in a server {@link TcpConnection} (or rejects it). Accepted connections are spread
 * round-robin over the group's loops. At the connection limit ({@link MaxSpawn}) it pauses and
 * resumes when one of its connections closes. A persistent accept error (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM) never makes it spin: it waits for the next event, a connection closing, or a back-off.
 *
 * <p><b>Threading:</b> the listener is pinned to one loop, where its receiver runs. {@link #create},
 * {@link #close()}, {@link #localAddress()} and {@link #loop()} are thread-safe.
 */
public final class TcpListener {
    private static final System.Logger LOG = System.getLogger("dev.loriffm.tcp");
    private static final long ACCEPT_RETRY_MIN_NS = 10_000_000L;
    private static final long ACCEPT_RETRY_MAX_NS = 1_000_000_000L;

    private enum Phase { NEW, RESOLVING, LISTENING, FAILED, CLOSED }

    private final Reactor loop;
    private final EventLoopGroup group;
    private final TcpBackend backend;
    private final ListenerReceiver receiver;
    private final String host;
    private final int port;
    private final IpVersion ipVersion;
    private final long limit;
    private final ListenerOptions options;
    private volatile InetSocketAddress localAddress;
    private final IoHandler ioHandler = this::onIo;
    private final LoopResource loopResource = this::closeNow;

    // -- loop thread only
    private Phase phase = Phase.NEW;
    private int fd = -1;
    private long openConnections;
    private boolean paused;
    private Timer acceptRetry;
    private long acceptRetryNs = ACCEPT_RETRY_MIN_NS;

    private TcpListener(TcpBackend backend, EventLoopGroup group, Reactor loop, String host, int port,
                        ListenerReceiver receiver, ListenerOptions options) {
        this.backend = backend;
        this.group = group;
        this.loop = loop;
        this.host = host;
        this.port = port;
        this.receiver = receiver;
        this.options = options;
        this.ipVersion = options.ipVersion();
        this.limit = options.limit() == null ? Long.MAX_VALUE : options.limit().limit();
    }

    /**
     * Creates a dual-stack listener with the default connection limit.
     *
     * @see #create(TcpListenAuth, EventLoopGroup, String, int, ListenerReceiver, IpVersion, MaxSpawn)
     */
    public static TcpListener create(TcpListenAuth auth, EventLoopGroup group, String host, int port,
                                     ListenerReceiver receiver) {
        return create(auth, group, host, port, receiver, IpVersion.DUAL_STACK, MaxSpawn.DEFAULT);
    }

    /**
     * Creates a listener on {@code host:port}, pinned to one of {@code group}'s loops. Returns at
     * once; the receiver hears {@code onListening} or {@code onListenFailure}. Thread-safe.
     *
     * @param host      an address or name to bind, or {@code ""} for every interface
     * @param port      0..65535; 0 picks an ephemeral port ({@link #localAddress()} reports it)
     * @param ipVersion IP4, IP6, or DUAL_STACK (an IPv6 socket that also accepts IPv4)
     * @param limit     the most connections open at once, or {@code null} for no limit
     * @throws NullPointerException     if an argument other than {@code limit} is null
     * @throws IllegalArgumentException if {@code port} is out of range
     * @throws IllegalStateException    if the group is closed
     */
    public static TcpListener create(TcpListenAuth auth, EventLoopGroup group, String host, int port,
                                     ListenerReceiver receiver, IpVersion ipVersion, MaxSpawn limit) {
        Objects.requireNonNull(ipVersion, "ipVersion");
        return create(SystemBackend.INSTANCE, auth, group, host, port, receiver,
                ListenerOptions.DEFAULT.withIpVersion(ipVersion).withLimit(limit));
    }

    /**
     * Creates a listener on {@code host:port} with {@code options} (IP version, connection limit,
     * backlog, {@code SO_REUSEPORT}, {@code TCP_DEFER_ACCEPT}, {@code TCP_FASTOPEN}). Returns at
     * once; the receiver hears {@code onListening} or {@code onListenFailure} (naming the option
     * the kernel refused). Thread-safe.
     *
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if {@code port} is out of range
     * @throws IllegalStateException    if the group is closed
     */
    public static TcpListener create(TcpListenAuth auth, EventLoopGroup group, String host, int port,
                                     ListenerReceiver receiver, ListenerOptions options) {
        return create(SystemBackend.INSTANCE, auth, group, host, port, receiver, options);
    }

    static TcpListener create(TcpBackend backend, TcpListenAuth auth, EventLoopGroup group, String host, int port,
                              ListenerReceiver receiver, IpVersion ipVersion, MaxSpawn limit) {
        Objects.requireNonNull(ipVersion, "ipVersion");
        return create(backend, auth, group, host, port, receiver,
                ListenerOptions.DEFAULT.withIpVersion(ipVersion).withLimit(limit));
    }

    static TcpListener create(TcpBackend backend, TcpListenAuth auth, EventLoopGroup group, String host, int port,
                              ListenerReceiver receiver, ListenerOptions options) {
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(receiver, "receiver");
        Objects.requireNonNull(options, "options");
        TcpConnection.checkPort(port);
        Reactor loop = (Reactor) group.next();
        TcpListener listener = new TcpListener(backend, group, loop, host, port, receiver, options);
        loop.execute(listener::init);
        return listener;
    }

    /** {@return the loop the listener runs on} Thread-safe. */
    public EventLoop loop() {
        return loop;
    }

    /** {@return the bound address (with the actual port), or null until listening} Thread-safe. */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    TcpBackend backend() {
        return backend;
    }

    Reactor reactor() {
        return loop;
    }

    /**
     * Stops listening and closes the socket; {@code onClosed} follows if it was listening.
     * Connections already accepted stay open. Idempotent. Thread-safe: from another thread the
     * close happens in a later turn of the listener's loop.
     */
    public void close() {
        if (loop.inEventLoop()) {
            closeNow();
        } else {
            try {
                loop.execute(this::closeNow);
            } catch (RejectedExecutionException loopGone) {
                // The loop shut down and closed the listener.
            }
        }
    }

    /** {@return the number of accepted connections that are still open} Loop thread only. */
    public long openConnections() {
        loop.assertInLoop("TcpListener.openConnections");
        return openConnections;
    }

    @Override
    public String toString() {
        return "TcpListener[" + (localAddress != null ? localAddress : host + ":" + port) + ", " + phase + "]";
    }

    private void init() {
        if (phase != Phase.NEW) {
            return;
        }
        loop.track(loopResource);
        phase = Phase.RESOLVING;
        if (host.isEmpty()) {
            bindAndListen(List.of(wildcard()));
            return;
        }
        try {
            loop.blockingExecutor().execute(() -> {
                Dns.Resolution resolution;
                try {
                    resolution = backend.resolve(host, port, ipVersion, true);
                } catch (RuntimeException e) {
                    resolution = new Dns.Failed(0, "resolver error", String.valueOf(e));
                }
                Dns.Resolution result = resolution;
                try {
                    loop.execute(() -> resolved(result));
                } catch (RejectedExecutionException loopGone) {
                    // Shut down meanwhile.
                }
            });
        } catch (RejectedExecutionException e) {
            fail("resolve", "resolver stopped");
        }
    }

    private InetSocketAddress wildcard() {
        byte[] any = new byte[ipVersion == IpVersion.IP4 ? 4 : 16];
        try {
            return new InetSocketAddress(InetAddress.getByAddress(any), port);
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    private void resolved(Dns.Resolution resolution) {
        if (phase != Phase.RESOLVING) {
            return;
        }
        switch (resolution) {
            case Dns.Failed failed -> fail("resolve", "resolve " + host + ": " + failed.name() + " ("
                    + failed.message() + ")");
            case Dns.Resolved resolved -> bindAndListen(resolved.addresses());
        }
    }

    /** Binds the first resolved address, as lori does (no fallback to the next). */
    private void bindAndListen(List<InetSocketAddress> addresses) {
        InetSocketAddress address = addresses.getFirst();
        switch (backend.listen(loop, address, options, ioHandler)) {
            case TcpBackend.ListenFailed failed -> fail(failed.stage(), failed.stage() + " " + address + ": "
                    + Errno.describe(failed.errno()));
            case TcpBackend.Listening listening -> {
                fd = listening.fd();
                localAddress = backend.localAddress(loop, fd);
                phase = Phase.LISTENING;
                try {
                    receiver.onListening(this);
                } catch (Throwable t) {
                    loop.reportFailure(this + " onListening", t);
                }
                if (phase == Phase.LISTENING) {
                    acceptLoop();
                }
            }
        }
    }

    private void fail(String stage, String message) {
        phase = Phase.FAILED;
        loop.untrack(loopResource);
        try {
            receiver.onListenFailure(this, new ListenFailure(stage, message));
        } catch (Throwable t) {
            loop.reportFailure(this + " onListenFailure", t);
        }
    }

    private void onIo(int eventFd, int events) {
        if (phase == Phase.LISTENING && eventFd == fd) {
            acceptLoop();
        }
    }

    private void acceptLoop() {
        while (phase == Phase.LISTENING && !loop.isShuttingDown()) {
            if (openConnections >= limit) {
                paused = true;
                return;
            }
            int accepted = backend.accept(loop, fd);
            if (accepted == -Errno.EAGAIN) {
                acceptRetryNs = ACCEPT_RETRY_MIN_NS;
                return;
            }
            if (accepted < 0) {
                if (accepted == -Errno.ECONNABORTED || accepted == -Errno.EPROTO || accepted == -Errno.EINTR) {
                    continue; // that connection is gone; the next may be fine
                }
                // EMFILE and friends persist: never spin (lori#206). Retry when a connection of
                // ours closes, on the next event, or after a back-off, whichever comes first.
                // The retry is armed before the warning: out of descriptors, logging can throw
                // (the JVM cannot open a class file to load what the message needs), and the
                // edge-triggered listener would then never accept again (AcceptFdExhaustionTest).
                scheduleAcceptRetry();
                LOG.log(System.Logger.Level.WARNING, "{0}: accept failed: {1}; retrying later", this,
                        Errno.describe(-accepted));
                return;
            }
            if (!handOver(accepted)) {
                return; // the group is shutting down
            }
        }
    }

    /** Gives an accepted socket to the receiver; {@return false if the group is shutting down} */
    private boolean handOver(int accepted) {
        EventLoop target;
        try {
            target = group.next();
        } catch (IllegalStateException groupClosing) {
            backend.close(loop, accepted); // nowhere to run it
            return false;
        }
        AcceptedSocket socket = new AcceptedSocket(accepted, target, this);
        TcpConnection connection = null;
        try {
            connection = receiver.onAccept(this, socket);
        } catch (Throwable t) {
            loop.reportFailure(this + " onAccept", t);
        }
        if (socket.isClaimed()) {
            openConnections++; // the connection owns the fd and will report its close
        } else {
            if (connection != null) {
                LOG.log(System.Logger.Level.WARNING, "{0}: onAccept returned a connection that does not own"
                        + " the accepted socket; closing the socket", this);
            }
            backend.close(loop, accepted);
        }
        return true;
    }

    private void scheduleAcceptRetry() {
        if (acceptRetry == null) {
            long delay = acceptRetryNs;
            acceptRetryNs = Math.min(acceptRetryNs * 2, ACCEPT_RETRY_MAX_NS);
            // If even the timer is refused, the next readiness event or closing connection retries.
            acceptRetry = loop.schedule(delay, () -> {
                acceptRetry = null;
                acceptLoop();
            });
        }
    }

    /** One of this listener's connections closed (called on the connection's loop). */
    void connectionClosed() {
        if (loop.inEventLoop()) {
            connectionClosedNow();
            return;
        }
        try {
            loop.execute(this::connectionClosedNow);
        } catch (RejectedExecutionException loopGone) {
            // The listener's loop shut down; nothing to account for.
        }
    }

    private void connectionClosedNow() {
        openConnections--;
        if (phase == Phase.LISTENING && (paused || acceptRetry != null)) {
            paused = false;
            if (acceptRetry != null) {
                acceptRetry.cancel();
                acceptRetry = null;
            }
            // The socket is edge-triggered: connections already queued raise no new event.
            acceptLoop();
        }
    }

    private void closeNow() {
        Phase was = phase;
        if (was == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        if (acceptRetry != null) {
            acceptRetry.cancel();
            acceptRetry = null;
        }
        if (fd >= 0) {
            backend.close(loop, fd);
            fd = -1;
        }
        loop.untrack(loopResource);
        if (was == Phase.LISTENING) {
            try {
                receiver.onClosed(this);
            } catch (Throwable t) {
                loop.reportFailure(this + " onClosed", t);
            }
        }
    }
}
