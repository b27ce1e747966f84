package dev.loriffm.internal.tls;

import dev.loriffm.internal.sys.OpenSsl;
import dev.loriffm.internal.sys.SslAlpn;
import dev.loriffm.internal.sys.SslContexts;
import dev.loriffm.internal.sys.SslErrorCauses;
import dev.loriffm.internal.sys.SslPem;
import dev.loriffm.tls.SslContext;
import dev.loriffm.tls.SslContextError;
import dev.loriffm.tls.SslContextResult;
import dev.loriffm.tls.TlsVersion;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Builds the native context for a {@link TlsConfig}: checks it ({@link ConfigChecks}), creates
 * the {@code SSL_CTX}, applies every setting, and turns the first failure into a typed
 * {@link SslContextError}, freeing everything it made. Each failing step is classified by what it
 * was doing and by scanning OpenSSL's whole error queue ({@link SslErrorCauses}).
 *
 * <p>Thread-safe: each call works on its own context on the calling thread, whose OpenSSL error
 * queue it drains first so that no earlier entry is blamed on this build.
 */
public final class NativeSslContexts {
    private static final String CHAIN = "certificate chain";
    private static final String KEY = "private key";
    private static final String TRUST = "trusted certificates";

    private NativeSslContexts() { }

    /**
     * Builds a context.
     *
     * @param config the settings
     * @param wrap   makes the public context around the native one (called only on success)
     * @return the built context, or why there is none
     */
    public static SslContextResult create(TlsConfig config, Function<NativeSslContext, SslContext> wrap) {
        if (OpenSsl.availability() instanceof OpenSsl.Unavailable(String reason)) {
            return new SslContextError.OpenSslUnavailable(reason);
        }
        SslContextError invalid = ConfigChecks.check(config);
        if (invalid != null) {
            return invalid;
        }
        OpenSsl.drainErrors();
        MemorySegment ctx = SslContexts.create(config.client());
        if (ctx.equals(MemorySegment.NULL)) {
            return new SslContextError.Other("SSL_CTX_new: " + SslErrorCauses.text(SslContexts.creationFailure()));
        }
        Arena contextArena = Arena.ofShared();
        SslContextError error;
        try (Arena buildArena = Arena.ofConfined()) {
            error = configure(ctx, contextArena, buildArena, config);
        } catch (RuntimeException | Error e) {
            SslContexts.free(ctx);
            contextArena.close();
            throw e;
        }
        if (error != null) {
            SslContexts.free(ctx);
            contextArena.close();
            return error;
        }
        NativeSslContext built = new NativeSslContext(ctx, contextArena, config.client(), config.verifyPeer(),
                config.hostnameVerification(), config.client() && config.sessionResumption());
        return new SslContextResult.Built(wrap.apply(built));
    }

    private static SslContextError configure(MemorySegment ctx, Arena contextArena, Arena arena, TlsConfig config) {
        SslContextError error = versions(ctx, config);
        if (error == null && config.ciphers() != null) {
            error = cipherFailure(config.ciphers(), SslContexts.setCipherList(ctx, arena, config.ciphers()));
        }
        if (error == null && config.cipherSuites() != null) {
            error = cipherFailure(config.cipherSuites(),
                    SslContexts.setCipherSuites(ctx, arena, config.cipherSuites()));
        }
        if (error == null && config.groups() != null) {
            List<OpenSsl.SslError> errors = SslContexts.setGroups(ctx, arena, config.groups());
            error = errors.isEmpty() ? null : new SslContextError.UnknownGroup(config.groups(),
                    SslErrorCauses.text(errors));
        }
        if (error == null && config.certificate() != null) {
            error = certificate(ctx, arena, config.certificate());
        }
        if (error == null) {
            error = trust(ctx, arena, config);
        }
        if (error == null) {
            SslContexts.setVerify(ctx, config.verifyPeer(), config.requirePeerCertificate(), config.verifyDepth());
            error = alpn(ctx, contextArena, arena, config);
        }
        if (error == null) {
            error = other("session resumption",
                    SslContexts.setSessionResumption(ctx, config.client(), config.sessionResumption()));
        }
        return error;
    }

    private static SslContextError versions(MemorySegment ctx, TlsConfig config) {
        List<OpenSsl.SslError> errors = SslContexts.setProtocolVersions(ctx, wireVersion(config.minimumVersion()),
                wireVersion(config.maximumVersion()));
        return errors.isEmpty() ? null : new SslContextError.UnsupportedVersion(config.minimumVersion(),
                config.maximumVersion(), SslErrorCauses.text(errors));
    }

