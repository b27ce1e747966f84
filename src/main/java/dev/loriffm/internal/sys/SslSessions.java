package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.openssl_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;

/**
 * One TLS connection ({@code SSL*}) driven through two memory BIOs: the application puts bytes
 * read from the network into the inbound BIO and takes bytes to send from the outbound BIO, so
 * OpenSSL never touches the socket.
 *
 * <p>Results of the I/O calls ({@link #handshake}, {@link #read}, {@link #write},
 * {@link #shutdown}) are {@code SSL_get_error} codes, named by the constants below; read and
 * write return a positive byte count or the negated code. After {@link #ERROR_SSL} or
 * {@link #ERROR_SYSCALL} the calling thread's error queue holds the reasons: drain it
 * ({@link OpenSsl#drainErrors()}) before the next TLS call on that thread, or that call may
 * misreport.
 *
 * <p><b>Not thread-safe:</b> an {@code SSL*} belongs to one thread at a time (a connection's
 * loop), and the {@link NativeScratch} passed in is confined to that thread.
 */
public final class SslSessions {
    /** The call succeeded. */
    public static final int ERROR_NONE = openssl_h.SSL_ERROR_NONE();
    /** A protocol error: the connection is unusable; the error queue says why. */
    public static final int ERROR_SSL = openssl_h.SSL_ERROR_SSL();
    /** More network input is needed: put bytes into the inbound BIO and call again. */
    public static final int ERROR_WANT_READ = openssl_h.SSL_ERROR_WANT_READ();
    /** Output is pending: take it from the outbound BIO and call again. */
    public static final int ERROR_WANT_WRITE = openssl_h.SSL_ERROR_WANT_WRITE();
    /** An unrecoverable I/O error, including end of input without close_notify (truncation). */
    public static final int ERROR_SYSCALL = openssl_h.SSL_ERROR_SYSCALL();
    /** The peer sent close_notify: no more data will come. */
    public static final int ERROR_ZERO_RETURN = openssl_h.SSL_ERROR_ZERO_RETURN();

    private static final int HOST_FLAGS = openssl_h.X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS();

    private SslSessions() { }

    /**
     * Creates a connection over two fresh memory BIOs, which it owns.
     *
     * @param ctx    the context; OpenSSL keeps its own reference for the connection's life
     * @param client connect (client) or accept (server) state
     * @return the {@code SSL*}, or {@code NULL} (drain the error queue)
     */
    public static MemorySegment create(MemorySegment ctx, boolean client) {
        MemorySegment ssl = openssl_h.SSL_new(ctx);
        if (ssl.equals(MemorySegment.NULL)) {
            return ssl;
        }
        MemorySegment inbound = openssl_h.BIO_new(openssl_h.BIO_s_mem());
        MemorySegment outbound = openssl_h.BIO_new(openssl_h.BIO_s_mem());
        if (inbound.equals(MemorySegment.NULL) || outbound.equals(MemorySegment.NULL)) {
            freeBio(inbound);
            freeBio(outbound);
            openssl_h.SSL_free(ssl);
            return MemorySegment.NULL;
        }
        // An empty memory BIO reports "retry" (-1) until inboundEnded marks the end of input.
        SslMacros.bioSetMemEofReturn(inbound, -1);
        openssl_h.SSL_set_bio(ssl, inbound, outbound);
        if (client) {
            openssl_h.SSL_set_connect_state(ssl);
        } else {
            openssl_h.SSL_set_accept_state(ssl);
        }
        return ssl;
    }

    private static void freeBio(MemorySegment bio) {
        if (!bio.equals(MemorySegment.NULL)) {
            openssl_h.BIO_free(bio);
        }
    }

    /** Frees a connection and its BIOs ({@code SSL_free}). */
    public static void free(MemorySegment ssl) {
        openssl_h.SSL_free(ssl);
    }

    /**
     * Client: sends {@code host} as the server name (SNI), unless it is an IP literal, which SNI
     * does not allow.
     *
     * @return true on success or for an IP literal
     */
    public static boolean setServerName(MemorySegment ssl, String host) {
        if (isIpLiteral(host)) {
            return true;
        }
        try (Arena arena = Arena.ofConfined()) {
            return SslMacros.setTlsextHostName(ssl, arena.allocateFrom(host));
        }
    }

