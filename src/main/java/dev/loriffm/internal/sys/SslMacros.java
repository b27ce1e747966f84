package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.openssl_h;

import java.lang.foreign.MemorySegment;

/**
 * OpenSSL features that exist only as function-like macros over {@code SSL_CTX_ctrl},
 * {@code SSL_ctrl} and {@code BIO_ctrl}, or as {@code static inline} functions, rewritten as typed
 * Java. Each method quotes the definition it reproduces; every command number comes from the
 * generated constants.
 *
 * <p>Thread-safe as far as OpenSSL is for the object passed: an {@code SSL_CTX} may be configured
 * by one thread before it is shared; an {@code SSL} belongs to one thread.
 */
public final class SslMacros {
    private static final int CTRL_SET_MIN_PROTO_VERSION = openssl_h.SSL_CTRL_SET_MIN_PROTO_VERSION();
    private static final int CTRL_SET_MAX_PROTO_VERSION = openssl_h.SSL_CTRL_SET_MAX_PROTO_VERSION();
    private static final int CTRL_GET_MIN_PROTO_VERSION = openssl_h.SSL_CTRL_GET_MIN_PROTO_VERSION();
    private static final int CTRL_GET_MAX_PROTO_VERSION = openssl_h.SSL_CTRL_GET_MAX_PROTO_VERSION();
    private static final int CTRL_MODE = openssl_h.SSL_CTRL_MODE();
    private static final int CTRL_SET_SESS_CACHE_MODE = openssl_h.SSL_CTRL_SET_SESS_CACHE_MODE();
    private static final int CTRL_SET_GROUPS_LIST = openssl_h.SSL_CTRL_SET_GROUPS_LIST();
    private static final int CTRL_CHAIN_CERT = openssl_h.SSL_CTRL_CHAIN_CERT();
    private static final int CTRL_SET_TLSEXT_HOSTNAME = openssl_h.SSL_CTRL_SET_TLSEXT_HOSTNAME();
    private static final int NAMETYPE_HOST_NAME = openssl_h.TLSEXT_NAMETYPE_host_name();
    private static final int BIO_CTRL_GET_KTLS_SEND = openssl_h.BIO_CTRL_GET_KTLS_SEND();
    private static final int BIO_CTRL_GET_KTLS_RECV = openssl_h.BIO_CTRL_GET_KTLS_RECV();
    private static final int BIO_C_SET_BUF_MEM_EOF_RETURN = openssl_h.BIO_C_SET_BUF_MEM_EOF_RETURN();
    private static final long ERR_SYSTEM_FLAG = Integer.toUnsignedLong(openssl_h.ERR_SYSTEM_FLAG());
    private static final long ERR_SYSTEM_MASK = Integer.toUnsignedLong(openssl_h.ERR_SYSTEM_MASK());
    private static final long ERR_LIB_OFFSET = openssl_h.ERR_LIB_OFFSET();
    private static final long ERR_LIB_MASK = openssl_h.ERR_LIB_MASK();
    private static final long ERR_REASON_MASK = openssl_h.ERR_REASON_MASK();
    private static final int ERR_LIB_SYS = openssl_h.ERR_LIB_SYS();

    private SslMacros() { }

    /**
     * {@snippet lang=c :
     * # define SSL_CTX_set_min_proto_version(ctx, version) \
     *         SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, version, NULL)
     * }
     * @param version e.g. {@code TLS1_2_VERSION}, or 0 for the lowest the library supports
     * @return true on success, false for a version OpenSSL does not know
     */
    public static boolean setMinProtoVersion(MemorySegment ctx, int version) {
        return openssl_h.SSL_CTX_ctrl(ctx, CTRL_SET_MIN_PROTO_VERSION, version, MemorySegment.NULL) == 1;
    }

