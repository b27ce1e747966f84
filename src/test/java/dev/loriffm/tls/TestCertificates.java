package dev.loriffm.tls;

import dev.loriffm.testing.Project;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Certificates and keys for TLS tests, made once per JVM with the real {@code openssl} command in
 * a temporary folder that is deleted when the JVM exits. Every certificate but the self-signed one
 * is issued by one test CA (ECDSA P-256):
 * <ul>
 *   <li>server: {@code CN=localhost}, SANs {@code DNS:localhost}, {@code IP:127.0.0.1}, {@code IP:::1}</li>
 *   <li>client: {@code CN=lori-ffm test client}, for client authentication</li>
 *   <li>expired: like the server's, valid only on 1 January 2020</li>
 *   <li>wrong host: SAN {@code DNS:wrong.example.test} only</li>
 *   <li>self-signed: like the server's, but issued by itself, so nobody trusts it</li>
 *   <li>RSA: an RSA-2048 certificate for localhost, and its key, to pair with the wrong key type</li>
 * </ul>
 * The server key also exists encrypted (PKCS#8, AES-256-CBC) with {@link #PASSWORD}.
 *
 * <p>Thread-safe: made once under the class initialisation lock.
 */
public final class TestCertificates {
    /** The password of {@link #encryptedServerKey()}. */
    static final String PASSWORD = "correct horse battery staple";

    private static final long TIMEOUT_SECONDS = 120;
    private static final String SERVER_SANS = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1";

    private TestCertificates() { }

    private static final class Made {
        static final Path DIR = make();
    }

    /** {@return the folder holding every file} */
    public static Path dir() {
        return Made.DIR;
    }

    /** {@return the CA's certificate (PEM): trust it to accept every certificate but the self-signed one} */
    public static Path caCertificate() {
        return dir().resolve("ca.pem");
    }

    /** {@return a directory holding the CA certificate in OpenSSL's hashed layout} */
    public static Path caDirectory() {
        return dir().resolve("ca-dir");
    }

    /** {@return the server certificate for localhost, 127.0.0.1 and ::1} */
    public static Path serverCertificate() {
        return dir().resolve("server.pem");
    }

    /** {@return the server's private key, unencrypted (PKCS#8)} */
    public static Path serverKey() {
        return dir().resolve("server.key");
    }

    /** {@return the server's private key, encrypted with {@link #PASSWORD} (PKCS#8, AES-256-CBC)} */
    public static Path encryptedServerKey() {
        return dir().resolve("server-encrypted.key");
    }

    /** {@return the client certificate} */
    public static Path clientCertificate() {
        return dir().resolve("client.pem");
    }

    /** {@return the client's private key (an EC key like the server's: a same-type mismatch for it)} */
    public static Path clientKey() {
        return dir().resolve("client.key");
    }

    /** {@return a localhost certificate that expired on 2 January 2020} */
    public static Path expiredCertificate() {
        return dir().resolve("expired.pem");
    }

    /** {@return the expired certificate's key} */
    public static Path expiredKey() {
        return dir().resolve("expired.key");
    }

    /** {@return a certificate issued by the CA for {@code wrong.example.test} only} */
    public static Path wrongHostCertificate() {
        return dir().resolve("wrong-host.pem");
    }

    /** {@return the wrong-host certificate's key} */
    public static Path wrongHostKey() {
        return dir().resolve("wrong-host.key");
    }

    /** {@return a self-signed localhost certificate nobody trusts} */
    public static Path selfSignedCertificate() {
        return dir().resolve("self-signed.pem");
    }

    /** {@return the self-signed certificate's key} */
    public static Path selfSignedKey() {
        return dir().resolve("self-signed.key");
    }

    /** {@return an RSA-2048 certificate for localhost issued by the CA} */
    public static Path rsaCertificate() {
        return dir().resolve("rsa.pem");
    }

    /** {@return the RSA certificate's key (an RSA key: the wrong type for the EC certificates)} */
    public static Path rsaKey() {
        return dir().resolve("rsa.key");
    }

    /** {@return the text of a fixture file} */
    public static String pem(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path make() {
        try {
            Path dir = Files.createTempDirectory("lori-ffm-certs");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            makeIn(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while making certificates", e);
        }
    }

    private static void makeIn(Path dir) throws IOException, InterruptedException {
        ecKey(dir, "ca.key");
        openssl(dir, "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=lori-ffm test CA", "-days", "3650",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", "ca.pem");
        Files.createDirectory(dir.resolve("ca-dir"));
        Files.copy(dir.resolve("ca.pem"), dir.resolve("ca-dir/ca.pem"));
        openssl(dir, "rehash", "ca-dir");

        issue(dir, "server", "/CN=localhost", SERVER_SANS, "serverAuth", 2);
        openssl(dir, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "server.key", "-passout", "pass:" + PASSWORD,
                "-out", "server-encrypted.key");
        issue(dir, "client", "/CN=lori-ffm test client", "subjectAltName=DNS:client.test", "clientAuth", 3);
        issue(dir, "wrong-host", "/CN=wrong.example.test", "subjectAltName=DNS:wrong.example.test", "serverAuth", 4);

        openssl(dir, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key");
        csr(dir, "rsa", "/CN=localhost", SERVER_SANS, "serverAuth");
        sign(dir, "rsa", 5);

        ecKey(dir, "self-signed.key");
        openssl(dir, "req", "-x509", "-new", "-key", "self-signed.key", "-subj", "/CN=localhost", "-days", "3650",
                "-addext", SERVER_SANS, "-out", "self-signed.pem");

        makeExpired(dir);
    }

    /**
     * {@code openssl x509 -req} in 3.0 cannot set a validity period in the past ({@code -not_before}
     * arrived in 3.4), but {@code openssl ca} takes explicit {@code -startdate}/{@code -enddate},
     * given a minimal CA configuration and database.
     */
    private static void makeExpired(Path dir) throws IOException, InterruptedException {
        ecKey(dir, "expired.key");
        csr(dir, "expired", "/CN=localhost", SERVER_SANS, "serverAuth");
        Path ca = Files.createDirectory(dir.resolve("ca-db"));
        Files.writeString(ca.resolve("index.txt"), "");
        Files.writeString(ca.resolve("serial"), "1000\n");
        Files.writeString(dir.resolve("ca.cnf"), String.join("\n",
                "[ ca ]", "default_ca = test_ca",
                "[ test_ca ]", "dir = ./ca-db", "database = $dir/index.txt", "new_certs_dir = $dir",
                "serial = $dir/serial", "default_md = sha256", "policy = any_name", "unique_subject = no",
                "copy_extensions = copy",
                "[ any_name ]", "commonName = supplied", ""));
        openssl(dir, "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                "-in", "expired.csr", "-out", "expired.pem", "-notext",
                "-startdate", "20200101000000Z", "-enddate", "20200102000000Z");
    }

    private static void issue(Path dir, String name, String subject, String sans, String usage, int serial)
            throws IOException, InterruptedException {
        ecKey(dir, name + ".key");
        csr(dir, name, subject, sans, usage);
        sign(dir, name, serial);
    }

    private static void ecKey(Path dir, String file) throws IOException, InterruptedException {
        openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file);
    }

    private static void csr(Path dir, String name, String subject, String sans, String usage)
            throws IOException, InterruptedException {
        openssl(dir, "req", "-new", "-key", name + ".key", "-subj", subject, "-addext", sans,
                "-addext", "extendedKeyUsage=" + usage, "-out", name + ".csr");
    }

    private static void sign(Path dir, String name, int serial) throws IOException, InterruptedException {
        openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-set_serial", Integer.toString(serial), "-days", "3650", "-copy_extensions", "copy",
                "-out", name + ".pem");
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        Project.Run run = Project.run(dir, TIMEOUT_SECONDS, command);
        if (run.exitCode() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed (" + run.exitCode() + "):\n" + run.output());
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException ignored) {
            // Best effort at exit: a leftover temporary folder harms nothing.
        }
    }
}
