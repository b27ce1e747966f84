package dev.loriffm.examples;

import dev.loriffm.tls.SslContext;
import dev.loriffm.tls.SslContextBuilder;
import dev.loriffm.tls.SslContextError;
import dev.loriffm.tls.SslContextResult;

import java.nio.file.Path;
import java.util.List;

/**
 * The certificate options the TLS examples share ({@code --cert}, {@code --key},
 * {@code --key-password}, {@code --ca}) and the contexts built from them. A context that cannot be
 * built is reported with the option at fault, e.g.
 * {@code cannot load --key: wrong password: <OpenSSL's text>}.
 *
 * <p>Immutable after {@link #parse}; used from {@code main} only.
 */
final class TlsOptions {
    /** The usage lines of the four options, for the examples' {@code --help}. */
    static final String USAGE = """
              --cert FILE             certificate chain (PEM): the leaf first, then intermediates
              --key FILE              the certificate's private key (PEM)
              --key-password PW       the key's password, if it is encrypted
              --ca FILE               trusted certificates (PEM file, or a directory after openssl rehash)
            """;

    /** The certificate chain, or {@code null}. */
    final Path cert;
    /** The private key, or {@code null}; given exactly when {@link #cert} is. */
    final Path key;
    /** The key's password, or {@code null}. */
    final String keyPassword;
    /** The trusted certificates, or {@code null}. */
    final Path ca;

    TlsOptions(Path cert, Path key, String keyPassword, Path ca) {
        this.cert = cert;
        this.key = key;
        this.keyPassword = keyPassword;
        this.ca = ca;
    }

    /** Reads the four options from {@code args}; exits 2 if only one of --cert and --key is given. */
    static TlsOptions parse(String name, Args args) {
        Path cert = path(args, "--cert");
        Path key = path(args, "--key");
        String password = args.string("--key-password", null);
        Path ca = path(args, "--ca");
        if (cert != null && key == null) {
            Args.fail(name, "option --cert needs --key (the certificate's private key)");
        }
        if (key != null && cert == null) {
            Args.fail(name, "option --key needs --cert (the certificate it belongs to)");
        }
        if (password != null && key == null) {
            Args.fail(name, "option --key-password needs --key");
        }
        return new TlsOptions(cert, key, password, ca);
    }

    private static Path path(Args args, String option) {
        String value = args.string(option, null);
        return value == null ? null : Path.of(value);
    }

    /** {@return these options with {@code cert}, {@code key} and {@code ca} filled in where absent} */
    TlsOptions orElse(Path fallbackCert, Path fallbackKey, Path fallbackCa) {
        return new TlsOptions(cert != null ? cert : fallbackCert, cert != null ? key : fallbackKey,
                cert != null ? keyPassword : null, ca != null ? ca : fallbackCa);
    }

    /**
     * Builds a server context from {@code --cert}/{@code --key}. With {@code --ca}, client
     * certificates are requested and verified against it; {@code requireClientCertificate} also
     * fails handshakes without one.
     *
     * @param alpn the protocols to accept in preference order, or empty for no ALPN
     */
    SslContextResult server(boolean requireClientCertificate, List<String> alpn) {
        SslContextBuilder builder = SslContext.server();
        withCertificate(builder);
        if (ca != null) {
            builder.trustedCertificates(ca).verifyPeer(true);
            if (requireClientCertificate) {
                builder.requireClientCertificate();
            }
        }
        if (!alpn.isEmpty()) {
            builder.alpn(alpn);
        }
        return builder.build();
    }

    /**
     * Builds a client context: it verifies the server against {@code --ca}, or against the system
     * trust store without it, unless {@code insecure}; it presents {@code --cert} if asked for one.
     */
    SslContextResult client(boolean insecure) {
        SslContextBuilder builder = SslContext.client();
        withCertificate(builder);
        if (insecure) {
            builder.insecureNoVerification();
        } else if (ca != null) {
            builder.trustedCertificates(ca);
        } else {
            builder.systemTrustStore();
        }
        return builder.build();
    }

    private void withCertificate(SslContextBuilder builder) {
        if (cert != null) {
            builder.certificateChain(cert, key, keyPassword == null ? null : keyPassword.toCharArray());
        }
    }

    /**
     * {@return the context in {@code result}} If there is none, prints {@code name: } and
     * {@link #describe} of the error on stderr and exits 1.
     */
    SslContext orExit(String name, SslContextResult result) {
        SslContext context = orReport(name, result);
        if (context == null) {
            System.exit(1);
        }
        return context;
    }

    /**
     * {@return the context in {@code result}, or {@code null}} If there is none, prints
     * {@code name: } and {@link #describe} of the error on stderr.
     */
    SslContext orReport(String name, SslContextResult result) {
        return switch (result) {
            case SslContextResult.Built(SslContext context) -> context;
            case SslContextError error -> {
                System.err.println(name + ": " + describe(error));
                System.err.flush();
                yield null;
            }
        };
    }

    /** {@return {@code error} as one line naming the option that caused it} */
    String describe(SslContextError error) {
        return switch (error) {
            case SslContextError.FileNotFound(Path path, String text) -> "cannot load " + option(path) + ": " + text;
            case SslContextError.BadPassword(String text) -> "cannot load --key: "
                    + (keyPassword == null ? "it is encrypted and no --key-password was given" : "wrong password")
                    + ": " + text;
            case SslContextError.KeyDoesNotMatchCertificate(String text) ->
                    "cannot load --key: it is not the private key of the --cert certificate: " + text;
            case SslContextError.InvalidPem(String what, String text) ->
                    "cannot load " + pemOption(what) + ": no usable " + what + " in it: " + text;
            case SslContextError.InvalidAlpn(String reason) -> "invalid --alpn: " + reason;
            case SslContextError.UnknownCipher u -> error.message();
            case SslContextError.UnknownGroup u -> error.message();
            case SslContextError.UnsupportedVersion u -> error.message();
            case SslContextError.IncompleteConfiguration u -> error.message();
            case SslContextError.OpenSslUnavailable u -> error.message();
            case SslContextError.Other u -> error.message();
        };
    }

    /** {@return {@code --cert FILE} (or --key, --ca) for a file the builder was given} */
    private String option(Path path) {
        String option = path.equals(cert) ? "--cert " : path.equals(key) ? "--key " : path.equals(ca) ? "--ca " : "";
        return option + path;
    }

    private static String pemOption(String what) {
        return switch (what) {
            case "certificate chain" -> "--cert";
            case "private key" -> "--key";
            case "trusted certificates" -> "--ca";
            default -> "the " + what;
        };
    }
}
