package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.openssl_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenSSL 3 as a whole: whether it can be loaded, its version, initialisation, and the thread's
 * error queue as typed values.
 *
 * <p>The libraries ({@code libssl.so.3}, {@code libcrypto.so.3}) load on first use, so plaintext
 * programs never need them. Thread-safe: OpenSSL's initialisation is idempotent and thread-safe,
 * and its error queue is per thread.
 */
public final class OpenSsl {
    /** The lowest OpenSSL the bindings are generated for: 3.0.0, as {@code OpenSSL_version_num()} encodes it. */
    static final long MINIMUM_VERSION_NUMBER = 0x3000_0000L;

    /** Whether OpenSSL can be used here. */
    public sealed interface Availability permits Available, Unavailable { }

    /**
     * OpenSSL is loaded and initialised.
     *
     * @param version       {@code OpenSSL_version(OPENSSL_VERSION)}, e.g. {@code "OpenSSL 3.0.19 27 Jan 2026"}
     * @param versionNumber {@code OpenSSL_version_num()}, {@code 0xMNN00PP0L}
     */
    public record Available(String version, long versionNumber) implements Availability { }

    /**
     * OpenSSL cannot be used.
     *
     * @param reason why: the library did not load, is too old, or did not initialise
     */
    public record Unavailable(String reason) implements Availability { }

    /**
     * One entry of OpenSSL's error queue.
     *
     * @param code    the packed error code
     * @param library {@code ERR_GET_LIB(code)}, e.g. {@code ERR_LIB_SSL}
     * @param reason  {@code ERR_GET_REASON(code)}; the errno value for system errors
     * @param system  whether this is a system error (its reason is an errno)
     * @param text    {@code ERR_error_string_n(code)}, e.g. {@code "error:80000002:system library::No such file or directory"}
     */
    public record SslError(long code, int library, int reason, boolean system, String text) { }

    private static final int ERROR_TEXT_BYTES = 256;

    private OpenSsl() { }

    private static final class Holder {
        static final Availability AVAILABILITY = load();
    }

    /** {@return whether OpenSSL 3 is usable, loading and initialising it on the first call} */
    public static Availability availability() {
        return Holder.AVAILABILITY;
    }

    private static Availability load() {
        try {
            long number = openssl_h.OpenSSL_version_num();
            String version = CStrings.read(openssl_h.OpenSSL_version(openssl_h.OPENSSL_VERSION()), 256);
            if (Long.compareUnsigned(number, MINIMUM_VERSION_NUMBER) < 0) {
                return new Unavailable("OpenSSL 3.0 or later is required, found " + version);
            }
            long options = openssl_h.OPENSSL_INIT_LOAD_SSL_STRINGS() | openssl_h.OPENSSL_INIT_LOAD_CRYPTO_STRINGS();
            if (openssl_h.OPENSSL_init_ssl(options, MemorySegment.NULL) != 1) {
                return new Unavailable("OPENSSL_init_ssl failed: " + drainErrors());
            }
            return new Available(version, number);
        } catch (UnsatisfiedLinkError | ExceptionInInitializerError | NoClassDefFoundError
                 | IllegalArgumentException e) {
            // libraryLookup throws IllegalArgumentException for a library that cannot be loaded,
            // which surfaces as an initialisation error of the bindings' symbol holder.
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return new Unavailable("cannot load libssl.so.3 / libcrypto.so.3: " + cause.getMessage());
        }
    }

    /**
     * Removes and returns every entry of the calling thread's OpenSSL error queue, oldest first.
     * Callers read the whole queue: the last entry is often generic ({@code ERR_R_PEM_LIB}) while an
     * earlier one names the cause.
     */
    public static List<SslError> drainErrors() {
        List<SslError> errors = new ArrayList<>();
        long code;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(ERROR_TEXT_BYTES);
            while ((code = openssl_h.ERR_get_error()) != 0) {
                openssl_h.ERR_error_string_n(code, text, ERROR_TEXT_BYTES);
                errors.add(new SslError(code, SslMacros.errGetLib(code), SslMacros.errGetReason(code),
                        SslMacros.errIsSystem(code), CStrings.read(text, ERROR_TEXT_BYTES)));
            }
        }
        return errors;
    }
}