    /**
     * {@snippet lang=c :
     * # define SSL_CTX_set_max_proto_version(ctx, version) \
     *         SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, version, NULL)
     * }
     * @param version e.g. {@code TLS1_3_VERSION}, or 0 for the highest the library supports
     * @return true on success, false for a version OpenSSL does not know
     */
    public static boolean setMaxProtoVersion(MemorySegment ctx, int version) {
        return openssl_h.SSL_CTX_ctrl(ctx, CTRL_SET_MAX_PROTO_VERSION, version, MemorySegment.NULL) == 1;
    }

    /**
     * {@snippet lang=c :
     * # define SSL_CTX_get_min_proto_version(ctx) \
     *         SSL_CTX_ctrl(ctx, SSL_CTRL_GET_MIN_PROTO_VERSION, 0, NULL)
     * }
     * @return the configured minimum version, 0 when unrestricted
     */
    public static int minProtoVersion(MemorySegment ctx) {
        return (int) openssl_h.SSL_CTX_ctrl(ctx, CTRL_GET_MIN_PROTO_VERSION, 0, MemorySegment.NULL);
    }

    /**
     * {@snippet lang=c :
     * # define SSL_CTX_get_max_proto_version(ctx) \
     *         SSL_CTX_ctrl(ctx, SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL)
     * }
     * @return the configured maximum version, 0 when unrestricted
     */
    public static int maxProtoVersion(MemorySegment ctx) {
        return (int) openssl_h.SSL_CTX_ctrl(ctx, CTRL_GET_MAX_PROTO_VERSION, 0, MemorySegment.NULL);
    }

    /**
     * {@snippet lang=c :
     * # define SSL_CTX_set_mode(ctx,op) SSL_CTX_ctrl((ctx),SSL_CTRL_MODE,(op),NULL)
     * }
     * @param mode {@code SSL_MODE_*} bits to add
     * @return the new mode bit mask
     */
    public static long setMode(MemorySegment ctx, long mode) {
        return openssl_h.SSL_CTX_ctrl(ctx, CTRL_MODE, mode, MemorySegment.NULL);
    }

    /**
     * {@snippet lang=c :
     * # define SSL_CTX_set_session_cache_mode(ctx,m) \
     *         SSL_CTX_ctrl(ctx,SSL_CTRL_SET_SESS_CACHE_MODE,m,NULL)
     * }
     * @param mode {@code SSL_SESS_CACHE_*} bits
     * @return the previous mode
     */
    public static long setSessionCacheMode(MemorySegment ctx, long mode) {
        return openssl_h.SSL_CTX_ctrl(ctx, CTRL_SET_SESS_CACHE_MODE, mode, MemorySegment.NULL);
    }

    /**
     * {@snippet lang=c :
     * # define SSL_CTX_set1_groups_list(ctx, s) \
     *         SSL_CTX_ctrl(ctx,SSL_CTRL_SET_GROUPS_LIST,0,(char *)(s))
     * }
     * @param groups a NUL-terminated native string such as {@code "X25519:P-256"}
     * @return true on success, false if no group in the list is known
     */
    public static boolean set1GroupsList(MemorySegment ctx, MemorySegment groups) {
        return openssl_h.SSL_CTX_ctrl(ctx, CTRL_SET_GROUPS_LIST, 0, groups) == 1;
    }

    /**
     * {@snippet lang=c :
     * # define SSL_CTX_add1_chain_cert(ctx,x509) \
     *         SSL_CTX_ctrl(ctx,SSL_CTRL_CHAIN_CERT,1,(char *)(x509))
     * }
     * Adds an intermediate certificate to the chain, taking a new reference to it.
     * @return true on success
     */
    public static boolean add1ChainCert(MemorySegment ctx, MemorySegment x509) {
        return openssl_h.SSL_CTX_ctrl(ctx, CTRL_CHAIN_CERT, 1, x509) == 1;
    }