    /**
     * Client: makes verification also require the server certificate to name {@code host}: a DNS
     * name (subject alternative names, no partial wildcards) or an IP address literal. Effective
     * only when the context verifies the peer.
     *
     * @return true on success
     */
    public static boolean setExpectedHost(MemorySegment ssl, String host) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(host);
            if (isIpLiteral(host)) {
                return openssl_h.X509_VERIFY_PARAM_set1_ip_asc(openssl_h.SSL_get0_param(ssl), name) == 1;
            }
            openssl_h.SSL_set_hostflags(ssl, HOST_FLAGS);
            return openssl_h.SSL_set1_host(ssl, name) == 1;
        }
    }

    private static boolean isIpLiteral(String host) {
        try {
            InetAddress.ofLiteral(host);
            return true;
        } catch (IllegalArgumentException notAnAddress) {
            return false;
        }
    }

    /** {@return {@link #ERROR_NONE} once the handshake is complete, else the {@code SSL_get_error} code} */
    public static int handshake(NativeScratch scratch, MemorySegment ssl) {
        int r = openssl_h.SSL_do_handshake(scratch.capture(), ssl);
        return r == 1 ? ERROR_NONE : openssl_h.SSL_get_error(ssl, r);
    }

    /** {@return the number of plaintext bytes read into {@code dst} (> 0), or the negated error code} */
    public static long read(NativeScratch scratch, MemorySegment ssl, MemorySegment dst) {
        MemorySegment count = scratch.word();
        int r = openssl_h.SSL_read_ex(scratch.capture(), ssl, dst, dst.byteSize(), count);
        return r == 1 ? count.get(ValueLayout.JAVA_LONG, 0) : -openssl_h.SSL_get_error(ssl, r);
    }

    /**
     * {@return the number of plaintext bytes of {@code src} taken (> 0; fewer than all is a
     * partial write), or the negated error code}
     */
    public static long write(NativeScratch scratch, MemorySegment ssl, MemorySegment src) {
        MemorySegment count = scratch.word();
        int r = openssl_h.SSL_write_ex(scratch.capture(), ssl, src, src.byteSize(), count);
        return r == 1 ? count.get(ValueLayout.JAVA_LONG, 0) : -openssl_h.SSL_get_error(ssl, r);
    }

    /**
     * Sends close_notify (once) and reports whether the peer's has arrived.
     *
     * @return 1 when both directions are shut down, 0 when ours is sent and the peer's is awaited,
     *         or the negated error code
     */
    public static int shutdown(NativeScratch scratch, MemorySegment ssl) {
        int r = openssl_h.SSL_shutdown(scratch.capture(), ssl);
        return r >= 0 ? r : -openssl_h.SSL_get_error(ssl, r);
    }

    /** {@return the {@code errno} of the last I/O call through {@code scratch}, for {@link #ERROR_SYSCALL}} */
    public static int lastErrno(NativeScratch scratch) {
        return scratch.errno();
    }

    /**
     * Hands bytes received from the network to OpenSSL.
     *
     * @return the number of bytes taken (all of them: a memory BIO grows), or -1 on failure
     */
    public static int putInbound(MemorySegment ssl, MemorySegment src) {
        if (src.byteSize() == 0) {
            return 0;
        }
        return openssl_h.BIO_write(openssl_h.SSL_get_rbio(ssl), src, Math.toIntExact(src.byteSize()));
    }

    /** Marks the end of network input: once buffered bytes are consumed, reads see end of file. */
    public static void inboundEnded(MemorySegment ssl) {
        SslMacros.bioSetMemEofReturn(openssl_h.SSL_get_rbio(ssl), 0);
    }

    /** {@return how many bytes wait in the outbound BIO to be sent} */
    public static long pendingOutbound(MemorySegment ssl) {
        return openssl_h.BIO_ctrl_pending(openssl_h.SSL_get_wbio(ssl));
    }

    /** {@return the number of bytes moved from the outbound BIO into {@code dst}; 0 if none wait} */
    public static int takeOutbound(MemorySegment ssl, MemorySegment dst) {
        MemorySegment wbio = openssl_h.SSL_get_wbio(ssl);
        if (openssl_h.BIO_ctrl_pending(wbio) == 0 || dst.byteSize() == 0) {
            return 0;
        }
        int r = openssl_h.BIO_read(wbio, dst, (int) Math.min(dst.byteSize(), Integer.MAX_VALUE));
        return Math.max(r, 0);
    }

    /** {@return the verification result, {@code X509_V_OK} (0) or an {@code X509_V_ERR_*} code} */
    public static long verifyResult(MemorySegment ssl) {
        return openssl_h.SSL_get_verify_result(ssl);
    }

    /** {@return the text of an {@code X509_V_*} code, e.g. "certificate has expired"} */
    public static String verifyResultText(long code) {
        return CStrings.read(openssl_h.X509_verify_cert_error_string(code), 256);
    }

    /** {@return the negotiated protocol version, e.g. "TLSv1.3"} */
    public static String protocolVersion(MemorySegment ssl) {
        return CStrings.read(openssl_h.SSL_get_version(ssl), 64);
    }

    /** {@return whether the handshake resumed an earlier session} */
    public static boolean sessionReused(MemorySegment ssl) {
        return openssl_h.SSL_session_reused(ssl) == 1;
    }

    /**
     * {@return a new reference to the connection's session if it can be resumed, else {@code NULL};
     * free it with {@link #freeSession}} With TLS 1.3 a session becomes resumable only once a
     * ticket arrived, after the handshake, so ask after the first read.
     */
    public static MemorySegment session(MemorySegment ssl) {
        MemorySegment session = openssl_h.SSL_get1_session(ssl);
        if (!session.equals(MemorySegment.NULL) && openssl_h.SSL_SESSION_is_resumable(session) != 1) {
            openssl_h.SSL_SESSION_free(session);
            return MemorySegment.NULL;
        }
        return session;
    }

    /** Offers a saved session before a client's handshake; the connection takes its own reference. */
    public static boolean resume(MemorySegment ssl, MemorySegment session) {
        return openssl_h.SSL_set_session(ssl, session) == 1;
    }

    /** Drops a reference taken by {@link #session}. */
    public static void freeSession(MemorySegment session) {
        openssl_h.SSL_SESSION_free(session);
    }
}
