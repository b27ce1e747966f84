package dev.loriffm.internal.tls;

import dev.loriffm.internal.sys.SslAlpn;
import dev.loriffm.internal.sys.SslContexts;
import dev.loriffm.tls.SslContextError;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The checks of a {@link TlsConfig} that need no OpenSSL call: files can be read, lists are not
 * empty, ALPN names fit the wire format, the version range is not empty, and a server has what it
 * needs. They run before any native state exists, so their errors carry plain descriptions.
 *
 * <p>Thread-safe: stateless.
 */
final class ConfigChecks {
    private ConfigChecks() { }

    /** {@return the first problem found, or {@code null} if the configuration may go to OpenSSL} */
    static SslContextError check(TlsConfig config) {
        SslContextError error = checkCertificate(config);
        if (error == null) {
            error = checkTrust(config);
        }
        if (error == null && config.minimumVersion().compareTo(config.maximumVersion()) > 0) {
            error = new SslContextError.UnsupportedVersion(config.minimumVersion(), config.maximumVersion(),
                    "the minimum version is above the maximum");
        }
        if (error == null) {
            error = checkLists(config);
        }
        if (error == null && config.alpn() != null) {
            error = checkAlpn(config.alpn());
        }
        return error;
    }

    private static SslContextError checkCertificate(TlsConfig config) {
        if (config.certificate() == null) {
            return config.client() ? null : new SslContextError.IncompleteConfiguration(
                    "a server needs a certificate chain and its private key");
        }
        if (config.certificate() instanceof TlsConfig.CertificateFiles(Path chain, Path key, char[] _)) {
            SslContextError error = readable(chain);
            return error != null ? error : readable(key);
        }
        return null;
    }

    private static SslContextError checkTrust(TlsConfig config) {
        for (TlsConfig.TrustSource source : config.trust()) {
            if (source instanceof TlsConfig.TrustLocation(Path path)) {
                if (!Files.exists(path)) {
                    return new SslContextError.FileNotFound(path, SslContexts.noSuchFileReason());
                }
                if (!Files.isDirectory(path)) {
                    SslContextError error = readable(path);
                    if (error != null) {
                        return error;
                    }
                }
            }
        }
        if (!config.client() && config.verifyPeer() && config.trust().isEmpty()) {
            return new SslContextError.IncompleteConfiguration(
                    "a server that verifies client certificates needs trusted certificates");
        }
        return null;
    }

    private static SslContextError readable(Path file) {
        String reason = SslContexts.unreadableFileReason(file);
        return reason == null ? null : new SslContextError.FileNotFound(file, reason);
    }

    private static SslContextError checkLists(TlsConfig config) {
        if (config.ciphers() != null && config.ciphers().isBlank()) {
            return new SslContextError.UnknownCipher(config.ciphers(), "the cipher list is empty");
        }
        if (config.cipherSuites() != null && config.cipherSuites().isBlank()) {
            return new SslContextError.UnknownCipher(config.cipherSuites(), "the TLS 1.3 cipher suite list is empty");
        }
        if (config.groups() != null && config.groups().isBlank()) {
            return new SslContextError.UnknownGroup(config.groups(), "the group list is empty");
        }
        return null;
    }

    private static SslContextError checkAlpn(List<String> protocols) {
        if (protocols.isEmpty()) {
            return new SslContextError.InvalidAlpn("the protocol list is empty");
        }
        int total = 0;
        for (String name : protocols) {
            int bytes = name.getBytes(StandardCharsets.UTF_8).length;
            if (bytes < 1 || bytes > SslAlpn.MAX_NAME_BYTES) {
                return new SslContextError.InvalidAlpn("protocol \"" + name + "\" has " + bytes
                        + " bytes; a name has 1.." + SslAlpn.MAX_NAME_BYTES);
            }
            total += 1 + bytes;
        }
        if (total > SslAlpn.MAX_LIST_BYTES) {
            return new SslContextError.InvalidAlpn("the list needs " + total + " bytes; at most "
                    + SslAlpn.MAX_LIST_BYTES + " fit");
        }
        return null;
    }
}