    /**
     * {@snippet lang=c :
     * # define SSL_set_tlsext_host_name(s,name) \
     *         SSL_ctrl(s,SSL_CTRL_SET_TLSEXT_HOSTNAME,TLSEXT_NAMETYPE_host_name, (void *)name)
     * }
     * Sets the SNI name a client sends.
     * @param name a NUL-terminated native string (a host name, never an IP literal)
     * @return true on success
     */
    public static boolean setTlsextHostName(MemorySegment ssl, MemorySegment name) {
        return openssl_h.SSL_ctrl(ssl, CTRL_SET_TLSEXT_HOSTNAME, NAMETYPE_HOST_NAME, name) == 1;
    }

    /**
     * {@snippet lang=c :
     * # define BIO_get_ktls_send(b) \
     *         (BIO_ctrl(b, BIO_CTRL_GET_KTLS_SEND, 0, NULL) > 0)
     * }
     * @return whether kernel TLS carries this BIO's sends
     */
    public static boolean bioKtlsSend(MemorySegment bio) {
        return openssl_h.BIO_ctrl(bio, BIO_CTRL_GET_KTLS_SEND, 0, MemorySegment.NULL) > 0;
    }

    /**
     * {@snippet lang=c :
     * # define BIO_get_ktls_recv(b) \
     *         (BIO_ctrl(b, BIO_CTRL_GET_KTLS_RECV, 0, NULL) > 0)
     * }
     * @return whether kernel TLS carries this BIO's receives
     */
    public static boolean bioKtlsRecv(MemorySegment bio) {
        return openssl_h.BIO_ctrl(bio, BIO_CTRL_GET_KTLS_RECV, 0, MemorySegment.NULL) > 0;
    }

    /**
     * {@snippet lang=c :
     * # define BIO_set_mem_eof_return(b,v) BIO_ctrl(b,BIO_C_SET_BUF_MEM_EOF_RETURN,v,NULL)
     * }
     * @param value what a read of an empty memory BIO returns: -1 means "retry", 0 means end of stream
     */
    public static void bioSetMemEofReturn(MemorySegment bio, int value) {
        openssl_h.BIO_ctrl(bio, BIO_C_SET_BUF_MEM_EOF_RETURN, value, MemorySegment.NULL);
    }

    /**
     * {@snippet lang=c :
     * static ossl_unused ossl_inline int ERR_GET_LIB(unsigned long errcode)
     * {
     *     if (ERR_SYSTEM_ERROR(errcode))
     *         return ERR_LIB_SYS;
     *     return (errcode >> ERR_LIB_OFFSET) & ERR_LIB_MASK;
     * }
     * }
     */
    public static int errGetLib(long code) {
        if (errIsSystem(code)) {
            return ERR_LIB_SYS;
        }
        return (int) ((code >>> ERR_LIB_OFFSET) & ERR_LIB_MASK);
    }

    /**
     * {@snippet lang=c :
     * static ossl_unused ossl_inline int ERR_GET_REASON(unsigned long errcode)
     * {
     *     if (ERR_SYSTEM_ERROR(errcode))
     *         return errcode & ERR_SYSTEM_MASK;
     *     return errcode & ERR_REASON_MASK;
     * }
     * }
     * For a system error the reason is the errno value.
     */
    public static int errGetReason(long code) {
        return (int) (code & (errIsSystem(code) ? ERR_SYSTEM_MASK : ERR_REASON_MASK));
    }

    /**
     * {@snippet lang=c :
     * # define ERR_SYSTEM_ERROR(errcode)      (((errcode) & ERR_SYSTEM_FLAG) != 0)
     * }
     */
    public static boolean errIsSystem(long code) {
        return (code & ERR_SYSTEM_FLAG) != 0;
    }

    /**
     * {@snippet lang=c :
     * # define OPENSSL_free(addr) CRYPTO_free(addr, OPENSSL_FILE, OPENSSL_LINE)
     * }
     * Frees memory OpenSSL allocated and handed to the caller.
     */
    public static void openSslFree(MemorySegment pointer) {
        openssl_h.CRYPTO_free(pointer, MemorySegment.NULL, 0);
    }
}
