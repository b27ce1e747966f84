package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.openssl_h;

import java.util.List;
import java.util.StringJoiner;

/**
 * Recognises the cause of a failed configuration call in a drained OpenSSL error queue. Each test
 * scans the whole queue: the last entry is often generic ({@code SSL routines::PEM lib}) while an
 * earlier one names the cause.
 *
 * <p>Thread-safe: stateless; the reason codes are read from the bindings once.
 */
public final class SslErrorCauses {
    private static final int LIB_PEM = openssl_h.ERR_LIB_PEM();
    private static final int LIB_PROV = openssl_h.ERR_LIB_PROV();
    private static final int LIB_EVP = openssl_h.ERR_LIB_EVP();
    private static final int LIB_PKCS12 = openssl_h.ERR_LIB_PKCS12();
    private static final int LIB_X509 = openssl_h.ERR_LIB_X509();
    private static final int LIB_SSL = openssl_h.ERR_LIB_SSL();
    private static final int INTERRUPTED_OR_CANCELLED = openssl_h.ERR_R_INTERRUPTED_OR_CANCELLED();

    private SslErrorCauses() { }

    /** {@return whether an entry is a system (errno) error: the file could not be opened or read} */
    public static boolean isFileError(List<OpenSsl.SslError> errors) {
        for (OpenSsl.SslError e : errors) {
            if (e.system()) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@return whether an entry says a key could not be decrypted: a wrong password (3.0 providers:
     * {@code PROV_R_BAD_DECRYPT}, PKCS#12 cipher final; traditional keys: {@code PEM_R_BAD_DECRYPT},
     * {@code EVP_R_BAD_DECRYPT}) or none ({@code PEM_R_BAD_PASSWORD_READ},
     * {@code PROV_R_UNABLE_TO_GET_PASSPHRASE}, a cancelled password callback)}
     */
    public static boolean isBadPassword(List<OpenSsl.SslError> errors) {
        for (OpenSsl.SslError e : errors) {
            int lib = e.library();
            int reason = e.reason();
            if (!e.system() && (reason == INTERRUPTED_OR_CANCELLED
                    || lib == LIB_PROV && (reason == openssl_h.PROV_R_BAD_DECRYPT()
                            || reason == openssl_h.PROV_R_UNABLE_TO_GET_PASSPHRASE())
                    || lib == LIB_PEM && (reason == openssl_h.PEM_R_BAD_DECRYPT()
                            || reason == openssl_h.PEM_R_BAD_PASSWORD_READ()
                            || reason == openssl_h.PEM_R_PROBLEMS_GETTING_PASSWORD())
                    || lib == LIB_EVP && reason == openssl_h.EVP_R_BAD_DECRYPT()
                    || lib == LIB_PKCS12 && reason == openssl_h.PKCS12_R_PKCS12_CIPHERFINAL_ERROR())) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@return whether an entry says the key does not belong to the certificate: same key type,
     * other key ({@code X509_R_KEY_VALUES_MISMATCH}), or another type ({@code X509_R_KEY_TYPE_MISMATCH})}
     */
    public static boolean isKeyMismatch(List<OpenSsl.SslError> errors) {
        for (OpenSsl.SslError e : errors) {
            if (!e.system() && e.library() == LIB_X509 && (e.reason() == openssl_h.X509_R_KEY_VALUES_MISMATCH()
                    || e.reason() == openssl_h.X509_R_KEY_TYPE_MISMATCH())) {
                return true;
            }
        }
        return false;
    }

    /** {@return whether an entry is {@code SSL_R_NO_CIPHER_MATCH}: a cipher list matched nothing} */
    public static boolean isNoCipherMatch(List<OpenSsl.SslError> errors) {
        for (OpenSsl.SslError e : errors) {
            if (!e.system() && e.library() == LIB_SSL && e.reason() == openssl_h.SSL_R_NO_CIPHER_MATCH()) {
                return true;
            }
        }
        return false;
    }

    /** {@return every entry's text, oldest first, joined by {@code "; "}} */
    public static String text(List<OpenSsl.SslError> errors) {
        StringJoiner all = new StringJoiner("; ");
        for (OpenSsl.SslError e : errors) {
            all.add(e.text());
        }
        return all.toString();
    }
}
