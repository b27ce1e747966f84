package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.IoHandler;
import dev.loriffm.internal.reactor.LoopResource;
import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.reactor.Timer;
import dev.loriffm.internal.sys.Dns;
import dev.loriffm.internal.sys.Epoll;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.internal.sys.OpenSsl;
import dev.loriffm.internal.sys.SslSession;
import dev.loriffm.internal.tls.NativeSslContext;
import dev.loriffm.internal.tls.SslContextAccess;
import dev.loriffm.tls.SslContext;
import dev.loriffm.loop.EventLoop;

import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;

/**
 * A TCP connection, client or server, driven by its event loop: lori's {@code TCPConnection}.
 *
 * <p>Create a client with {@link #client} (it resolves the host off the loop, then connects to
 * every address at once: Happy Eyeballs) or wrap a socket a {@link TcpListener} accepted with
 * {@link #server}. The connection reports its life to a {@link ClientLifecycleReceiver} or
 * {@link ServerLifecycleReceiver}, always on its loop thread.
 *
 * <p><b>Threading:</b> the factories, {@link #execute}, {@link #dispose()} and {@link #loop()} may
 * be called from any thread. Every other method must be called on the connection's loop thread
 * (typically from one of its callbacks) and throws {@link IllegalStateException} elsewhere; use
 * {@link #execute} to get there.
 *
 * <p><b>Sending:</b> {@link #send} accepts or refuses synchronously and never blocks. An accepted
 * send returns a {@link SendToken}; exactly one of {@code onSent} or {@code onSendFailed} follows in
 * a later loop turn. Buffers are held by reference until then: do not modify a {@code byte[]},
 * {@code ByteBuffer} or {@code MemorySegment} after passing it, and keep a segment's arena open.
 */
public final class TcpConnection {
    private static final System.Logger LOG = System.getLogger("dev.loriffm.tcp");
    /** What the socket-option calls return when the connection is not open (lori returns 1). */
    public static final int NOT_OPEN_ERRNO = SocketOptions.NOT_OPEN;

    private final Reactor loop;
    private final TcpBackend backend;
    private final ClientLifecycleReceiver client;
    private final ServerLifecycleReceiver server;
    private final ReadBuffer readBuffer;
    private final WriteQueue writes = new WriteQueue();
    private final WriteQueue.Attempt attempt = new WriteQueue.Attempt();
    private final OutputEvents output;
    private final ReceiverCalls calls;
    private final ConnectionTimers timers;
    private final SocketOptions socketOptions;
    // How many copies of readAgainTask wait in the loop's queue: only the newest one reads, so a
    // read-again never overtakes tasks queued before it (a yield's resume comes after work queued
    // before the yield). One task object queued again and again: scheduling allocates nothing.
    private int readAgainQueued;
    private final Runnable readAgainTask = this::readAgainDequeued;
    // Kept off the public surface: the loop calls these, applications cannot.
    private final IoHandler ioHandler = this::onIo;
    private final LoopResource loopResource = this::shutdown;

    // -- loop thread only (after construction)
    private ConnectionState state = ConnectionNone.INSTANCE;
    private int fd = -1;
    private long nextTokenId = 1;
    private final FlowControl flow = new FlowControl();
    // True while readLoop runs, so a callback cannot nest another read loop.
    private boolean inReadLoop;
    private boolean finSent;
    // Server side: the listener to tell when this connection closes, once.
    private TcpListener spawner;
    private boolean spawnerNotified;
    // Client side.
    private String host;
    private int port;
    private ClientOptions options;
    private HappyEyeballsAttempts attempts;
    private Timer connectTimer;
    private String failureDetail = "";
    // TLS: the context to open a session from (sslClient/sslServer/startTls), and the session layer.
    private NativeSslContext tlsContext;
    private TlsChannel tls;

    private TcpConnection(Reactor loop, TcpBackend backend, ClientLifecycleReceiver client,
                          ServerLifecycleReceiver server, ReadBufferSize readBufferSize) {
        this.loop = loop;
        this.backend = backend;
        this.client = client;
        this.server = server;
        this.readBuffer = new ReadBuffer(readBufferSize.bytes());
        this.output = new OutputEvents(this);
        this.calls = new ReceiverCalls(this, client, server);
        this.timers = new ConnectionTimers(this, loop, calls);
        this.socketOptions = new SocketOptions(this, backend, loop);
    }

    // ------------------------------------------------------------------ construction

    /**
     * Creates a client connection to {@code host:port} with default options. Callable from any
     * thread; the connection resolves and connects on {@code loop}.
     *
     * @see #client(TcpConnectAuth, EventLoop, String, int, ClientLifecycleReceiver, ClientOptions)
     */
    public static TcpConnection client(TcpConnectAuth auth, EventLoop loop, String host, int port,
                                       ClientLifecycleReceiver receiver) {
        return client(auth, loop, host, port, receiver, ClientOptions.DEFAULT);
    }

    /**
     * Creates a client connection to {@code host:port}. Returns at once: the host is resolved off the
     * loop, then every address is tried (see {@link ClientOptions#happyEyeballs()}); the receiver
     * hears {@code onConnecting}, then {@code onConnected} or {@code onConnectionFailure}.
     * Callable from any thread.
     *
     * @param host a host name or numeric address, not empty
     * @param port 0..65535
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if {@code host} is empty or {@code port} is out of range, or
     *                                  {@code loop} is not a lori-ffm loop
     * @throws RejectedExecutionException if the loop has shut down (nothing was opened)
     */
    public static TcpConnection client(TcpConnectAuth auth, EventLoop loop, String host, int port,
                                       ClientLifecycleReceiver receiver, ClientOptions options) {
        return client(SystemBackend.INSTANCE, auth, loop, host, port, receiver, options);
    }

    static TcpConnection client(TcpBackend backend, TcpConnectAuth auth, EventLoop loop, String host, int port,
                                ClientLifecycleReceiver receiver, ClientOptions options) {
        return client(backend, auth, loop, host, port, receiver, options, null);
    }

    static TcpConnection client(TcpBackend backend, TcpConnectAuth auth, EventLoop loop, String host, int port,
                                ClientLifecycleReceiver receiver, ClientOptions options,
                                NativeSslContext tlsContext) {
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(receiver, "receiver");
        Objects.requireNonNull(options, "options");
        if (host.isEmpty()) {
            throw new IllegalArgumentException("host must not be empty");
        }
        checkPort(port);
        TcpConnection c = new TcpConnection(reactor(loop), backend, receiver, null, options.readBufferSize());
        c.host = host;
        c.port = port;
        c.options = options;
        c.tlsContext = tlsContext;
        c.loop.execute(c::initClient);
        return c;
    }

    /**
     * Wraps a socket a listener accepted, with the default read buffer size.
     *
     * @see #server(TcpServerAuth, AcceptedSocket, ServerLifecycleReceiver, ReadBufferSize)
     */
    public static TcpConnection server(TcpServerAuth auth, AcceptedSocket socket, ServerLifecycleReceiver receiver) {
        return server(auth, socket, receiver, ReadBufferSize.DEFAULT);
    }

    /**
     * Wraps a socket a listener accepted; the connection starts on {@code socket.loop()} and its
     * receiver hears {@code onStarted}. Call it from {@link ListenerReceiver#onAccept}.
     *
     * @throws NullPointerException  if an argument is null
     * @throws IllegalStateException if the socket already belongs to a connection
     */
    public static TcpConnection server(TcpServerAuth auth, AcceptedSocket socket, ServerLifecycleReceiver receiver,
                                       ReadBufferSize readBufferSize) {
        return server(socket.listener().backend(), auth, socket, receiver, readBufferSize);
    }

