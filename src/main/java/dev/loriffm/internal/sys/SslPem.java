package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.openssl_h;
import dev.loriffm.internal.bindings.pem_password_cb;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * PEM input held in memory (certificate chains, private keys, trusted certificates) loaded into an
 * {@code SSL_CTX}, and the password callback every key load uses, files included.
 *
 * <p>Passwords reach OpenSSL through one process-wide {@code pem_password_cb} upcall whose
 * {@code userdata} points at a native {@code [int length][bytes]} block (see {@link #password});
 * a {@code NULL} userdata means "no password", and the callback then fails instead of letting
 * OpenSSL prompt on the terminal.
 *
 * <p>Thread-safe: stateless. Each call configures one {@code SSL_CTX} that no other thread uses
 * yet, and reads the calling thread's error queue. Calls returning {@code List<SslError>} return
 * an empty list on success and the drained, never empty, error queue on failure.
 */
public final class SslPem {
    private static final int PEM_LIB = openssl_h.ERR_LIB_PEM();
    private static final int NO_START_LINE = openssl_h.PEM_R_NO_START_LINE();

    private SslPem() { }

    private static final class Callback {
        // One stub for the process: it captures nothing, so it never needs freeing.
        static final MemorySegment STUB = pem_password_cb.allocate(SslPem::supplyPassword, Arena.global());
    }

    /** {@return the {@code pem_password_cb} function pointer; its userdata is a {@link #password} block} */
    static MemorySegment passwordCallback() {
        return Callback.STUB;
    }

    /**
     * Copies a password into native memory as the callback's userdata.
     *
     * @param arena    owns the block; fill it with zeros ({@link #wipe}) once the key is loaded
     * @param password the password, or {@code null} for none
     * @return the block, or {@code NULL} when {@code password} is {@code null}
     */
    public static MemorySegment password(Arena arena, char[] password) {
        if (password == null) {
            return MemorySegment.NULL;
        }
        ByteBuffer utf8 = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        byte[] bytes = new byte[utf8.remaining()];
        utf8.get(bytes);
        if (utf8.hasArray()) {
            Arrays.fill(utf8.array(), (byte) 0);
        }
        MemorySegment block = arena.allocate(Integer.BYTES + bytes.length + 1L);
        block.set(ValueLayout.JAVA_INT, 0, bytes.length);
        MemorySegment.copy(bytes, 0, block, ValueLayout.JAVA_BYTE, Integer.BYTES, bytes.length);
        Arrays.fill(bytes, (byte) 0);
        return block;
    }

    /** Overwrites a {@link #password} block with zeros; {@code NULL} is ignored. */
    public static void wipe(MemorySegment passwordBlock) {
        if (!passwordBlock.equals(MemorySegment.NULL)) {
            passwordBlock.fill((byte) 0);
        }
    }

    /**
     * The upcall: copies the password into OpenSSL's buffer. Never throws: any failure, a missing
     * password, or one longer than the buffer is reported as -1, which OpenSSL turns into
     * {@code PEM_R_BAD_PASSWORD_READ} / {@code PROV_R_UNABLE_TO_GET_PASSPHRASE}.
     */
    @SuppressWarnings("restricted")
    private static int supplyPassword(MemorySegment buf, int size, int rwflag, MemorySegment userdata) {
        try {
            if (userdata.equals(MemorySegment.NULL)) {
                return -1;
            }
            int length = userdata.reinterpret(Integer.BYTES).get(ValueLayout.JAVA_INT, 0);
            if (length < 0 || length > size) {
                return -1;
            }
            MemorySegment.copy(userdata.reinterpret(Integer.BYTES + (long) length), Integer.BYTES,
                    buf.reinterpret(size), 0, length);
            return length;
        } catch (Throwable t) {
            // An exception escaping an upcall kills the JVM.
            return -1;
        }
    }

    /**
     * Makes the context's key loads use the password callback with no password, so that an
     * encrypted key never makes OpenSSL prompt on a terminal.
     */
    static void installPasswordCallback(MemorySegment ctx) {
        openssl_h.SSL_CTX_set_default_passwd_cb(ctx, passwordCallback());
        openssl_h.SSL_CTX_set_default_passwd_cb_userdata(ctx, MemorySegment.NULL);
    }

    /**
     * Sets the leaf certificate and any intermediates from PEM text: the first certificate is the
     * leaf, the rest form the chain sent to peers.
     */
    public static List<OpenSsl.SslError> useCertificateChain(MemorySegment ctx, Arena arena, String pem) {
        MemorySegment bio = memoryBio(arena, pem);
        if (bio.equals(MemorySegment.NULL)) {
            return SslContexts.failure("BIO_new_mem_buf");
        }
        try {
            MemorySegment leaf = openssl_h.PEM_read_bio_X509_AUX(bio, MemorySegment.NULL, passwordCallback(),
                    MemorySegment.NULL);
            if (leaf.equals(MemorySegment.NULL)) {
                return SslContexts.failure("PEM_read_bio_X509_AUX");
            }
            int used = openssl_h.SSL_CTX_use_certificate(ctx, leaf);
            openssl_h.X509_free(leaf);
            if (used != 1) {
                return SslContexts.failure("SSL_CTX_use_certificate");
            }
            MemorySegment next;
            while (!(next = readCertificate(bio)).equals(MemorySegment.NULL)) {
                boolean added = SslMacros.add1ChainCert(ctx, next);
                openssl_h.X509_free(next);
                if (!added) {
                    return SslContexts.failure("SSL_CTX_add1_chain_cert");
                }
            }
            return endOfInput("PEM_read_bio_X509");
        } finally {
            openssl_h.BIO_free(bio);
        }
    }

    /**
     * Sets the private key from PEM text (PKCS#8, encrypted or not, or a traditional key).
     *
     * @param password a {@link #password} block, or {@code NULL}
     */
    public static List<OpenSsl.SslError> usePrivateKey(MemorySegment ctx, Arena arena, String pem,
                                                       MemorySegment password) {
        MemorySegment text = copy(arena, pem);
        MemorySegment bio = openssl_h.BIO_new_mem_buf(text, (int) text.byteSize() - 1);
        if (bio.equals(MemorySegment.NULL)) {
            return SslContexts.failure("BIO_new_mem_buf");
        }
        try {
            MemorySegment key = openssl_h.PEM_read_bio_PrivateKey(bio, MemorySegment.NULL, passwordCallback(),
                    password);
            if (key.equals(MemorySegment.NULL)) {
                return SslContexts.failure("PEM_read_bio_PrivateKey");
            }
            int used = openssl_h.SSL_CTX_use_PrivateKey(ctx, key);
            openssl_h.EVP_PKEY_free(key);
            return used == 1 ? List.of() : SslContexts.failure("SSL_CTX_use_PrivateKey");
        } finally {
            openssl_h.BIO_free(bio);
            // The arena's memory is not cleared when it is freed; a key must not linger there.
            text.fill((byte) 0);
        }
    }

    /**
     * Adds every certificate in PEM text to the context's trust store.
     *
     * @param clientCaList also name them in the server's certificate request (servers only)
     * @return the errors, or an empty list; PEM text with no certificate is an error
     */
    public static List<OpenSsl.SslError> addTrustedCertificates(MemorySegment ctx, Arena arena, String pem,
                                                                boolean clientCaList) {
        return addCertificates(ctx, arena, pem, true, clientCaList);
    }

    /**
     * Server: names every certificate in PEM text in the certificate request, appending to the
     * names already there (unlike {@code SSL_CTX_set_client_CA_list}, which replaces them).
     */
    static List<OpenSsl.SslError> addClientCaNames(MemorySegment ctx, Arena arena, String pem) {
        return addCertificates(ctx, arena, pem, false, true);
    }

    private static List<OpenSsl.SslError> addCertificates(MemorySegment ctx, Arena arena, String pem, boolean trust,
                                                          boolean clientCaList) {
        MemorySegment bio = memoryBio(arena, pem);
        if (bio.equals(MemorySegment.NULL)) {
            return SslContexts.failure("BIO_new_mem_buf");
        }
        try {
            MemorySegment store = openssl_h.SSL_CTX_get_cert_store(ctx);
            int count = 0;
            MemorySegment cert;
            while (!(cert = readCertificate(bio)).equals(MemorySegment.NULL)) {
                count++;
                boolean added = (!trust || openssl_h.X509_STORE_add_cert(store, cert) == 1)
                        && (!clientCaList || openssl_h.SSL_CTX_add_client_CA(ctx, cert) == 1);
                openssl_h.X509_free(cert);
                if (!added) {
                    return SslContexts.failure(trust ? "X509_STORE_add_cert" : "SSL_CTX_add_client_CA");
                }
            }
            // With no certificate at all, "no start line" is the error to report, not the end of input.
            return count == 0 ? SslContexts.failure("PEM_read_bio_X509") : endOfInput("PEM_read_bio_X509");
        } finally {
            openssl_h.BIO_free(bio);
        }
    }

    private static MemorySegment readCertificate(MemorySegment bio) {
        return openssl_h.PEM_read_bio_X509(bio, MemorySegment.NULL, passwordCallback(), MemorySegment.NULL);
    }

    /**
     * A read loop over PEM blocks ends with {@code PEM_R_NO_START_LINE}: that alone is the normal
     * end of input and is cleared; anything else (a corrupt block) is the failure.
     */
    private static List<OpenSsl.SslError> endOfInput(String call) {
        List<OpenSsl.SslError> errors = OpenSsl.drainErrors();
        if (errors.isEmpty()) {
            return List.of();
        }
        OpenSsl.SslError last = errors.getLast();
        if (errors.size() == 1 && last.library() == PEM_LIB && last.reason() == NO_START_LINE) {
            return List.of();
        }
        return SslContexts.withFallback(errors, call);
    }

    /** {@return a read-only memory BIO over a copy of {@code text} in {@code arena}, or NULL} */
    private static MemorySegment memoryBio(Arena arena, String text) {
        MemorySegment data = copy(arena, text);
        return openssl_h.BIO_new_mem_buf(data, (int) data.byteSize() - 1);
    }

    /** {@return {@code text} as NUL-terminated UTF-8 in {@code arena}; its size counts the NUL} */
    private static MemorySegment copy(Arena arena, String text) {
        return arena.allocateFrom(text, StandardCharsets.UTF_8);
    }
}
