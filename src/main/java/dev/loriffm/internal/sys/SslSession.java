package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.openssl_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.util.List;

/**
 * One TLS session over two OpenSSL memory BIOs: ciphertext from the socket is fed in with
 * {@link #feed}, ciphertext to send is taken out with {@link #drainOutput}, and plaintext passes
 * through {@link #read}/{@link #write}. The transport stays in Java, so the same session serves a
 * TLS connection from its first byte and a STARTTLS upgrade of a plaintext one.
 *
 * <p>Results are {@code int}/{@code long} codes: a byte count ({@code >= 0}) or one of the negative
 * {@code WANT_INPUT}, {@code CLOSED}, {@code FAILED}, {@code AUTH_FAILED} constants.
 *
 * <p>Loop-confined: not thread-safe. {@link #close()} frees the {@code SSL} (and its BIOs) exactly once.
 */
public final class SslSession implements AutoCloseable {
    /** The operation needs more ciphertext from the peer ({@code SSL_ERROR_WANT_READ}). */
    public static final int WANT_INPUT = -1;
    /** The peer sent close_notify ({@code SSL_ERROR_ZERO_RETURN}). */
    public static final int CLOSED = -2;
    /** A protocol or internal error; the session is unusable. */
    public static final int FAILED = -3;
    /** The handshake failed because the peer's certificate did not verify. */
    public static final int AUTH_FAILED = -4;

    private static final int ERROR_WANT_READ = openssl_h.SSL_ERROR_WANT_READ();
    private static final int ERROR_WANT_WRITE = openssl_h.SSL_ERROR_WANT_WRITE();
    private static final int ERROR_ZERO_RETURN = openssl_h.SSL_ERROR_ZERO_RETURN();
    private static final long X509_V_OK = openssl_h.X509_V_OK();

    private MemorySegment ssl;
    private final MemorySegment rbio;
    private final MemorySegment wbio;
    private List<OpenSsl.SslError> lastErrors = List.of();

    private SslSession(MemorySegment ssl, MemorySegment rbio, MemorySegment wbio) {
        this.ssl = ssl;
        this.rbio = rbio;
        this.wbio = wbio;
        NativeAccounting.sslSessionCreated();
    }

    /**
     * Creates a session from {@code sslCtx} in client or server mode, with its memory BIOs.
     *
     * @return the session, or null (the OpenSSL error queue drained into {@code errors}) on failure
     */
    public static SslSession create(MemorySegment sslCtx, boolean client, List<OpenSsl.SslError> errors) {
        openssl_h.ERR_clear_error();
        MemorySegment ssl = openssl_h.SSL_new(sslCtx);
        if (ssl.equals(MemorySegment.NULL)) {
            errors.addAll(OpenSsl.drainErrors());
            return null;
        }
        MemorySegment rbio = openssl_h.BIO_new(openssl_h.BIO_s_mem());
        MemorySegment wbio = openssl_h.BIO_new(openssl_h.BIO_s_mem());
        if (rbio.equals(MemorySegment.NULL) || wbio.equals(MemorySegment.NULL)) {
            errors.addAll(OpenSsl.drainErrors());
            if (!rbio.equals(MemorySegment.NULL)) {
                openssl_h.BIO_free(rbio);
            }
            if (!wbio.equals(MemorySegment.NULL)) {
                openssl_h.BIO_free(wbio);
            }
            openssl_h.SSL_free(ssl);
            return null;
        }
        // An empty input BIO means "wait for more", never end of stream.
        SslMacros.bioSetMemEofReturn(rbio, -1);
        openssl_h.SSL_set_bio(ssl, rbio, wbio); // the SSL owns both BIOs from here on
        if (client) {
            openssl_h.SSL_set_connect_state(ssl);
        } else {
            openssl_h.SSL_set_accept_state(ssl);
        }
        return new SslSession(ssl, rbio, wbio);
    }

    /**
     * Creates a session that reads and writes the socket {@code fd} itself ({@code SSL_set_fd}, a
     * socket BIO: the design that can hand records to kernel TLS). {@link #feed} and
     * {@link #drainOutput} do not apply to it. Used to measure the two designs against each other.
     *
     * @return the session, or null (errors in {@code errors}) on failure
     */
    public static SslSession createOnSocket(MemorySegment sslCtx, boolean client, int fd,
                                            List<OpenSsl.SslError> errors) {
        openssl_h.ERR_clear_error();
        MemorySegment ssl = openssl_h.SSL_new(sslCtx);
        if (ssl.equals(MemorySegment.NULL) || openssl_h.SSL_set_fd(ssl, fd) != 1) {
            errors.addAll(OpenSsl.drainErrors());
            if (!ssl.equals(MemorySegment.NULL)) {
                openssl_h.SSL_free(ssl);
            }
            return null;
        }
        if (client) {
            openssl_h.SSL_set_connect_state(ssl);
        } else {
            openssl_h.SSL_set_accept_state(ssl);
        }
        return new SslSession(ssl, MemorySegment.NULL, MemorySegment.NULL);
    }