    /**
     * Creates a TLS client connection to {@code host:port}: as {@link #client}, then a TLS
     * handshake with {@code context} (a client context), sending {@code host} as SNI unless it is
     * an IP literal and verifying the server's certificate against it as the context says. The
     * receiver hears {@code onConnected} only after the handshake; a failed handshake is
     * {@code onConnectionFailure(SSL)}, a certificate that does not verify too. The connection
     * timeout covers resolution, TCP and the handshake. Callable from any thread.
     *
     * @throws IllegalArgumentException as {@link #client}, or if {@code context} is not a client context
     */
    public static TcpConnection sslClient(TcpConnectAuth auth, EventLoop loop, String host, int port,
                                          SslContext context, ClientLifecycleReceiver receiver,
                                          ClientOptions options) {
        NativeSslContext tlsContext = SslContextAccess.of(Objects.requireNonNull(context, "context"));
        if (!tlsContext.client()) {
            throw new IllegalArgumentException("sslClient needs a client SslContext (SslContext.client())");
        }
        TcpConnection c = client(SystemBackend.INSTANCE, auth, loop, host, port, receiver, options, tlsContext);
        return c;
    }

    /** As {@link #sslClient(TcpConnectAuth, EventLoop, String, int, SslContext, ClientLifecycleReceiver,
     * ClientOptions)} with default options. */
    public static TcpConnection sslClient(TcpConnectAuth auth, EventLoop loop, String host, int port,
                                          SslContext context, ClientLifecycleReceiver receiver) {
        return sslClient(auth, loop, host, port, context, receiver, ClientOptions.DEFAULT);
    }

    /**
     * Wraps an accepted socket in a TLS server connection: the handshake with {@code context} (a
     * server context) runs first; the receiver hears {@code onStarted} after it, or
     * {@code onStartFailure(SSL)} (the socket is closed, no {@code onClosed}).
     *
     * @throws IllegalArgumentException if {@code context} is not a server context
     * @throws IllegalStateException    if the socket already belongs to a connection
     */
    public static TcpConnection sslServer(TcpServerAuth auth, AcceptedSocket socket, SslContext context,
                                          ServerLifecycleReceiver receiver, ReadBufferSize readBufferSize) {
        NativeSslContext tlsContext = SslContextAccess.of(Objects.requireNonNull(context, "context"));
        if (tlsContext.client()) {
            throw new IllegalArgumentException("sslServer needs a server SslContext (SslContext.server())");
        }
        return server(socket.listener().backend(), auth, socket, receiver, readBufferSize, tlsContext);
    }

    /** As {@link #sslServer(TcpServerAuth, AcceptedSocket, SslContext, ServerLifecycleReceiver,
     * ReadBufferSize)} with the default read buffer size. */
    public static TcpConnection sslServer(TcpServerAuth auth, AcceptedSocket socket, SslContext context,
                                          ServerLifecycleReceiver receiver) {
        return sslServer(auth, socket, context, receiver, ReadBufferSize.DEFAULT);
    }

    static TcpConnection server(TcpBackend backend, TcpServerAuth auth, AcceptedSocket socket,
                                ServerLifecycleReceiver receiver, ReadBufferSize readBufferSize) {
        return server(backend, auth, socket, receiver, readBufferSize, null);
    }

    static TcpConnection server(TcpBackend backend, TcpServerAuth auth, AcceptedSocket socket,
                                ServerLifecycleReceiver receiver, ReadBufferSize readBufferSize,
                                NativeSslContext tlsContext) {
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(receiver, "receiver");
        Objects.requireNonNull(readBufferSize, "readBufferSize");
        TcpConnection c = new TcpConnection(reactor(socket.loop()), backend, null, receiver, readBufferSize);
        c.fd = socket.claim();
        c.spawner = socket.listener();
        c.tlsContext = tlsContext;
        try {
            c.loop.execute(c::initServer);
        } catch (RejectedExecutionException loopGone) {
            // Its loop shut down: the socket was never registered, so close it here (on the
            // listener's loop, where onAccept runs) and report nothing, as for any connection
            // closed before it started.
            c.state = Closed.INSTANCE;
            backend.close(c.spawner.reactor(), c.fd);
            c.fd = -1;
            c.notifySpawner();
        }
        return c;
    }

    private static Reactor reactor(EventLoop loop) {
        Objects.requireNonNull(loop, "loop");
        if (!(loop instanceof Reactor reactor)) {
            throw new IllegalArgumentException("not a lori-ffm event loop: " + loop);
        }
        return reactor;
    }

