package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.net_h;
import dev.loriffm.internal.bindings.openssl_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Typed wrappers that create, configure and free an {@code SSL_CTX}: certificates and keys from
 * files, trust, peer verification, protocol bounds, ciphers, groups, sessions and the fixed
 * options every lori-ffm context carries. In-memory PEM is in {@link SslPem}, ALPN in
 * {@link SslAlpn}.
 *
 * <p>Calls returning {@code List<SslError>} return an empty list on success and, on failure, the
 * calling thread's drained OpenSSL error queue, never empty (a call that failed without queueing
 * anything is reported under its own name). Native strings are copied into the caller's arena.
 *
 * <p>Thread-safe: stateless. Configure a context on one thread before sharing it; OpenSSL's error
 * queue is per thread. Use only after {@link OpenSsl#availability()} reported OpenSSL available.
 */
public final class SslContexts {
    /** {@code TLS1_VERSION}, for the protocol bounds. */
    public static final int TLS1_0_VERSION = openssl_h.TLS1_VERSION();
    /** {@code TLS1_1_VERSION}. */
    public static final int TLS1_1_VERSION = openssl_h.TLS1_1_VERSION();
    /** {@code TLS1_2_VERSION}. */
    public static final int TLS1_2_VERSION = openssl_h.TLS1_2_VERSION();
    /** {@code TLS1_3_VERSION}. */
    public static final int TLS1_3_VERSION = openssl_h.TLS1_3_VERSION();

    /** Set on every context: no TLS compression (CRIME), no renegotiation. */
    private static final long OPTIONS = openssl_h.SSL_OP_NO_COMPRESSION() | openssl_h.SSL_OP_NO_RENEGOTIATION();
    /**
     * Cleared on every context, whatever the system's openssl.cnf says: without it a peer that
     * closes TCP without close_notify is reported as an error, so truncation is detected.
     */
    private static final long CLEARED_OPTIONS = openssl_h.SSL_OP_IGNORE_UNEXPECTED_EOF();
    /** Non-blocking writes: partial writes, a retried write may come from a moved buffer, idle buffers freed. */
    private static final long MODES = openssl_h.SSL_MODE_ENABLE_PARTIAL_WRITE()
            | openssl_h.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER() | openssl_h.SSL_MODE_RELEASE_BUFFERS();
    /** Ties a server's cached sessions to lori-ffm servers (required once client certificates are verified). */
    private static final byte[] SESSION_ID_CONTEXT = "lori-ffm".getBytes(StandardCharsets.US_ASCII);

    private static final int ENOENT = net_h.ENOENT();
    private static final int EACCES = net_h.EACCES();
    private static final int EISDIR = net_h.EISDIR();

    private SslContexts() { }

    /**
     * Creates a context with the fixed options and modes, and a password callback that never
     * prompts.
     *
     * @param client {@code TLS_client_method()} if true, else {@code TLS_server_method()}
     * @return the new {@code SSL_CTX*}, or {@code NULL} (the error queue says why)
     */
    public static MemorySegment create(boolean client) {
        MemorySegment method = client ? openssl_h.TLS_client_method() : openssl_h.TLS_server_method();
        MemorySegment ctx = openssl_h.SSL_CTX_new(method);
        if (ctx.equals(MemorySegment.NULL)) {
            return ctx;
        }
        openssl_h.SSL_CTX_set_options(ctx, OPTIONS);
        openssl_h.SSL_CTX_clear_options(ctx, CLEARED_OPTIONS);
        SslMacros.setMode(ctx, MODES);
        SslPem.installPasswordCallback(ctx);
        return ctx;
    }

    /** Drops the caller's reference to a context ({@code SSL_CTX_free}); {@code SSL}s keep their own. */
    public static void free(MemorySegment ctx) {
        openssl_h.SSL_CTX_free(ctx);
    }

    /**
     * {@return the errors from creating a context: the drained queue, or a note if it is empty}
     */
    public static List<OpenSsl.SslError> creationFailure() {
        return failure("SSL_CTX_new");
    }

    /** Sets the lowest and highest protocol version; use the {@code TLS1_*_VERSION} constants. */
    public static List<OpenSsl.SslError> setProtocolVersions(MemorySegment ctx, int minimum, int maximum) {
        if (!SslMacros.setMinProtoVersion(ctx, minimum)) {
            return failure("SSL_CTX_set_min_proto_version");
        }
        return SslMacros.setMaxProtoVersion(ctx, maximum) ? List.of() : failure("SSL_CTX_set_max_proto_version");
    }

    /** Sets the TLS 1.2-and-below cipher list ({@code SSL_CTX_set_cipher_list}). */
    public static List<OpenSsl.SslError> setCipherList(MemorySegment ctx, Arena arena, String ciphers) {
        int r = openssl_h.SSL_CTX_set_cipher_list(ctx, arena.allocateFrom(ciphers));
        return r == 1 ? List.of() : failure("SSL_CTX_set_cipher_list");
    }

    /** Sets the TLS 1.3 cipher suites ({@code SSL_CTX_set_ciphersuites}). */
    public static List<OpenSsl.SslError> setCipherSuites(MemorySegment ctx, Arena arena, String suites) {
        int r = openssl_h.SSL_CTX_set_ciphersuites(ctx, arena.allocateFrom(suites));
        return r == 1 ? List.of() : failure("SSL_CTX_set_ciphersuites");
    }

    /** Sets the key exchange groups, e.g. {@code "X25519:P-256"} ({@code SSL_CTX_set1_groups_list}). */
    public static List<OpenSsl.SslError> setGroups(MemorySegment ctx, Arena arena, String groups) {
        return SslMacros.set1GroupsList(ctx, arena.allocateFrom(groups)) ? List.of()
                : failure("SSL_CTX_set1_groups_list");
    }

    /** Loads the leaf certificate and its chain from a PEM file. */
    public static List<OpenSsl.SslError> useCertificateChainFile(MemorySegment ctx, Arena arena, Path file) {
        int r = openssl_h.SSL_CTX_use_certificate_chain_file(ctx, arena.allocateFrom(file.toString()));
        return r == 1 ? List.of() : failure("SSL_CTX_use_certificate_chain_file");
    }

    /**
     * Loads the private key from a PEM file, decrypting it with {@code password}.
     *
     * @param password an {@link SslPem#password} block, or {@code NULL}; the callback forgets it
     *                 before this returns
     */
    public static List<OpenSsl.SslError> usePrivateKeyFile(MemorySegment ctx, Arena arena, Path file,
                                                           MemorySegment password) {
        openssl_h.SSL_CTX_set_default_passwd_cb_userdata(ctx, password);
        try {
            int r = openssl_h.SSL_CTX_use_PrivateKey_file(ctx, arena.allocateFrom(file.toString()),
                    openssl_h.SSL_FILETYPE_PEM());
            return r == 1 ? List.of() : failure("SSL_CTX_use_PrivateKey_file");
        } finally {
            openssl_h.SSL_CTX_set_default_passwd_cb_userdata(ctx, MemorySegment.NULL);
        }
    }

    /** Checks that the private key belongs to the certificate ({@code SSL_CTX_check_private_key}). */
    public static List<OpenSsl.SslError> checkPrivateKey(MemorySegment ctx) {
        return openssl_h.SSL_CTX_check_private_key(ctx) == 1 ? List.of() : failure("SSL_CTX_check_private_key");
    }

    /**
     * Trusts the certificates in a PEM file.
     *
     * @param clientCaList also name them in the server's certificate request (servers only)
     */
    public static List<OpenSsl.SslError> loadVerifyFile(MemorySegment ctx, Arena arena, Path file,
                                                        boolean clientCaList) {
        if (openssl_h.SSL_CTX_load_verify_file(ctx, arena.allocateFrom(file.toString())) != 1) {
            return failure("SSL_CTX_load_verify_file");
        }
        if (!clientCaList) {
            return List.of();
        }
        // SSL_load_client_CA_file + SSL_CTX_set_client_CA_list would replace the names of earlier
        // trust sources; the names are appended one by one instead.
        try {
            // Read as Latin-1: every byte maps to one char, and PEM blocks are ASCII whatever surrounds them.
            return SslPem.addClientCaNames(ctx, arena, Files.readString(file, StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            return List.of(new OpenSsl.SslError(0, 0, 0, false, "reading " + file + ": " + e.getMessage()));
        }
    }

    /**
     * Trusts the certificates of a directory in OpenSSL's hashed layout ({@code openssl rehash}).
     * OpenSSL reads the files lazily, during verification, so a directory without usable files is
     * not an error here.
     */
    public static List<OpenSsl.SslError> loadVerifyDir(MemorySegment ctx, Arena arena, Path directory) {
        int r = openssl_h.SSL_CTX_load_verify_dir(ctx, arena.allocateFrom(directory.toString()));
        return r == 1 ? List.of() : failure("SSL_CTX_load_verify_dir");
    }

    /** Trusts the system's store (OpenSSL's default file and directory, or {@code SSL_CERT_FILE}/{@code _DIR}). */
    public static List<OpenSsl.SslError> useSystemTrust(MemorySegment ctx) {
        return openssl_h.SSL_CTX_set_default_verify_paths(ctx) == 1 ? List.of()
                : failure("SSL_CTX_set_default_verify_paths");
    }

    /**
     * Sets peer verification.
     *
     * @param verify  verify the peer's certificate ({@code SSL_VERIFY_PEER}); for a server this
     *                asks the client for one
     * @param require servers only: fail when the client sends none ({@code SSL_VERIFY_FAIL_IF_NO_PEER_CERT})
     * @param depth   the most intermediate certificates allowed between the leaf and a trust anchor
     */
    public static void setVerify(MemorySegment ctx, boolean verify, boolean require, int depth) {
        int mode = openssl_h.SSL_VERIFY_NONE();
        if (verify) {
            mode = openssl_h.SSL_VERIFY_PEER() | (require ? openssl_h.SSL_VERIFY_FAIL_IF_NO_PEER_CERT() : 0);
        }
        openssl_h.SSL_CTX_set_verify(ctx, mode, MemorySegment.NULL);
        openssl_h.SSL_CTX_set_verify_depth(ctx, depth);
    }

    /**
     * Turns session resumption on (session cache and tickets) or off.
     *
     * <p>A client's sessions are not stored in the context: a connection takes its session with
     * {@link SslSession#resumableSession} and offers it again with {@link SslSession#resume}. A server
     * keeps its cache and issues tickets, with a session id context so that sessions survive
     * client-certificate verification.
     */
    public static List<OpenSsl.SslError> setSessionResumption(MemorySegment ctx, boolean client, boolean on) {
        long mode;
        if (!on) {
            mode = openssl_h.SSL_SESS_CACHE_OFF();
            openssl_h.SSL_CTX_set_options(ctx, openssl_h.SSL_OP_NO_TICKET());
            if (!client && openssl_h.SSL_CTX_set_num_tickets(ctx, 0) != 1) {
                return failure("SSL_CTX_set_num_tickets");
            }
        } else if (client) {
            mode = openssl_h.SSL_SESS_CACHE_CLIENT() | openssl_h.SSL_SESS_CACHE_NO_INTERNAL_STORE();
        } else {
            mode = openssl_h.SSL_SESS_CACHE_SERVER();
        }
        SslMacros.setSessionCacheMode(ctx, mode);
        if (client) {
            return List.of();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = arena.allocateFrom(ValueLayout.JAVA_BYTE, SESSION_ID_CONTEXT);
            int r = openssl_h.SSL_CTX_set_session_id_context(ctx, id, SESSION_ID_CONTEXT.length);
            return r == 1 ? List.of() : failure("SSL_CTX_set_session_id_context");
        }
    }

    /**
     * Checks that a file can be opened for reading, without OpenSSL, so that configuration errors
     * are found before any native state exists.
     *
     * @return {@code null} if it can, else {@code strerror} of the reason (ENOENT, EISDIR, EACCES)
     */
    public static String unreadableFileReason(Path file) {
        if (!Files.exists(file)) {
            return Errno.message(ENOENT);
        }
        if (Files.isDirectory(file)) {
            return Errno.message(EISDIR);
        }
        return Files.isReadable(file) ? null : Errno.message(EACCES);
    }

    /** {@return {@code strerror(ENOENT)}, for a directory that does not exist} */
    public static String noSuchFileReason() {
        return Errno.message(ENOENT);
    }

    /** {@return the drained error queue, or one entry naming {@code call} if the queue is empty} */
    static List<OpenSsl.SslError> failure(String call) {
        return withFallback(OpenSsl.drainErrors(), call);
    }

    /** {@return {@code errors}, or one entry naming {@code call} if it is empty} */
    static List<OpenSsl.SslError> withFallback(List<OpenSsl.SslError> errors, String call) {
        if (!errors.isEmpty()) {
            return errors;
        }
        return List.of(new OpenSsl.SslError(0, 0, 0, false, call + " failed without an OpenSSL error"));
    }
}
