package dev.loriffm.tls;

import dev.loriffm.internal.sys.NativeScratch;
import dev.loriffm.internal.sys.OpenSsl;
import dev.loriffm.internal.sys.SslSession;
import dev.loriffm.internal.tls.NativeSslContext;
import dev.loriffm.internal.tls.SslContextAccess;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
     * @param client       the client's last {@link SslSession#handshake} result (0 when done)
     * @param server       the server's last result
     * @param verifyResult the client's {@code X509_V_*} verification result
     * @param clientErrors the error queue the client's failing call left (empty unless it failed)
     * @param serverErrors the error queue the server's failing call left
     */
    record Outcome(int client, int server, long verifyResult, List<OpenSsl.SslError> clientErrors,
                   List<OpenSsl.SslError> serverErrors) {
        boolean succeeded() {
            return client == 0 && server == 0;
        }
    }

    private final NativeScratch scratch = new NativeScratch();
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buffer = arena.allocate(16 * 1024);
    private final NativeSslContext clientContext;
    private final NativeSslContext serverContext;
    private final SslSession client;
    private final SslSession server;

    /**
     * @param host the name the client connects to: sent as SNI and, if the client context verifies
     *             host names, required in the server's certificate
     */
    MemoryTlsPair(SslContext clientContext, SslContext serverContext, String host) {
        this.clientContext = SslContextAccess.of(clientContext);
        this.serverContext = SslContextAccess.of(serverContext);
        assertTrue(this.clientContext.acquire(), "client context open");
        assertTrue(this.serverContext.acquire(), "server context open");
        List<OpenSsl.SslError> errors = new ArrayList<>();
        client = SslSession.create(this.clientContext.sslCtx(), true, errors);
        server = SslSession.create(this.serverContext.sslCtx(), false, errors);
        assertNotNull(client, errors::toString);
        assertNotNull(server, errors::toString);
        assertTrue(client.serverName(host, this.clientContext.hostnameVerification()));
    }

    /** Offers a saved client session before the handshake. */
    void resume(MemorySegment session) {
        client.resume(session);
    }

    /** Runs both handshakes until both finish or one fails. */
    Outcome handshake() {
        int c = SslSession.WANT_INPUT;
        int s = SslSession.WANT_INPUT;
        List<OpenSsl.SslError> clientErrors = new ArrayList<>();
        List<OpenSsl.SslError> serverErrors = new ArrayList<>();
        for (int step = 0; step < MAX_STEPS; step++) {
            if (c != 0) {
                c = client.handshake(scratch);
                // Taken per side, straight after the call: the next TLS call on this thread may clear it.
                if (isFailure(c)) {
                    clientErrors.addAll(client.lastErrors());
                }
            }
            pump(client, server);
            // A side that failed sent an alert; one more step lets the other side read it.
            if (s != 0 && !isFailure(s)) {
                s = server.handshake(scratch);
                if (isFailure(s)) {
                    serverErrors.addAll(server.lastErrors());
                }
            }
            pump(server, client);
            if (isFailure(c) || isFailure(s) || c == 0 && s == 0) {
                return new Outcome(c, s, client.verifyResult(), clientErrors, serverErrors);
            }
        }
        throw new AssertionError("handshake made no progress in " + MAX_STEPS + " steps: client " + c
                + ", server " + s);
    }

    static boolean isFailure(int code) {
        return code == SslSession.FAILED || code == SslSession.AUTH_FAILED;
    }

    /** Lets the client read what the server sent after the handshake (TLS 1.3 session tickets). */
    void clientReadsPostHandshakeMessages() {
        pump(server, client);
        long r = client.read(scratch, buffer);
        assertEquals(SslSession.WANT_INPUT, r, "no application data was sent");
    }

    /** {@return the client's session if resumable (free it with {@code SslSession.freeSession}), else NULL} */
    MemorySegment clientSession() {
        return client.resumableSession();
    }

    /** {@return whether the client resumed a session} */
    boolean clientResumed() {
        return client.resumed();
    }

    /** {@return whether the server resumed a session} */
    boolean serverResumed() {
        return server.resumed();
    }

    /** {@return the protocol ALPN agreed on as the client sees it, or null} */
    String clientAlpn() {
        return client.alpn().isEmpty() ? null : client.alpn();
    }

    /** {@return the protocol ALPN agreed on as the server sees it, or null} */
    String serverAlpn() {
        return server.alpn().isEmpty() ? null : server.alpn();
    }

    /** {@return the negotiated protocol version, e.g. "TLSv1.3"} */
    String version() {
        return client.protocol();
    }

    /** Moves everything {@code from} wants to send into {@code to}'s input. */
    private void pump(SslSession from, SslSession to) {
        int n;
        while ((n = from.drainOutput(buffer)) > 0) {
            assertEquals(n, to.feed(buffer.asSlice(0, n)));
        }
    }

    /**
     * Shuts both sides down with close_notify before freeing them: OpenSSL marks the session of a
     * connection freed without a shutdown as not resumable (a truncated connection's session must
     * not be reused).
     */
    @Override
    public void close() {
        client.closeNotify(scratch);
        server.closeNotify(scratch);
        // Shutting down a connection whose handshake failed queues errors; they belong to no test.
        OpenSsl.drainErrors();
        client.close();
        server.close();
        clientContext.release();
        serverContext.release();
        arena.close();
        scratch.close();
    }
}
