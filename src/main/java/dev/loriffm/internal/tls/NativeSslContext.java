package dev.loriffm.internal.tls;

import dev.loriffm.internal.sys.SslContexts;
import dev.loriffm.internal.sys.SslSession;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;

/**
 * The native side of an {@code SslContext}: the {@code SSL_CTX*}, the arena holding what its
 * callbacks read (the server's ALPN list), and a count of the connections using it.
 *
 * <p>Freeing happens exactly once, when the context is closed <em>and</em> no connection uses
 * it: a connection calls {@link #acquire()} before {@code SSL_new} and {@link #release()} after
 * {@code SSL_free}, so the arena outlives every {@code SSL} that may run a callback reading it.
 *
 * <p>Thread-safe: the count and the closed flag are guarded by this object's lock.
 */
public final class NativeSslContext {
    private final MemorySegment sslCtx;
    // Shared: connections on any loop run callbacks that read it. Closed right after SSL_CTX_free.
    private final Arena arena;
    private final boolean client;
    private final boolean verifyPeer;
    private final boolean hostnameVerification;

    // -- guarded by this
    private int users;        // connections between acquire() and release()
    private boolean closed;   // close() was called; no new user is admitted
    private boolean freed;    // SSL_CTX_free ran and the arena is closed
    // Client sessions to resume, by "host:port", most recently used last; each value holds one
    // SSL_SESSION reference, freed when evicted, replaced or when the context is freed.
    private final LinkedHashMap<String, MemorySegment> sessions = new LinkedHashMap<>(16, 0.75f, true);
    // -- end of fields guarded by this

    private static final int MAX_CACHED_SESSIONS = 256;
    private final boolean clientResumption;

    NativeSslContext(MemorySegment sslCtx, Arena arena, boolean client, boolean verifyPeer,
                     boolean hostnameVerification, boolean clientResumption) {
        this.sslCtx = sslCtx;
        this.arena = arena;
        this.client = client;
        this.verifyPeer = verifyPeer;
        this.hostnameVerification = hostnameVerification;
        this.clientResumption = clientResumption;
    }

    /** {@return whether clients of this context resume earlier sessions with the same server} */
    public boolean clientResumption() {
        return clientResumption;
    }

    /**
     * Offers the cached session for {@code key} to a new client session. Thread-safe; the
     * caller holds a use ({@link #acquire()}).
     */
    public synchronized void offerSession(String key, SslSession session) {
        MemorySegment cached = sessions.get(key);
        if (cached != null && !freed) {
            session.resume(cached);
        }
    }

    /**
     * Keeps {@code sslSession} (a reference the caller owns, from {@link SslSession#resumableSession()})
     * for the next connection to {@code key}; replaces and frees an older one. Thread-safe.
     */
    public synchronized void keepSession(String key, MemorySegment sslSession) {
        if (freed || closed) {
            SslSession.freeSession(sslSession);
            return;
        }
        MemorySegment old = sessions.put(key, sslSession);
        if (old != null) {
            SslSession.freeSession(old);
        }
        if (sessions.size() > MAX_CACHED_SESSIONS) {
            var eldest = sessions.entrySet().iterator().next();
            SslSession.freeSession(eldest.getValue());
            sessions.remove(eldest.getKey());
        }
    }

    /**
     * Registers a connection as a user, keeping the native context alive until its
     * {@link #release()}.
     *
     * @return true if registered; false if the context is closed (no new connection may use it)
     */
    public synchronized boolean acquire() {
        if (closed) {
            return false;
        }
        users++;
        return true;
    }

    /**
     * Ends a use begun by a successful {@link #acquire()}; frees the native context if it is closed
     * and this was the last user.
     *
     * @throws IllegalStateException if there is no user to release
     */
    public synchronized void release() {
        if (users == 0) {
            throw new IllegalStateException("release() without a matching acquire()");
        }
        users--;
        freeIfUnused();
    }

    /**
     * Admits no new user, and frees the native context now if no connection uses it, else when the
     * last one releases it. Idempotent.
     */
    public synchronized void close() {
        closed = true;
        freeIfUnused();
    }

    private void freeIfUnused() {
        assert Thread.holdsLock(this);
        if (closed && users == 0 && !freed) {
            freed = true;
            sessions.values().forEach(SslSession::freeSession);
            sessions.clear();
            SslContexts.free(sslCtx);
            arena.close();
        }
    }

    /**
     * {@return the {@code SSL_CTX*}} Valid while the caller holds a use ({@link #acquire()}), or
     * before the context is closed on the thread that built it.
     */
    public MemorySegment sslCtx() {
        return sslCtx;
    }

    /** {@return whether this is a client context} */
    public boolean client() {
        return client;
    }

    /** {@return whether peers' certificates are verified} */
    public boolean verifyPeer() {
        return verifyPeer;
    }

    /**
     * {@return whether a client connection must set the expected host name (see
     * {@code SslSession.serverName}) so that verification checks it}
     */
    public boolean hostnameVerification() {
        return hostnameVerification;
    }

    /** {@return whether {@link #close()} was called} */
    public synchronized boolean isClosed() {
        return closed;
    }

    /** {@return whether the native context has been freed} */
    public synchronized boolean isFreed() {
        return freed;
    }

    /** {@return the number of connections using the context now} */
    public synchronized int users() {
        return users;
    }
}