    /**
     * Client side: the name to verify the server's certificate against and, unless it is an IP
     * literal, to send as SNI.
     *
     * @param verifyName whether certificate verification must also match this name
     * @return true on success, false if OpenSSL refused the name
     */
    public boolean serverName(String host, boolean verifyName) {
        boolean ipLiteral = isIpLiteral(host);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(host);
            if (!ipLiteral && !SslMacros.setTlsextHostName(ssl, name)) {
                lastErrors = OpenSsl.drainErrors();
                return false;
            }
            if (verifyName) {
                int r = ipLiteral
                        ? openssl_h.X509_VERIFY_PARAM_set1_ip_asc(openssl_h.SSL_get0_param(ssl), name)
                        : openssl_h.SSL_set1_host(ssl, name);
                if (r != 1) {
                    lastErrors = OpenSsl.drainErrors();
                    return false;
                }
            }
        }
        return true;
    }

    /** {@return whether {@code host} is a numeric IPv4 or IPv6 address (no SNI for those)} */
    static boolean isIpLiteral(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.isEmpty() || !(Character.digit(h.charAt(0), 16) >= 0 || h.charAt(0) == ':')) {
            return false;
        }
        if (!h.chars().allMatch(ch -> Character.digit(ch, 16) >= 0 || ch == '.' || ch == ':' || ch == '%')) {
            return false;
        }
        try {
            // Only digits, dots, colons and hex letters remain, so this parses and never looks up a name.
            InetAddress.ofLiteral(h);
            return true;
        } catch (IllegalArgumentException notAnAddress) {
            return false;
        }
    }

    /**
     * Advances the handshake with the ciphertext fed so far.
     *
     * @return 0 when complete, {@link #WANT_INPUT}, {@link #AUTH_FAILED} or {@link #FAILED}
     */
    public int handshake(NativeScratch scratch) {
        openssl_h.ERR_clear_error();
        int r = openssl_h.SSL_do_handshake(scratch.capture(), ssl);
        if (r == 1) {
            return 0;
        }
        int error = openssl_h.SSL_get_error(ssl, r);
        if (error == ERROR_WANT_READ || error == ERROR_WANT_WRITE) {
            return WANT_INPUT;
        }
        lastErrors = OpenSsl.drainErrors();
        return verifyResult() != X509_V_OK ? AUTH_FAILED : FAILED;
    }

    /**
     * Decrypts into the native segment {@code into}.
     *
     * @return bytes of plaintext, {@link #WANT_INPUT}, {@link #CLOSED} or {@link #FAILED}
     */
    public long read(NativeScratch scratch, MemorySegment into) {
        if (into.byteSize() == 0) {
            return 0;
        }
        openssl_h.ERR_clear_error();
        MemorySegment count = scratch.word();
        int r = openssl_h.SSL_read_ex(scratch.capture(), ssl, into, into.byteSize(), count);
        if (r == 1) {
            return count.get(ValueLayout.JAVA_LONG, 0);
        }
        int error = openssl_h.SSL_get_error(ssl, r);
        if (error == ERROR_WANT_READ || error == ERROR_WANT_WRITE) {
            return WANT_INPUT;
        }
        if (error == ERROR_ZERO_RETURN) {
            return CLOSED;
        }
        lastErrors = OpenSsl.drainErrors();
        return FAILED;
    }

    /**
     * Encrypts the native segment {@code plaintext} into the output BIO.
     *
     * @return the bytes consumed (all of them: a memory BIO never pushes back), or {@link #FAILED}
     */
    public long write(NativeScratch scratch, MemorySegment plaintext) {
        if (plaintext.byteSize() == 0) {
            return 0;
        }
        openssl_h.ERR_clear_error();
        MemorySegment count = scratch.word();
        int r = openssl_h.SSL_write_ex(scratch.capture(), ssl, plaintext, plaintext.byteSize(), count);
        if (r == 1) {
            return count.get(ValueLayout.JAVA_LONG, 0);
        }
        lastErrors = OpenSsl.drainErrors();
        return FAILED;
    }

    /**
     * Hands ciphertext received from the peer to the session ({@code data} may be a heap segment).
     *
     * @return the bytes taken (all, for a memory BIO), or {@link #FAILED}
     */
    public int feed(MemorySegment data) {
        int length = Math.toIntExact(data.byteSize());
        if (length == 0) {
            return 0;
        }
        int r = openssl_h.BIO_write(rbio, data, length);
        return r == length ? r : FAILED;
    }

    /** {@return the bytes of ciphertext waiting to be sent} */
    public long pendingOutput() {
        return openssl_h.BIO_ctrl_pending(wbio);
    }

    /**
     * Moves waiting ciphertext into {@code out} (a heap or native segment).
     *
     * @return the bytes moved (0 if none waited)
     */
    public int drainOutput(MemorySegment out) {
        int length = (int) Math.min(out.byteSize(), Integer.MAX_VALUE);
        if (length == 0 || openssl_h.BIO_ctrl_pending(wbio) == 0) {
            return 0;
        }
        int r = openssl_h.BIO_read(wbio, out, length);
        return Math.max(r, 0);
    }

    /** Queues close_notify into the output BIO ({@code SSL_shutdown}); drain it with {@link #drainOutput}. */
    public void closeNotify(NativeScratch scratch) {
        openssl_h.ERR_clear_error();
        openssl_h.SSL_shutdown(scratch.capture(), ssl);
        openssl_h.ERR_clear_error();
    }

    /** {@return the peer-certificate verification result ({@code X509_V_OK} = 0 when it verified)} */
    public long verifyResult() {
        return openssl_h.SSL_get_verify_result(ssl);
    }

    /** {@return the text of a verification result, e.g. "certificate has expired"} */
    public static String verifyResultText(long result) {
        return CStrings.read(openssl_h.X509_verify_cert_error_string(result), 256);
    }

    /** {@return the OpenSSL errors of the last failed operation, oldest first} */
    public List<OpenSsl.SslError> lastErrors() {
        return lastErrors;
    }

    /** {@return the negotiated protocol, e.g. "TLSv1.3"} */
    public String protocol() {
        return CStrings.read(openssl_h.SSL_get_version(ssl), 64);
    }

    /** {@return the negotiated cipher suite, e.g. "TLS_AES_256_GCM_SHA384", or ""} */
    public String cipher() {
        MemorySegment cipher = openssl_h.SSL_get_current_cipher(ssl);
        return cipher.equals(MemorySegment.NULL) ? "" : CStrings.read(openssl_h.SSL_CIPHER_get_name(cipher), 128);
    }

    /** {@return the ALPN protocol both sides agreed on, or "" if none} */
    public String alpn() {
        String selected = SslAlpn.selected(ssl);
        return selected == null ? "" : selected;
    }

    /** {@return what the peer presented: certificate subject, alternative names, chain subjects} */
    public SslPeerCertificates.Peer peer() {
        return SslPeerCertificates.read(ssl);
    }

    /** Offers an earlier session ({@code SSL_SESSION*}) for resumption; OpenSSL takes its own reference. */
    public void resume(MemorySegment sslSession) {
        openssl_h.SSL_set_session(ssl, sslSession);
        openssl_h.ERR_clear_error();
    }

    /**
     * {@return this session's {@code SSL_SESSION*} with a reference the caller owns, or NULL if it
     * cannot be resumed} Take it after a clean shutdown: freeing an {@code SSL} that did not shut
     * down marks its session unusable.
     */
    public MemorySegment resumableSession() {
        MemorySegment session = openssl_h.SSL_get1_session(ssl);
        if (session.equals(MemorySegment.NULL)) {
            return session;
        }
        if (openssl_h.SSL_SESSION_is_resumable(session) != 1) {
            openssl_h.SSL_SESSION_free(session);
            return MemorySegment.NULL;
        }
        return session;
    }

    /** Drops a reference to an {@code SSL_SESSION*}. */
    public static void freeSession(MemorySegment sslSession) {
        openssl_h.SSL_SESSION_free(sslSession);
    }

    /** {@return whether the session was resumed rather than fully negotiated} */
    public boolean resumed() {
        return openssl_h.SSL_session_reused(ssl) == 1;
    }

    /** Frees the session and its BIOs. Idempotent. */
    @Override
    public void close() {
        if (ssl != null) {
            openssl_h.SSL_free(ssl);
            ssl = null;
            NativeAccounting.sslSessionFreed();
        }
    }
}
