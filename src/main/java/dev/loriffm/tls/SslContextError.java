package dev.loriffm.tls;

import java.nio.file.Path;

/**
 * Why an {@link SslContext} could not be built: one record per cause. Each carries OpenSSL's error
 * text when OpenSSL found the problem (the whole error queue, oldest entry first, joined by
 * {@code "; "}), or a plain description when the input was rejected before OpenSSL saw it.
 *
 * <p>Immutable, so thread-safe.
 */
public sealed interface SslContextError extends SslContextResult {

    /** {@return one line for people: the cause and the detail} */
    String message();

    /**
     * A certificate, key or trust file is missing, not a regular file, or unreadable.
     *
     * @param path the file as given to the builder
     * @param text OpenSSL's error text, or {@code strerror} of the reason when the file was
     *             checked before OpenSSL opened it (e.g. "No such file or directory")
     */
    record FileNotFound(Path path, String text) implements SslContextError {
        @Override
        public String message() {
            return "cannot read " + path + ": " + text;
        }
    }

    /**
     * The private key is encrypted and the password is wrong, or none was given.
     *
     * @param text OpenSSL's error text (e.g. "bad decrypt", "bad password read")
     */
    record BadPassword(String text) implements SslContextError {
        @Override
        public String message() {
            return "cannot decrypt the private key (wrong or missing password): " + text;
        }
    }

    /**
     * The private key does not belong to the certificate (different key, or a different key type).
     *
     * @param text OpenSSL's error text (e.g. "key values mismatch")
     */
    record KeyDoesNotMatchCertificate(String text) implements SslContextError {
        @Override
        public String message() {
            return "the private key does not match the certificate: " + text;
        }
    }

    /**
     * PEM input holds no usable certificate or key.
     *
     * @param what which input: "certificate chain", "private key" or "trusted certificates"
     * @param text OpenSSL's error text (e.g. "no start line")
     */
    record InvalidPem(String what, String text) implements SslContextError {
        @Override
        public String message() {
            return "invalid PEM in the " + what + ": " + text;
        }
    }

    /**
     * A cipher list (TLS 1.2 and below) or TLS 1.3 cipher suite list matched no cipher OpenSSL
     * knows, or was empty. (OpenSSL skips unknown entries of a list that has known ones.)
     *
     * @param list the list as given
     * @param text OpenSSL's error text (e.g. "no cipher match")
     */
    record UnknownCipher(String list, String text) implements SslContextError {
        @Override
        public String message() {
            return "no known cipher in \"" + list + "\": " + text;
        }
    }

    /**
     * A key exchange group list named a group OpenSSL does not know, or was empty.
     *
     * @param list the list as given
     * @param text OpenSSL's error text
     */
    record UnknownGroup(String list, String text) implements SslContextError {
        @Override
        public String message() {
            return "unknown group in \"" + list + "\": " + text;
        }
    }

    /**
     * The protocol version range is empty (minimum above maximum) or OpenSSL refused a bound.
     *
     * @param minimum the requested minimum
     * @param maximum the requested maximum
     * @param text    the reason, or OpenSSL's error text
     */
    record UnsupportedVersion(TlsVersion minimum, TlsVersion maximum, String text) implements SslContextError {
        @Override
        public String message() {
            return "unsupported protocol versions " + minimum + ".." + maximum + ": " + text;
        }
    }

    /**
     * The ALPN protocol list is unusable: empty, a name outside 1..255 UTF-8 bytes, or too long.
     *
     * @param reason which name and why
     */
    record InvalidAlpn(String reason) implements SslContextError {
        @Override
        public String message() {
            return "invalid ALPN protocols: " + reason;
        }
    }

    /**
     * A setting the others depend on is missing: a server without a certificate, or a server that
     * verifies clients without trusting any certificate.
     *
     * @param reason what is missing
     */
    record IncompleteConfiguration(String reason) implements SslContextError {
        @Override
        public String message() {
            return "incomplete TLS configuration: " + reason;
        }
    }

    /**
     * OpenSSL 3 cannot be loaded here.
     *
     * @param reason why, from {@code OpenSSL} loading
     */
    record OpenSslUnavailable(String reason) implements SslContextError {
        @Override
        public String message() {
            return "OpenSSL is unavailable: " + reason;
        }
    }

    /**
     * Any other failure OpenSSL reported.
     *
     * @param text what was being done, and OpenSSL's error text
     */
    record Other(String text) implements SslContextError {
        @Override
        public String message() {
            return "cannot build the TLS context: " + text;
        }
    }
}