    private static int wireVersion(TlsVersion version) {
        return switch (version) {
            case TLS_1_0 -> SslContexts.TLS1_0_VERSION;
            case TLS_1_1 -> SslContexts.TLS1_1_VERSION;
            case TLS_1_2 -> SslContexts.TLS1_2_VERSION;
            case TLS_1_3 -> SslContexts.TLS1_3_VERSION;
        };
    }

    private static SslContextError cipherFailure(String list, List<OpenSsl.SslError> errors) {
        return errors.isEmpty() ? null : new SslContextError.UnknownCipher(list, SslErrorCauses.text(errors));
    }

    private static SslContextError certificate(MemorySegment ctx, Arena arena, TlsConfig.CertificateSource source) {
        MemorySegment password = SslPem.password(arena, source.password());
        try {
            SslContextError error = switch (source) {
                case TlsConfig.CertificateFiles(Path chain, Path key, char[] _) -> {
                    SslContextError e = loadFailure(CHAIN, chain,
                            SslContexts.useCertificateChainFile(ctx, arena, chain));
                    yield e != null ? e : loadFailure(KEY, key,
                            SslContexts.usePrivateKeyFile(ctx, arena, key, password));
                }
                case TlsConfig.CertificatePem(String chain, String key, char[] _) -> {
                    SslContextError e = loadFailure(CHAIN, null, SslPem.useCertificateChain(ctx, arena, chain));
                    yield e != null ? e : loadFailure(KEY, null, SslPem.usePrivateKey(ctx, arena, key, password));
                }
            };
            if (error != null) {
                return error;
            }
        } finally {
            SslPem.wipe(password);
        }
        // A key of another type than the certificate's loads into its own slot; only this check sees it.
        List<OpenSsl.SslError> errors = SslContexts.checkPrivateKey(ctx);
        return errors.isEmpty() ? null : new SslContextError.KeyDoesNotMatchCertificate(SslErrorCauses.text(errors));
    }

    /**
     * Classifies a failed load of PEM input: a system error on a file means it cannot be read, then
     * a password problem, then a key that does not match; anything else is unusable PEM.
     *
     * @param file the file read, or {@code null} for PEM text
     */
    private static SslContextError loadFailure(String what, Path file, List<OpenSsl.SslError> errors) {
        if (errors.isEmpty()) {
            return null;
        }
        String text = SslErrorCauses.text(errors);
        if (file != null && SslErrorCauses.isFileError(errors)) {
            return new SslContextError.FileNotFound(file, text);
        }
        if (SslErrorCauses.isBadPassword(errors)) {
            return new SslContextError.BadPassword(text);
        }
        if (SslErrorCauses.isKeyMismatch(errors)) {
            return new SslContextError.KeyDoesNotMatchCertificate(text);
        }
        return new SslContextError.InvalidPem(what, text);
    }

    private static SslContextError trust(MemorySegment ctx, Arena arena, TlsConfig config) {
        // A server names its trusted CAs in the certificate request so clients can pick a certificate.
        boolean clientCaList = !config.client() && config.verifyPeer();
        for (TlsConfig.TrustSource source : config.trust()) {
            SslContextError error = switch (source) {
                case TlsConfig.TrustLocation(Path path) -> loadFailure(TRUST, path, Files.isDirectory(path)
                        ? SslContexts.loadVerifyDir(ctx, arena, path)
                        : SslContexts.loadVerifyFile(ctx, arena, path, clientCaList));
                case TlsConfig.TrustPem(String pem) ->
                        loadFailure(TRUST, null, SslPem.addTrustedCertificates(ctx, arena, pem, clientCaList));
                case TlsConfig.SystemTrust() -> other("system trust store", SslContexts.useSystemTrust(ctx));
            };
            if (error != null) {
                return error;
            }
        }
        if (config.client() && config.verifyPeer() && config.trust().isEmpty()) {
            // A verifying client given no trust source trusts what the system trusts.
            return other("system trust store", SslContexts.useSystemTrust(ctx));
        }
        return null;
    }

    private static SslContextError alpn(MemorySegment ctx, Arena contextArena, Arena arena, TlsConfig config) {
        if (config.alpn() == null) {
            return null;
        }
        byte[] wire = SslAlpn.wireFormat(config.alpn());
        if (!config.client()) {
            SslAlpn.acceptInOrder(ctx, contextArena, wire);
            return null;
        }
        List<OpenSsl.SslError> errors = SslAlpn.offer(ctx, arena, wire);
        return errors.isEmpty() ? null : new SslContextError.InvalidAlpn(SslErrorCauses.text(errors));
    }

    private static SslContextError other(String what, List<OpenSsl.SslError> errors) {
        return errors.isEmpty() ? null : new SslContextError.Other(what + ": " + SslErrorCauses.text(errors));
    }
}
