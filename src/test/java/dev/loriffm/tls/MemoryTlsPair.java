package dev.loriffm.tls;

import dev.loriffm.internal.sys.NativeScratch;
import dev.loriffm.internal.sys.OpenSsl;
import dev.loriffm.internal.sys.SslAlpn;
import dev.loriffm.internal.sys.SslSessions;
import dev.loriffm.internal.tls.NativeSslContext;
import dev.loriffm.internal.tls.SslContextAccess;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client and a server {@code SSL} talking through memory BIOs on the test thread, with no
 * socket: each step runs one side and moves its output to the other. Uses a context the way a
 * connection will: acquire, {@code SSL_new}, set the expected host, and release after
 * {@code SSL_free}.
 *
 * <p>Not thread-safe: confined to the thread that made it.
 */
final class MemoryTlsPair implements AutoCloseable {
    private static final int MAX_STEPS = 64;

    /**
     * How a handshake ended for each side.
     *
     * @param client       the client's last {@code SSL_get_error} code
     * @param server       the server's last code
     * @param verifyResult the client's {@code X509_V_*} verification result
     * @param clientErrors the error queue the client's failing call left (empty unless it failed)
     * @param serverErrors the error queue the server's failing call left
     */
    record Outcome(int client, int server, long verifyResult, List<OpenSsl.SslError> clientErrors,
                   List<OpenSsl.SslError> serverErrors) {
        boolean succeeded() {
            return client == SslSessions.ERROR_NONE && server == SslSessions.ERROR_NONE;
        }
    }

    private final NativeScratch scratch = new NativeScratch();
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer = arena.allocate(16 * 1024);
    private final NativeSslContext clientContext;
    private final NativeSslContext serverContext;
    private final MemorySegment client;
    private final MemorySegment server;

    /**
     * @param host the name the client connects to: sent as SNI and, if the client context verifies
     *             host names, required in the server's certificate
     */
    MemoryTlsPair(SslContext clientContext, SslContext serverContext, String host) {
        this.clientContext = SslContextAccess.of(clientContext);
        this.serverContext = SslContextAccess.of(serverContext);
        assertTrue(this.clientContext.acquire(), "client context open");
        assertTrue(this.serverContext.acquire(), "server context open");
        client = SslSessions.create(this.clientContext.sslCtx(), true);
        server = SslSessions.create(this.serverContext.sslCtx(), false);
        assertNotEquals(MemorySegment.NULL, client);
        assertNotEquals(MemorySegment.NULL, server);
        assertTrue(SslSessions.setServerName(client, host));
        if (this.clientContext.hostnameVerification()) {
            assertTrue(SslSessions.setExpectedHost(client, host));
        }
    }

    /** Offers a saved client session before the handshake. */
    void resume(MemorySegment session) {
        assertTrue(SslSessions.resume(client, session));
    }

    /** Runs both handshakes until both finish or one fails. */
    Outcome handshake() {
        int c = SslSessions.ERROR_WANT_READ;
        int s = SslSessions.ERROR_WANT_READ;
        List<OpenSsl.SslError> clientErrors = new ArrayList<>();
        List<OpenSsl.SslError> serverErrors = new ArrayList<>();
        for (int step = 0; step < MAX_STEPS; step++) {
            if (c != SslSessions.ERROR_NONE) {
                c = SslSessions.handshake(scratch, client);
                // Drained per side, straight after the call: the next TLS call on this thread may clear it.
                clientErrors.addAll(OpenSsl.drainErrors());
            }
            pump(client, server);
            // A side that failed sent an alert; one more step lets the other side read it.
            if (s != SslSessions.ERROR_NONE && !isFailure(s)) {
                s = SslSessions.handshake(scratch, server);
                serverErrors.addAll(OpenSsl.drainErrors());
            }
            pump(server, client);
            if (isFailure(c) || isFailure(s) || c == SslSessions.ERROR_NONE && s == SslSessions.ERROR_NONE) {
                return new Outcome(c, s, SslSessions.verifyResult(client), clientErrors, serverErrors);
            }
        }
        throw new AssertionError("handshake made no progress in " + MAX_STEPS + " steps: client " + c
                + ", server " + s);
    }

    private static boolean isFailure(int code) {
        return code != SslSessions.ERROR_NONE && code != SslSessions.ERROR_WANT_READ
                && code != SslSessions.ERROR_WANT_WRITE;
    }

    /** Lets the client read what the server sent after the handshake (TLS 1.3 session tickets). */
    void clientReadsPostHandshakeMessages() {
        pump(server, client);
        long r = SslSessions.read(scratch, client, buffer);
        assertEquals(-SslSessions.ERROR_WANT_READ, r, "no application data was sent");
    }

    /** {@return the client's session if resumable (free it with {@code SslSessions.freeSession}), else NULL} */
    MemorySegment clientSession() {
        return SslSessions.session(client);
    }

    /** {@return whether the client resumed a session} */
    boolean clientResumed() {
        return SslSessions.sessionReused(client);
    }

    /** {@return whether the server resumed a session} */
    boolean serverResumed() {
        return SslSessions.sessionReused(server);
    }

    /** {@return the protocol ALPN agreed on as the client sees it, or null} */
    String clientAlpn() {
        return SslAlpn.selected(client);
    }

    /** {@return the protocol ALPN agreed on as the server sees it, or null} */
    String serverAlpn() {
        return SslAlpn.selected(server);
    }

    /** {@return the negotiated protocol version, e.g. "TLSv1.3"} */
    String version() {
        return SslSessions.protocolVersion(client);
    }

    /** Moves everything {@code from} wants to send into {@code to}'s input. */
    private void pump(MemorySegment from, MemorySegment to) {
        int n;
        while ((n = SslSessions.takeOutbound(from, buffer)) > 0) {
            assertEquals(n, SslSessions.putInbound(to, buffer.asSlice(0, n)));
        }
    }

    /**
     * Shuts both sides down with close_notify before freeing them: OpenSSL marks the session of a
     * connection freed without a shutdown as not resumable (a truncated connection's session must
     * not be reused).
     */
    @Override
    public void close() {
        SslSessions.shutdown(scratch, client);
        SslSessions.shutdown(scratch, server);
        // Shutting down a connection whose handshake failed queues errors; they belong to no test.
        OpenSsl.drainErrors();
        SslSessions.free(client);
        SslSessions.free(server);
        clientContext.release();
        serverContext.release();
        arena.close();
        scratch.close();
    }
}