    static void checkPort(int port) {
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("port " + port + " is outside 0..65535");
        }
    }

    private void initServer() {
        if (state != ConnectionNone.INSTANCE) {
            return; // closed before it started
        }
        if (loop.isShuttingDown()) {
            closeBeforeStart();
            return;
        }
        if (tlsContext != null) {
            List<OpenSsl.SslError> errors = new ArrayList<>();
            tls = TlsChannel.open(tlsContext, loop, null, errors);
            if (tls == null) {
                // lori: the raw fd is closed and the failure reported asynchronously; no onClosed.
                failureDetail = "TLS session: " + (errors.isEmpty() ? "the SslContext is closed" : errors);
                closeBeforeStart();
                loop.defer(() -> calls.startFailure(StartFailure.SSL));
                return;
            }
        }
        readBuffer.allocate(loop);
        loop.track(loopResource);
        int r = backend.register(loop, fd, ioHandler);
        if (tls != null) {
            state = SslHandshaking.INSTANCE;
            flow.readable = true;
            if (r < 0) {
                failureDetail = "epoll_ctl: " + Errno.describe(-r);
                hardCloseHandshaking(CloseCause.UNSPECIFIED);
                return;
            }
            scheduleReadAgain();
            return;
        }
        state = Open.INSTANCE;
        timers.connectionReady();
        calls.started();
        if (r < 0) {
            failureDetail = "epoll_ctl: " + Errno.describe(-r);
            hardClose();
            return;
        }
        if (state == Open.INSTANCE) {
            scheduleReadAgain();
        }
    }

    private void initClient() {
        if (state != ConnectionNone.INSTANCE) {
            return;
        }
        if (loop.isShuttingDown()) {
            closeBeforeStart();
            return;
        }
        readBuffer.allocate(loop);
        loop.track(loopResource);
        state = ClientConnecting.INSTANCE;
        attempts = new HappyEyeballsAttempts(this, options.happyEyeballs());
        if (tlsContext != null) {
            List<OpenSsl.SslError> errors = new ArrayList<>();
            tls = TlsChannel.open(tlsContext, loop, host, host + ":" + port, errors);
            if (tls == null) {
                // lori: a session that cannot be created fails the connection before any TCP attempt.
                failureDetail = "TLS session: " + (errors.isEmpty() ? "the SslContext is closed" : errors);
                hardCloseConnecting(CloseCause.TLS_FAILED);
                return;
            }
        }
        if (options.connectionTimeout() != null) {
            connectTimer = loop.schedule(options.connectionTimeout().nanos(), this::connectTimedOut);
            if (connectTimer == null) {
                failureDetail = "the loop's timer limit is reached: connection timeout not armed";
                hardCloseConnecting(CloseCause.CONNECT_TIMER_FAILED);
                return;
            }
        }
        String target = host;
        int targetPort = port;
        IpVersion version = options.ipVersion();
        String from = options.from();
        try {
            loop.blockingExecutor().execute(() -> resolveOffLoop(target, targetPort, version, from));
        } catch (RejectedExecutionException e) {
            failureDetail = "resolver stopped";
            hardCloseConnecting(CloseCause.NOT_RESOLVED);
        }
    }

    private void resolveOffLoop(String target, int targetPort, IpVersion version, String from) {
        Dns.Resolution resolution;
        Dns.Resolution fromResolution = null;
        try {
            resolution = backend.resolve(target, targetPort, version, false);
            if (!from.isEmpty()) {
                fromResolution = backend.resolve(from, 0, version, true);
            }
        } catch (RuntimeException e) {
            resolution = new Dns.Failed(0, "resolver error", String.valueOf(e));
        }
        Dns.Resolution result = resolution;
        Dns.Resolution fromResult = fromResolution;
        try {
            loop.execute(() -> resolved(result, fromResult));
        } catch (RejectedExecutionException loopGone) {
            // The loop shut down; it closed this connection already.
        }
    }

    private void resolved(Dns.Resolution resolution, Dns.Resolution fromResolution) {
        if (state == UnconnectedClosing.INSTANCE) {
            hardCloseConnecting(CloseCause.UNSPECIFIED);
            return;
        }
        if (state != ClientConnecting.INSTANCE) {
            return;
        }
        switch (resolution) {
            case Dns.Failed failed -> {
                failureDetail = "resolve " + host + ": " + failed.name() + " (" + failed.message() + ")";
                hardCloseConnecting(CloseCause.NOT_RESOLVED);
            }
            case Dns.Resolved resolved -> {
                List<InetSocketAddress> from = List.of();
                if (fromResolution instanceof Dns.Failed failedFrom) {
                    failureDetail = "resolve local address " + options.from() + ": " + failedFrom.message();
                    hardCloseConnecting(CloseCause.NOT_RESOLVED);
                    return;
                } else if (fromResolution instanceof Dns.Resolved resolvedFrom) {
                    from = resolvedFrom.addresses();
                }
                attempts.start(toLoopback(resolved.addresses()), from);
            }
        }
    }

    /** lori rewrites a wildcard destination (0.0.0.0, ::) to loopback, as connect(2) treats it. */
    private static List<InetSocketAddress> toLoopback(List<InetSocketAddress> addresses) {
        List<InetSocketAddress> out = new ArrayList<>(addresses.size());
        for (InetSocketAddress a : addresses) {
            if (!a.getAddress().isAnyLocalAddress()) {
                out.add(a);
                continue;
            }
            byte[] loopback = new byte[a.getAddress().getAddress().length];
            if (loopback.length == 4) {
                loopback[0] = 127;
            }
            loopback[loopback.length - 1] = 1;
            try {
                out.add(new InetSocketAddress(InetAddress.getByAddress(loopback), a.getPort()));
            } catch (java.net.UnknownHostException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ connecting (called by states)

    /** Starts one attempt; {@return whether it is in flight} */
    boolean startAttempt(InetSocketAddress target, InetSocketAddress from) {
        int attemptFd = backend.startConnect(loop, target, from, ioHandler);
        if (attemptFd < 0) {
            failureDetail = "connect " + target + ": " + Errno.describe(-attemptFd);
            return false;
        }
        attempts.inFlight(attemptFd);
        return true;
    }

    Reactor reactor() {
        return loop;
    }

    void closeSocket(int socketFd) {
        backend.close(loop, socketFd);
    }

    void reportConnecting(int inflight) {
        calls.connecting(inflight);
    }

    /** A Happy Eyeballs attempt reported readiness while connecting. */
    void attemptReady(int attemptFd, int events) {
        if (!attempts.isInFlight(attemptFd)) {
            return; // a second event for an attempt already decided and closed (lori#349)
        }
        int error = backend.socketError(loop, attemptFd);
        boolean failed = error != 0 || (events & (Epoll.EPOLLERR | Epoll.EPOLLHUP)) != 0;
        if (!failed && (events & Epoll.EPOLLOUT) == 0) {
            return; // not decided yet
        }
        attempts.finished(attemptFd);
        if (!failed) {
            establish(attemptFd, events);
            return;
        }
        failureDetail = "connect: " + Errno.describe(error != 0 ? error : Errno.ECONNREFUSED);
        backend.close(loop, attemptFd);
        attempts.failed();
    }

    /** No attempt remains and none will start: the connection failed. */
    void attemptsExhausted() {
        // lori: when not even one attempt could start, the failure is DNS; otherwise TCP.
        hardCloseConnecting(attempts.everStarted() ? CloseCause.UNSPECIFIED : CloseCause.NOT_RESOLVED);
    }

    private void establish(int winner, int events) {
        attempts.closeAllInFlight(); // the losers are no longer needed
        fd = winner;
        flow.readable = true;
        // The event that decided the race may already carry the peer's FIN (a server that sends
        // and closes at once). Its edge is spent, so the read loop must read on to the end of the
        // stream instead of taking a short read as "drained" (drainedBy), or the FIN is never seen
        // and the connection hangs in CLOSE-WAIT (CloseFromEveryCallbackTest, FaultInjectionTest).
        if ((events & (Epoll.EPOLLRDHUP | Epoll.EPOLLHUP | Epoll.EPOLLERR)) != 0) {
            flow.hangup = true;
        }
        if (tls != null) {
            // TCP is up; the connection is ready only once the handshake completes (the read loop
            // sends the ClientHello and drives the rest). The connection timeout keeps running.
            state = SslHandshaking.INSTANCE;
            readLoop();
            return;
        }
        cancelConnectTimer();
        state = Open.INSTANCE;
        timers.connectionReady();
        calls.connected();
        if (state == Open.INSTANCE) {
            readLoop();
        }
    }

    /** An attempt's event after the race is decided: release its socket. */
    void discardAttempt(int attemptFd) {
        if (attempts != null && attempts.finished(attemptFd)) {
            backend.close(loop, attemptFd);
        }
    }

    /** {@code close()} while connecting: let in-flight attempts finish, then fail. */
    void startUnconnectedClosing() {
        state = UnconnectedClosing.INSTANCE;
        attempts.stopStarting();
        if (attempts.inflightCount() == 0) {
            hardCloseConnecting(CloseCause.UNSPECIFIED);
        }
    }

    /** An attempt's event while closing unconnected. */
    void drainAttempt(int attemptFd) {
        discardAttempt(attemptFd);
        if (attempts.inflightCount() == 0) {
            hardCloseConnecting(CloseCause.UNSPECIFIED);
        }
    }

    private void connectTimedOut() {
        connectTimer = null;
        if (state == ClientConnecting.INSTANCE || state == UnconnectedClosing.INSTANCE
                || state == SslHandshaking.INSTANCE) {
            failureDetail = "connection timeout of " + options.connectionTimeout().millis() + " ms elapsed";
            state.hardClose(this, CloseCause.CONNECT_TIMED_OUT);
        }
    }

    private void cancelConnectTimer() {
        if (connectTimer != null) {
            connectTimer.cancel();
            connectTimer = null;
        }
    }

    // ------------------------------------------------------------------ public API

    /**
     * Sends {@code data}.
     *
     * @return the token of the accepted send, or {@link SendError#NOT_CONNECTED} /
     *         {@link SendError#NOT_WRITEABLE}
     * @throws IllegalStateException if not called on the loop thread
     */
    public SendResult send(byte[] data) {
        assertInLoop("send");
        return sendSegment(MemorySegment.ofArray(data));
    }

    /**
     * Sends the bytes between {@code data}'s position and limit. The buffer's position is not
     * changed; its content must not change until the send completes.
     *
     * @return the token of the accepted send, or the reason it was refused
     * @throws IllegalStateException if not called on the loop thread
     */
    public SendResult send(ByteBuffer data) {
        assertInLoop("send");
        return sendSegment(MemorySegment.ofBuffer(data));
    }

    /**
     * Sends the bytes of {@code data}, heap or native. A native segment's arena must stay open
     * until {@code onSent}/{@code onSendFailed}; if it closes earlier the connection is hard-closed.
     *
     * @return the token of the accepted send, or the reason it was refused
     * @throws IllegalStateException if not called on the loop thread
     */
    public SendResult send(MemorySegment data) {
        assertInLoop("send");
        return sendSegment(data);
    }

    /**
     * Sends the bytes of {@code data} without keeping a reference to it: what the kernel takes at
     * once is written straight from {@code data}, and only what it does not take is copied (to the
     * heap) and queued. The caller may therefore reuse or free {@code data} as soon as this returns,
     * which makes it the way to echo or forward the slice {@code onReceived} was given: while the
     * peer keeps up, nothing is copied or allocated. With TLS the plaintext is always encrypted
     * into the session at once, so nothing is kept either.
     *
     * @return the token of the accepted send, or {@link SendError#NOT_CONNECTED} /
     *         {@link SendError#NOT_WRITEABLE} (then nothing was sent or copied)
     * @throws IllegalStateException if not called on the loop thread, or if {@code data}'s arena
     *                               is already closed
     */
    public SendResult sendCopy(MemorySegment data) {
        assertInLoop("sendCopy");
        SendResult result = sendSegment(data);
        if (result instanceof SendToken) {
            writes.detach(data); // plaintext the kernel did not take; TLS already encrypted it all
        }
        return result;
    }

    /**
     * Sends {@code text} encoded as UTF-8.
     *
     * @return the token of the accepted send, or the reason it was refused
     * @throws IllegalStateException if not called on the loop thread
     */
    public SendResult send(String text) {
        assertInLoop("send");
        return sendSegment(MemorySegment.ofArray(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Sends several buffers as one contiguous stream with one token, written with gathering
     * {@code sendmsg} calls (up to {@code IOV_MAX} buffers each) rather than one call per buffer
     * and without copying them together. Elements may be {@code byte[]}, {@link ByteBuffer},
     * {@link MemorySegment} or {@link String}; empty ones are skipped, and an empty list is
     * accepted (its {@code onSent} still follows).
     *
     * @return the token of the accepted send, or the reason it was refused
     * @throws IllegalArgumentException if an element has another type (nothing is sent)
     * @throws IllegalStateException    if not called on the loop thread
     */
    public SendResult send(List<?> buffers) {
        assertInLoop("send");
        MemorySegment[] parts = new MemorySegment[buffers.size()];
        for (int i = 0; i < parts.length; i++) {
            parts[i] = toSegment(buffers.get(i));
        }
        if (!state.sendsAllowed()) {
            return SendError.NOT_CONNECTED;
        }
        if (flow.throttled) {
            return SendError.NOT_WRITEABLE;
        }
        if (tls != null) {
            return encryptAndAccept(parts);
        }
        for (MemorySegment part : parts) {
            writes.add(part);
        }
        return accept();
    }

    private static MemorySegment toSegment(Object buffer) {
        return switch (buffer) {
            case byte[] bytes -> MemorySegment.ofArray(bytes);
            case ByteBuffer bb -> MemorySegment.ofBuffer(bb);
            case MemorySegment segment -> segment;
            case String text -> MemorySegment.ofArray(text.getBytes(StandardCharsets.UTF_8));
            case null -> throw new IllegalArgumentException("null buffer in send list");
            default -> throw new IllegalArgumentException("cannot send a " + buffer.getClass().getName()
                    + "; use byte[], ByteBuffer, MemorySegment or String");
        };
    }

    private SendResult sendSegment(MemorySegment data) {
        if (!state.sendsAllowed()) {
            return SendError.NOT_CONNECTED;
        }
        if (flow.throttled) {
            return SendError.NOT_WRITEABLE;
        }
        if (tls != null) {
            return encryptAndAccept(data);
        }
        writes.add(data);
        return accept();
    }

    /**
     * TLS: encrypt the plaintext into the session, queue the ciphertext, then mint the token
     * (completion counts ciphertext bytes, as lori does). A session that refuses the data makes
     * the send {@link SendError#NOT_WRITEABLE} with no token, as in lori.
     */
    private SendResult encryptAndAccept(MemorySegment... parts) {
        if (!tls.encrypt(parts)) {
            failureDetail = "TLS write: " + tls.failureText();
            return SendError.NOT_WRITEABLE;
        }
        queueTlsOutput();
        return accept();
    }

    /**
     * Writes or queues the ciphertext the TLS session produced. While nothing is queued ahead of
     * it, it goes through the loop's staging memory and is written at once, and only what the
     * kernel does not take is copied (to the heap) and queued: no buffer per record while the
     * peer keeps up. Behind queued bytes it is queued in heap chunks, in order.
     *
     * @return whether there was any
     */
    private boolean queueTlsOutput() {
        boolean any = false;
        while (writes.hasNoBytes() && fd >= 0 && !flow.throttled) {
            MemorySegment staging = loop.scratch().staging();
            int n = tls.drainInto(staging);
            if (n <= 0) {
                return any;
            }
            any = true;
            MemorySegment staged = staging.asSlice(0, n);
            writes.add(staged);
            flush();
            writes.detach(staged); // the next record reuses the staging memory
        }
        return fd >= 0 && tls.moveOutput(writes) || any;
    }

    /**
     * Numbers the send before writing it. Its {@code onSent} is deferred (OutputEvents), so the
     * caller holds the token before any callback about it (lori#346).
     */
    private SendToken accept() {
        long id = nextTokenId++;
        writes.addToken(id);
        flush();
        // Created last and kept nowhere: when the caller only inspects the result (the usual
        // case), the JIT's escape analysis removes the allocation.
        return new SendToken(id);
    }

    /**
     * Closes gracefully: queued data is written, then FIN; data keeps arriving through
     * {@code onReceived} until the peer closes, then {@code onClosed}. While connecting, in-flight
     * attempts are drained and {@code onConnectionFailure} follows. A muted connection is
     * hard-closed (it could not see the peer's FIN). Idempotent.
     *
     * @throws IllegalStateException if not called on the loop thread
     */
    public void close() {
        assertInLoop("close");
        state.close(this);
    }

    /**
     * Closes at once: no more callbacks but the closing ones ({@code onSent} for data already
     * written, then {@code onClosed} or the failure callback, then {@code onSendFailed} for the
     * rest in a later turn). Idempotent.
     *
     * @throws IllegalStateException if not called on the loop thread
     */
    public void hardClose() {
        assertInLoop("hardClose");
        state.hardClose(this, CloseCause.UNSPECIFIED);
    }

    /**
     * {@return the bytes accepted by {@code send} and not yet handed to the kernel} Package-private
     * for tests (the bound a peer that never reads can make the runtime hold).
     *
     * @throws IllegalStateException if not called on the loop thread
     */
    long queuedBytes() {
        assertInLoop("queuedBytes");
        return writes.queuedBytes();
    }

    /** Hard-closes the connection from any thread, in a later turn of its loop. */
    public void dispose() {
        try {
            loop.execute(this::hardCloseFromTask);
        } catch (RejectedExecutionException loopGone) {
            // The loop has shut down and closed this connection.
        }
    }

    private void hardCloseFromTask() {
        state.hardClose(this, CloseCause.UNSPECIFIED);
    }

    /**
     * Runs {@code task} on this connection's loop thread in a later turn. Thread-safe.
     *
     * @throws RejectedExecutionException if the loop has shut down
     */
    public void execute(Runnable task) {
        loop.execute(task);
    }

    /** {@return the loop this connection runs on} Thread-safe. */
    public EventLoop loop() {
        return loop;
    }

    /**
     * Stops delivering received data until {@link #unmute()}; takes effect at once, even inside
     * {@code onReceived}. Data stays buffered (in the kernel, and what was read already).
     *
     * @throws IllegalStateException if not called on the loop thread
     */
    public void mute() {
        assertInLoop("mute");
        flow.muted = true;
    }

    /**
     * Resumes delivery after {@link #mute()} in a later loop turn, held data first.
     *
     * @throws IllegalStateException if not called on the loop thread
     */
    public void unmute() {
        assertInLoop("unmute");
        if (flow.muted) {
            flow.muted = false;
            flow.readable = true;
            scheduleReadAgain();
        }
    }

    /** {@return whether {@link #mute()} is in effect} */
    public boolean isMuted() {
        assertInLoop("isMuted");
        return flow.muted;
    }

    /**
     * Inside {@code onReceived}: stop reading after this callback returns and resume in a later loop
     * turn, letting other connections run. A one-shot pause; no {@code unmute} is needed.
     *
     * @throws IllegalStateException if not called on the loop thread
     */
    public void yieldRead() {
        assertInLoop("yieldRead");
        flow.yieldRequested = true;
    }

    /**
     * Re-enters the read loop now (delivering buffered data, then reading the socket) if the
     * connection is reading; otherwise a no-op.
     *
     * @throws IllegalStateException if not called on the loop thread
     */
    public void readAgain() {
        assertInLoop("readAgain");
        state.readAgain(this);
    }

    /** Re-enters the read loop in a later task, after everything queued on the loop before it. */
    private void scheduleReadAgain() {
        readAgainQueued++;
        loop.defer(readAgainTask);
    }

    private void readAgainDequeued() {
        if (--readAgainQueued == 0) {
            readAgainNow();
        }
    }

    private void readAgainNow() {
        state.readAgain(this);
    }

    /**
     * Sets how received data is framed: {@link BufferSize} delivers messages of exactly that size,
     * {@link Streaming} delivers data as it arrives. May be called in any state; takes effect from
     * the next message.
     *
     * @return {@link BufferUntilResult#SET}, or {@link BufferUntilResult#SIZE_ABOVE_MINIMUM} if the
     *         size exceeds the read buffer minimum (nothing changes)
     * @throws IllegalStateException if not called on the loop thread
     */
    public BufferUntilResult bufferUntil(BufferUntil framing) {
        assertInLoop("bufferUntil");
        int bytes = switch (Objects.requireNonNull(framing, "framing")) {
            case BufferSize size -> size.bytes();
            case Streaming streaming -> 0;
        };
        return readBuffer.setUntil(bytes) ? BufferUntilResult.SET : BufferUntilResult.SIZE_ABOVE_MINIMUM;
    }

    /**
     * Sets the floor the read buffer shrinks back to when it is empty (lori's
     * {@code set_read_buffer_minimum}); if the buffer is smaller, it grows to it now, keeping its
     * data. May be called in any state.
     *
     * @return {@link ReadBufferResized}, or {@link ReadBufferResizeBelowBufferSize} if
     *         {@code minimum} is below the {@link #bufferUntil} size (nothing changes)
     * @throws IllegalStateException if not called on the loop thread
     */
    public ReadBufferMinimumResult setReadBufferMinimum(ReadBufferSize minimum) {
        assertInLoop("setReadBufferMinimum");
        return readBuffer.setMinimum(Objects.requireNonNull(minimum, "minimum").bytes());
    }

    /**
     * Reallocates the read buffer to exactly {@code size} bytes now, keeping unprocessed data
     * (lori's {@code resize_read_buffer}); a size below the minimum lowers the minimum. A size
     * above the minimum lasts until the buffer next empties, when it shrinks back to the minimum:
     * raise the minimum too to keep it. A slice handed to {@code onReceived} stays valid until
     * that callback returns, even if it resizes the buffer.
     *
     * @return {@link ReadBufferResized}; {@link ReadBufferResizeBelowBufferSize} if {@code size}
     *         is below the {@link #bufferUntil} size; {@link ReadBufferResizeBelowUsed} if below the
     *         bytes waiting to be delivered (nothing changes on refusal)
     * @throws IllegalStateException if not called on the loop thread
     */
    public ReadBufferResizeResult resizeReadBuffer(ReadBufferSize size) {
        assertInLoop("resizeReadBuffer");
        return readBuffer.resize(Objects.requireNonNull(size, "size").bytes());
    }

    /** {@return the read buffer's allocation target in bytes (lori's read buffer size)} */
    public int readBufferSize() {
        assertInLoop("readBufferSize");
        return readBuffer.size();
    }

    /** {@return whether the read buffer holds memory now} Loop thread only; for tests. */
    boolean readBufferHeld() {
        return readBuffer.holdsMemory();
    }

    /** Package-private for testing: free bytes behind the unprocessed data (lori#324's state). */
    long readBufferFreeTail() {
        return readBuffer.freeTail();
    }

    /** {@return the size the read buffer shrinks back to when empty} */
    public int readBufferMinimum() {
        assertInLoop("readBufferMinimum");
        return readBuffer.minimum();
    }

    /**
     * Sets ({@code timeout}) or disables ({@code null}) the idle timeout: {@code onIdleTimeout}
     * fires when no successful read or write happened for that long, and re-arms after each
     * firing while the connection is open. May be called in any state; the timer runs while the
     * connection is open and stops at {@code close()} or a hard close. Independent of TCP
     * keepalive.
     *
     * @throws IllegalStateException if not called on the loop thread
     */
    public void idleTimeout(IdleTimeout timeout) {
        assertInLoop("idleTimeout");
        timers.idleTimeout(timeout);
    }

    /**
     * Starts a one-shot timer: {@code onTimer(token)} fires after {@code duration}, whatever the
     * connection's I/O. Only one may be active. It survives {@code close()} (it can fire while
     * closing) and is cancelled by a hard close.
     *
     * @return the timer's token; {@link SetTimerError#NOT_OPEN} unless the connection is open;
     *         {@link SetTimerError#ALREADY_ACTIVE} if a timer is active (cancel it first)
     * @throws IllegalStateException if not called on the loop thread
     */
    public SetTimerResult setTimer(TimerDuration duration) {
        assertInLoop("setTimer");
        return timers.setTimer(Objects.requireNonNull(duration, "duration"));
    }

    /**
     * Cancels the user timer {@code token}; a no-op for a token that already fired, was cancelled,
     * or is not the active one. Works in any state.
     *
     * @throws IllegalStateException if not called on the loop thread
     */
    public void cancelTimer(TimerToken token) {
        assertInLoop("cancelTimer");
        timers.cancelTimer(token);
    }

    /** Timers run while the application can use the connection: open (or upgrading to TLS). */
    boolean timersRun() {
        return state == Open.INSTANCE || state == TlsUpgrading.INSTANCE;
    }

    /**
     * Upgrades an open plaintext connection to TLS (STARTTLS): a client connection starts a client
     * handshake sending {@code host} as SNI (and verifying against it as the context says); a
     * server connection waits for the ClientHello. During the handshake sends are refused
     * ({@link SendError#NOT_CONNECTED}) and {@link #isWriteable()} is false; then {@code onTlsReady}
     * or {@code onTlsFailure} (followed by {@code onClosed}).
     *
     * <p>Refused with {@link StartTlsError#NOT_READY} while muted, while received bytes are still
     * unprocessed or while writes are pending: anything received before the upgrade must never be
     * handled as if it came over TLS (CVE-2021-23222).
     *
     * @param host the server name for SNI and verification (clients); ignored by servers, may be ""
     * @return {@link TlsUpgradeStarted#STARTED} or the {@link StartTlsError}; on error nothing changed
     * @throws IllegalStateException if not called on the loop thread
     */
    public StartTlsResult startTls(SslContext context, String host) {
        assertInLoop("startTls");
        NativeSslContext native_ = SslContextAccess.of(Objects.requireNonNull(context, "context"));
        if (state == TlsUpgrading.INSTANCE || state == Open.INSTANCE && tls != null) {
            return StartTlsError.ALREADY_TLS;
        }
        if (state != Open.INSTANCE) {
            return StartTlsError.NOT_CONNECTED;
        }
        if (flow.muted || readBuffer.buffered() > 0 || !writes.hasNoBytes()) {
            return StartTlsError.NOT_READY;
        }
        if (native_.client() != (client != null)) {
            failureDetail = "startTls: a " + (client != null ? "client" : "server") + " connection needs a "
                    + (client != null ? "client" : "server") + " SslContext";
            return StartTlsError.SESSION_FAILED;
        }
        List<OpenSsl.SslError> errors = new ArrayList<>();
        TlsChannel channel = TlsChannel.open(native_, loop, client != null ? host : null, errors);
        if (channel == null) {
            failureDetail = "TLS session: " + (errors.isEmpty() ? "the SslContext is closed" : errors);
            return StartTlsError.SESSION_FAILED;
        }
        tls = channel;
        state = TlsUpgrading.INSTANCE;
        readLoop(); // the client's ClientHello goes out now (or right after the current callback)
        return TlsUpgradeStarted.STARTED;
    }

    /**
     * {@return what TLS negotiated (protocol, cipher, ALPN, resumption), or null if the connection
     * does not use TLS or its handshake has not completed}
     */
    public TlsInfo tlsInfo() {
        assertInLoop("tlsInfo");
        return tls != null && (state == Open.INSTANCE || state == Closing.INSTANCE) ? tls.info() : null;
    }

    /** {@return whether the connection is open: connected and not closing} */
    public boolean isOpen() {
        assertInLoop("isOpen");
        return state == Open.INSTANCE;
    }

    /** {@return whether the connection is closing or closed (including closing while connecting)} */
    public boolean isClosed() {
        assertInLoop("isClosed");
        return state.isClosed();
    }

    /** {@return whether {@link #send} would accept data now: open and not backpressured} */
    public boolean isWriteable() {
        assertInLoop("isWriteable");
        return state.sendsAllowed() && !flow.throttled;
    }

    /** {@return the local address, or null when not connected (or closed)} */
    public InetSocketAddress localAddress() {
        assertInLoop("localAddress");
        return hasSocket() ? backend.localAddress(loop, fd) : null;
    }

    /** {@return the peer's address, or null when not connected (or closed)} */
    public InetSocketAddress remoteAddress() {
        assertInLoop("remoteAddress");
        return hasSocket() ? backend.peerAddress(loop, fd) : null;
    }

    /** Open or closing: the connection's own socket exists and is connected. */
    private boolean hasSocket() {
        return fd >= 0 && (state == Open.INSTANCE || state == Closing.INSTANCE);
    }

    /** The socket option calls may use: the connection's fd while open, else -1. */
    int optionFd() {
        return state.socketUsable() ? fd : -1;
    }

    // ------------------------------------------------------------------ socket options
    // lori's calls return 0 or an errno (1 when the connection is not open); typed helpers return
    // OptionResult. Level and name constants are in OsSockOpt. Never change O_NONBLOCK.

    /**
     * TCP keepalive of about {@code secs} seconds: 0 turns it off; otherwise {@code SO_KEEPALIVE}
     * with {@code TCP_KEEPIDLE} = {@code TCP_KEEPCNT} = {@code secs / 2} (at least 1) and
     * {@code TCP_KEEPINTVL} = 1 (lori's mapping). A no-op unless the connection is open.
     *
     * @throws IllegalArgumentException if {@code secs} is negative
     * @throws IllegalStateException    if not called on the loop thread
     */
    public void keepalive(int secs) {
        assertInLoop("keepalive");
        if (secs < 0) {
            throw new IllegalArgumentException("keepalive seconds must not be negative: " + secs);
        }
        socketOptions.keepalive(secs);
    }

    /**
     * Turns Nagle's algorithm off ({@code true}: small writes go out at once) or on.
     *
     * @return 0, or the errno of the failure ({@value #NOT_OPEN_ERRNO} if the connection is not open)
     * @throws IllegalStateException if not called on the loop thread
     */
    public int setNodelay(boolean noDelay) {
        assertInLoop("setNodelay");
        return socketOptions.setInt(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_NODELAY, noDelay ? 1 : 0);
    }

    /** {@return the socket's receive buffer size ({@code SO_RCVBUF}) with errno 0, or the errno} */
    public IntOptionResult getSoRcvbuf() {
        assertInLoop("getSoRcvbuf");
        return socketOptions.getInt(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_RCVBUF);
    }

    /**
     * Sets {@code SO_RCVBUF}; the kernel may double or clamp it.
     *
     * @return 0 or the errno ({@value #NOT_OPEN_ERRNO} if not open)
     */
    public int setSoRcvbuf(int bytes) {
        assertInLoop("setSoRcvbuf");
        return socketOptions.setInt(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_RCVBUF, bytes);
    }

    /** {@return the socket's send buffer size ({@code SO_SNDBUF}) with errno 0, or the errno} */
    public IntOptionResult getSoSndbuf() {
        assertInLoop("getSoSndbuf");
        return socketOptions.getInt(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_SNDBUF);
    }

    /**
     * Sets {@code SO_SNDBUF}; the kernel may double or clamp it.
     *
     * @return 0 or the errno ({@value #NOT_OPEN_ERRNO} if not open)
     */
    public int setSoSndbuf(int bytes) {
        assertInLoop("setSoSndbuf");
        return socketOptions.setInt(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_SNDBUF, bytes);
    }

    /**
     * Reads any option: {@code getsockopt(2)} with a buffer of {@code maxSize} bytes.
     *
     * @return errno 0 and exactly the bytes the kernel wrote, or the errno and no bytes
     * @throws IllegalArgumentException if {@code maxSize} is negative
     */
    public BytesOptionResult getsockopt(int level, int name, int maxSize) {
        assertInLoop("getsockopt");
        return socketOptions.getBytes(level, name, maxSize);
    }

    /** {@return an option the kernel reports as a C {@code uint32_t}, with errno 0, or the errno} */
    public IntOptionResult getsockoptU32(int level, int name) {
        assertInLoop("getsockoptU32");
        return socketOptions.getInt(level, name);
    }

    /**
     * Sets any option from raw bytes (the caller supplies size, contents and byte order).
     *
     * @return 0 or the errno ({@value #NOT_OPEN_ERRNO} if not open)
     */
    public int setsockopt(int level, int name, byte[] value) {
        assertInLoop("setsockopt");
        return socketOptions.setBytes(level, name, Objects.requireNonNull(value, "value"));
    }

    /**
     * Sets an option the kernel takes as a C {@code uint32_t} (host byte order).
     *
     * @return 0 or the errno ({@value #NOT_OPEN_ERRNO} if not open)
     */
    public int setsockoptU32(int level, int name, int value) {
        assertInLoop("setsockoptU32");
        return socketOptions.setInt(level, name, value);
    }

    /** {@return a snapshot of the kernel's {@code TCP_INFO}: state, RTT, congestion window, counters} */
    public OptionResult<TcpInfo> tcpInfo() {
        assertInLoop("tcpInfo");
        return socketOptions.tcpInfo();
    }

    /**
     * Sets {@code SO_LINGER}. {@code new Linger(true, 0)} makes {@code close} reset the connection.
     *
     * @return 0 or the errno ({@value #NOT_OPEN_ERRNO} if not open)
     */
    public int setLinger(Linger linger) {
        assertInLoop("setLinger");
        return socketOptions.setLinger(Objects.requireNonNull(linger, "linger"));
    }

    /** {@return {@code SO_LINGER}} */
    public OptionResult<Linger> linger() {
        assertInLoop("linger");
        return socketOptions.linger();
    }

    /**
     * Sets {@code TCP_QUICKACK} (the kernel clears it again by itself; set it after reads).
     *
     * @return 0 or the errno ({@value #NOT_OPEN_ERRNO} if not open)
     */
    public int setQuickAck(boolean quickAck) {
        assertInLoop("setQuickAck");
        return socketOptions.setInt(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_QUICKACK, quickAck ? 1 : 0);
    }

    /** {@return {@code TCP_QUICKACK}, 1 when on} */
    public OptionResult<Integer> quickAck() {
        assertInLoop("quickAck");
        return socketOptions.intValue(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_QUICKACK);
    }

    /**
     * Selects the congestion-control algorithm by name ({@code TCP_CONGESTION}, e.g.
     * {@code "cubic"}, {@code "reno"}); the kernel may refuse unknown or unavailable ones.
     *
     * @return 0 or the errno (e.g. ENOENT for an unknown algorithm; {@value #NOT_OPEN_ERRNO} if not open)
     */
    public int setCongestion(String algorithm) {
        assertInLoop("setCongestion");
        return socketOptions.setCongestion(Objects.requireNonNull(algorithm, "algorithm"));
    }

    /** {@return the congestion-control algorithm in use ({@code TCP_CONGESTION})} */
    public OptionResult<String> congestion() {
        assertInLoop("congestion");
        return socketOptions.congestion();
    }

    /**
     * Sets {@code TCP_USER_TIMEOUT}: how long sent data may stay unacknowledged before the kernel
     * drops the connection (0 = the system default).
     *
     * @return 0 or the errno ({@value #NOT_OPEN_ERRNO} if not open)
     */
    public int setUserTimeout(int millis) {
        assertInLoop("setUserTimeout");
        return socketOptions.setInt(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_USER_TIMEOUT, millis);
    }

    /** {@return {@code TCP_USER_TIMEOUT} in milliseconds} */
    public OptionResult<Integer> userTimeout() {
        assertInLoop("userTimeout");
        return socketOptions.intValue(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_USER_TIMEOUT);
    }

    /**
     * Sets the IP traffic class: {@code IP_TOS} on IPv4, {@code IPV6_TCLASS} on IPv6 (DSCP and ECN
     * bits, e.g. {@code 0x10} low delay).
     *
     * @return 0 or the errno ({@value #NOT_OPEN_ERRNO} if not open)
     */
    public int setTrafficClass(int value) {
        assertInLoop("setTrafficClass");
        return socketOptions.setTrafficClass(value);
    }

    /** {@return the IP traffic class ({@code IP_TOS} or {@code IPV6_TCLASS})} */
    public OptionResult<Integer> trafficClass() {
        assertInLoop("trafficClass");
        return socketOptions.trafficClass();
    }

    /**
     * {@return a description of why the connection failed or closed abnormally, or {@code ""}}
     * For example {@code "connect 127.0.0.1:9: ECONNREFUSED (Connection refused)"}.
     */
    public String failureDetail() {
        assertInLoop("failureDetail");
        return failureDetail;
    }

    @Override
    public String toString() {
        return "TcpConnection[" + (client != null ? "client " + host + ":" + port : "server fd " + fd)
                + ", " + state + ", " + loop.name() + "]";
    }

    private void assertInLoop(String method) {
        loop.assertInLoop("TcpConnection.", method);
    }

    // ------------------------------------------------------------------ I/O

    private void onIo(int eventFd, int events) {
        try {
            if (eventFd == fd) {
                state.ownEvent(this, events);
            } else {
                state.attemptEvent(this, eventFd, events);
            }
        } catch (RuntimeException e) {
            // Callbacks are guarded one by one, so this is the runtime's own failure, part-way
            // through updating this connection: continuing could lose or reorder bytes. The
            // connection is failed (and the loop told) rather than trusted further.
            callbackFailed("I/O handling", e);
        }
    }

    /** Readiness on the connection's socket: writes first, then reads (lori's order). */
    void dispatchIo(int events) {
        if ((events & (Epoll.EPOLLOUT | Epoll.EPOLLERR | Epoll.EPOLLHUP)) != 0 && flow.throttled) {
            flush();
        }
        if (!state.reads()) {
            return;
        }
        if ((events & (Epoll.EPOLLRDHUP | Epoll.EPOLLHUP | Epoll.EPOLLERR)) != 0) {
            flow.hangup = true;
        }
        if ((events & (Epoll.EPOLLIN | Epoll.EPOLLRDHUP | Epoll.EPOLLHUP | Epoll.EPOLLERR)) != 0) {
            flow.readable = true;
            readLoop();
        }
    }

    /**
     * Delivers buffered messages and reads the socket until it has nothing more, the connection is
     * muted or closed, the application yields, or one buffer's worth was read this turn (fairness).
     */
    void readLoop() {
        if (inReadLoop) {
            // Called from a callback the read loop is running (readAgain in onReceived): nesting
            // would overwrite the buffer under the slice that callback holds. Resume afterwards.
            scheduleReadAgain();
            return;
        }
        inReadLoop = true;
        try {
            readLoopOnce();
        } finally {
            inReadLoop = false;
            readBuffer.settle(); // leftovers leave the loop's shared area before anyone else reads
        }
    }

    private void readLoopOnce() {
        long readThisTurn = 0;
        while (state.reads()) {
            if (flow.muted) {
                if (tls != null) {
                    flushTlsOutput(); // protocol output (key updates, tickets) goes out even while muted
                }
                return;
            }
            if (tls != null && state.handshaking()) {
                if (!stepHandshake()) {
                    return;
                }
                if (!state.handshaking()) {
                    continue; // ready: deliver what the handshake's last read already decrypted
                }
            } else if (readBuffer.hasMessage()) {
                if (output.hasPending()) {
                    // onSent of earlier sends precedes the next message (lori's ordering); then
                    // re-check: those callbacks may have muted or closed the connection.
                    output.deliver();
                    continue;
                }
                deliver(readBuffer.nextMessage());
                if (flow.yieldRequested) {
                    flow.yieldRequested = false;
                    if (state.reads()) {
                        scheduleReadAgain();
                    }
                    return;
                }
                continue;
            } else if (tls != null && !tls.closeNotifyReceived()) {
                int decrypted = decrypt();
                if (decrypted > 0) {
                    continue;
                }
                if (decrypted < 0) {
                    return;
                }
            }
            if (!flow.readable) {
                return;
            }
            if (output.hasPending()) {
                // Before reading more from the socket too: a reply's onSent runs before the next
                // bytes are read, so startTls from onSent never finds the peer's ClientHello already
                // read as plaintext.
                output.deliver();
                continue;
            }
            if (readThisTurn >= readBuffer.size()) {
                scheduleReadAgain();
                return;
            }
            long requested = tls != null ? tls.receiveCapacity() : 0;
            long n = tls != null ? tls.receive(backend, fd) : receivePlaintext();
            if (n > 0) {
                readThisTurn += n;
                timers.touch();
                if (tls != null) {
                    drainedBy(n, requested);
                }
            } else if (n == -Errno.EAGAIN) {
                flow.readable = false;
                return;
            } else if (n == Long.MIN_VALUE) {
                return; // receivePlaintext found no room; it scheduled a retry
            } else {
                if (n < 0) {
                    failureDetail = "recv: " + Errno.describe((int) -n);
                } else if (state.handshaking()) {
                    failureDetail = "TLS handshake: the peer closed the connection";
                } else if (tls != null && !tls.closeNotifyReceived()) {
                    // A FIN with no close_notify before it may have cut the stream short (RFC 8446
                    // §6.1). OpenSSL cannot say so here: its input is a memory BIO that never sees
                    // the socket's end, so clearing SSL_OP_IGNORE_UNEXPECTED_EOF has no effect.
                    // Without this the truncation would read exactly like a clean close.
                    failureDetail = "TLS read: the peer closed the connection without close_notify (truncated)";
                }
                // n == 0: the peer closed; lori does not support half-open connections.
                state.hardClose(this, CloseCause.UNSPECIFIED);
                return;
            }
        }
    }

    /** Reads plaintext from the socket into the read buffer. {@return bytes, 0 at EOF, or {@code -errno}} */
    private long receivePlaintext() {
        MemorySegment window = readBuffer.window();
        if (window.byteSize() == 0) {
            // Unreachable while bufferUntil <= size; never read into an empty window (lori#324).
            scheduleReadAgain();
            return Long.MIN_VALUE;
        }
        long n = backend.receive(loop, fd, window);
        if (n > 0) {
            readBuffer.filled(n);
            drainedBy(n, window.byteSize());
        }
        return n;
    }

    /**
     * A read that returned fewer bytes than asked for emptied the socket's receive queue: with
     * edge-triggered epoll, bytes arriving later raise a new event, so the read that would only
     * say EAGAIN is skipped (one system call less per message, as Netty's epoll transport does).
     * Not once the peer's FIN or an error was reported: that edge is already spent, and the loop
     * must read on until it sees the end of the stream.
     */
    private void drainedBy(long received, long requested) {
        if (received < requested && !flow.hangup) {
            flow.readable = false;
        }
    }

    /**
     * One TLS handshake step with the ciphertext received so far, sending what it produced.
     *
     * @return false if the read loop must stop (the connection closed)
     */
    private boolean stepHandshake() {
        int step = tls.handshake();
        if (!flushTlsOutput()) {
            return false;
        }
        if (step == 0) {
            handshakeCompleted();
            return state.reads();
        }
        if (step == SslSession.WANT_INPUT) {
            return true;
        }
        failureDetail = "TLS handshake: " + tls.failureText();
        state.hardClose(this, step == SslSession.AUTH_FAILED ? CloseCause.TLS_AUTH_FAILED : CloseCause.TLS_FAILED);
        return false;
    }

    /**
     * Decrypts into the read buffer.
     *
     * @return {@code > 0} if plaintext arrived, 0 if the session needs more ciphertext (read the
     *         socket), {@code < 0} if the read loop must stop
     */
    private int decrypt() {
        MemorySegment window = readBuffer.window();
        long n = window.byteSize() == 0 ? SslSession.WANT_INPUT : tls.read(window);
        if (n > 0) {
            readBuffer.filled(n);
            return 1;
        }
        if (n == SslSession.CLOSED) {
            tls.markCloseNotifyReceived();
            peerSentCloseNotify();
            return state.reads() ? 1 : -1; // loop again: deliver what is buffered, then await FIN
        }
        if (n == SslSession.FAILED) {
            failureDetail = "TLS read: " + tls.failureText();
            state.hardClose(this, CloseCause.UNSPECIFIED);
            return -1;
        }
        // The session wants more input: send any protocol output first (tickets, key updates).
        return flushTlsOutput() ? 0 : -1;
    }

    /**
     * The peer's close_notify: close gracefully (answering with ours, then FIN) unless we already
     * sent FIN, in which case nothing more can come and the connection hard-closes (lori's rule).
     */
    private void peerSentCloseNotify() {
        if (state == Open.INSTANCE) {
            state.close(this);
        } else if (finSent || state != Closing.INSTANCE) {
            state.hardClose(this, CloseCause.UNSPECIFIED);
        }
    }

    /** Sends the ciphertext the TLS session produced. {@return whether the connection still reads} */
    private boolean flushTlsOutput() {
        if (queueTlsOutput()) {
            flush();
        }
        return state.reads();
    }

    /** The TLS handshake completed: the connection is ready (or upgraded). */
    private void handshakeCompleted() {
        if (state == SslHandshaking.INSTANCE) {
            cancelConnectTimer();
            state = Open.INSTANCE;
            timers.connectionReady();
            if (client != null) {
                calls.connected();
            } else {
                calls.started();
            }
        } else {
            state = Open.INSTANCE;
            calls.tlsReady();
        }
    }

    private void deliver(MemorySegment message) {
        readBuffer.delivering(true);
        try {
            calls.received(message);
        } finally {
            readBuffer.delivering(false); // frees memory retired while the callback held a slice
        }
    }

    /** Writes queued data until the queue empties or the kernel pushes back. */
    void flush() {
        while (!writes.hasNoBytes()) {
            try {
                writes.writeOnce(backend, loop, fd, attempt);
            } catch (IllegalStateException deadSegment) {
                // A sent MemorySegment's arena was closed before its bytes were written.
                failureDetail = "a buffer passed to send() was freed before it was written: " + deadSegment.getMessage();
                completeTokens();
                hardCloseConnected();
                return;
            }
            long r = attempt.result;
            if (r > 0) {
                timers.touch();
                if (r < attempt.offered) {
                    completeTokens();
                    applyBackpressure();
                    return;
                }
            } else if (r == -Errno.EAGAIN || r == -Errno.ENOBUFS) {
                completeTokens();
                applyBackpressure();
                return;
            } else {
                failureDetail = "send: " + Errno.describe((int) -r);
                completeTokens();
                hardCloseConnected();
                return;
            }
        }
        completeTokens();
        if (flow.throttled) {
            flow.throttled = false;
            if (flow.throttleReported) {
                flow.throttleReported = false;
                output.unthrottled();
            }
        }
        state.drained(this);
    }

    private void completeTokens() {
        long token;
        while ((token = writes.pollCompleted()) != 0) {
            output.sent(token);
        }
    }

    private void applyBackpressure() {
        if (!flow.throttled) {
            flow.throttled = true;
            // Handshake bytes can back up too; the application hears only of its own data.
            if (state.sendsAllowed()) {
                flow.throttleReported = true;
                output.throttled();
            }
        }
    }

    // ------------------------------------------------------------------ closing

    /** Open: begin the graceful close. */
    void startClosing() {
        state = Closing.INSTANCE;
        timers.cancelIdle();
        if (writes.hasNoBytes()) {
            sendFin();
        }
    }

    /** Sends FIN once, when closing and nothing is queued. */
    void sendFin() {
        if (!finSent && fd >= 0 && writes.hasNoBytes() && tls != null && tls.closeNotify()) {
            // TLS: close_notify goes out after the queued data and before FIN (lori#348, RFC 8446
            // 6.1); the flush comes back here through drained() once it is written.
            tls.moveOutput(writes);
            flush();
            return;
        }
        if (!finSent && fd >= 0 && writes.hasNoBytes()) {
            finSent = true;
            int r = backend.shutdownWrite(loop, fd);
            if (r < 0 && r != -Errno.ENOTCONN) {
                failureDetail = "shutdown: " + Errno.describe(-r);
                hardCloseConnected();
            }
        }
    }

    /** Closed before the loop initialised the connection: release the socket, no callbacks. */
    void closeBeforeStart() {
        state = Closed.INSTANCE;
        if (fd >= 0) {
            backend.close(loop, fd);
            fd = -1;
        }
        notifySpawner();
    }

    /** Teardown of a client that never connected; reports the failure. */
    void hardCloseConnecting(CloseCause cause) {
        state = Closed.INSTANCE;
        cancelConnectTimer();
        timers.cancelAll();
        if (attempts != null) {
            attempts.stopStarting();
            attempts.closeAllInFlight();
        }
        if (tls != null) {
            tls.close();
        }
        releaseReadBuffer();
        loop.untrack(loopResource);
        ConnectionFailure reason = switch (cause) {
            case CONNECT_TIMED_OUT -> ConnectionFailure.TIMEOUT;
            case CONNECT_TIMER_FAILED -> ConnectionFailure.TIMER_ERROR;
            case NOT_RESOLVED -> ConnectionFailure.DNS;
            case TLS_FAILED, TLS_AUTH_FAILED -> ConnectionFailure.SSL;
            // Closed by the application or failed attempts: the name did resolve (or was never
            // waited for), so the failure is the connection's, not the resolver's.
            case UNSPECIFIED -> ConnectionFailure.TCP;
        };
        calls.connectionFailure(reason);
    }

    /**
     * Teardown of a connected connection, in lori's load-bearing order: state first (so callbacks
     * see it closed), {@code onSent} for what was written, release everything, {@code onClosed},
     * tell the listener, and {@code onSendFailed} for the rest in a later turn.
     */
    void hardCloseConnected() {
        List<SendToken> failed = teardown();
        calls.closed();
        notifySpawner();
        failLater(failed);
    }

    /** The initial TLS handshake failed or was interrupted: the connection never became ready. */
    void hardCloseHandshaking(CloseCause cause) {
        List<SendToken> failed = teardown();
        if (client != null) {
            calls.connectionFailure(switch (cause) {
                case CONNECT_TIMED_OUT -> ConnectionFailure.TIMEOUT;
                case CONNECT_TIMER_FAILED -> ConnectionFailure.TIMER_ERROR;
                default -> ConnectionFailure.SSL;
            });
        } else {
            calls.startFailure(StartFailure.SSL);
        }
        notifySpawner();
        failLater(failed);
    }

    /** A startTls handshake failed or was interrupted: onTlsFailure, then onClosed. */
    void hardCloseUpgrading(CloseCause cause) {
        List<SendToken> failed = teardown();
        calls.tlsFailure(cause == CloseCause.TLS_AUTH_FAILED ? TlsFailure.AUTH_FAILED : TlsFailure.GENERAL_ERROR);
        calls.closed();
        notifySpawner();
        failLater(failed);
    }

    /**
     * Releases everything in lori's load-bearing order: state first (so callbacks see it closed),
     * {@code onSent} for what was written, timers, the socket, then the TLS session (after the
     * fd), the read buffer. {@return the tokens whose bytes were not written}
     */
    private List<SendToken> teardown() {
        state = Closed.INSTANCE;
        completeTokens();
        output.deliverSentNow();
        List<SendToken> failed = writes.clear();
        flow.throttled = false;
        cancelConnectTimer();
        timers.cancelAll();
        if (fd >= 0) {
            backend.close(loop, fd);
            fd = -1;
        }
        if (attempts != null) {
            attempts.closeAllInFlight();
        }
        if (tls != null) {
            tls.close();
        }
        releaseReadBuffer();
        loop.untrack(loopResource);
        return failed;
    }

    private void failLater(List<SendToken> failed) {
        if (!failed.isEmpty()) {
            loop.defer(() -> {
                for (SendToken token : failed) {
                    calls.sendFailed(token);
                }
            });
        }
    }

    private void releaseReadBuffer() {
        readBuffer.release(); // deferred past onReceived if it is running: its slice stays valid
    }

    private void notifySpawner() {
        if (spawner != null && !spawnerNotified) {
            spawnerNotified = true;
            spawner.connectionClosed();
        }
    }

    private void shutdown() {
        state.hardClose(this, CloseCause.UNSPECIFIED);
    }

    // ------------------------------------------------------------------ callbacks

    boolean isClosedState() {
        return state == Closed.INSTANCE;
    }

    ReceiverCalls calls() {
        return calls;
    }

    /** A receiver callback threw: report it and hard-close (unless already closed). */
    void callbackFailed(String callback, Throwable t) {
        loop.reportFailure(this + " " + callback, t);
        if (state != Closed.INSTANCE) {
            failureDetail = callback + " threw " + t;
            state.hardClose(this, CloseCause.UNSPECIFIED);
        }
    }
}
