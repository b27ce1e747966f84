package dev.loriffm.examples;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A self-signed certificate for {@code localhost} and {@code 127.0.0.1}, valid for one day, made
 * by the {@code openssl} command in a temporary folder that {@link #close()} deletes. For examples
 * that need a certificate when none is given: a client trusts exactly this one (as {@code --ca}),
 * so verification stays on. Nothing else in the examples generates keys.
 *
 * <p>Not thread-safe: create and close it in one place.
 */
final class ThrowawayCertificate implements AutoCloseable {
    /** The command, with {@code -keyout}/{@code -out} appended. Quick: an EC P-256 key, no prompts. */
    static final List<String> OPENSSL = List.of("openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1");
    private static final long OPENSSL_SECONDS = 60;

    private final Path dir;

    private ThrowawayCertificate(Path dir) {
        this.dir = dir;
    }

    /**
     * Runs {@link #OPENSSL} into a new temporary folder.
     *
     * @throws IOException if the folder cannot be made, or openssl is missing or fails (the
     *                     message says which, with openssl's output)
     */
    static ThrowawayCertificate create() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("lori-ffm-example-cert");
        ThrowawayCertificate made = new ThrowawayCertificate(dir);
        try {
            made.generate();
            return made;
        } catch (IOException | InterruptedException | RuntimeException e) {
            made.close();
            throw e;
        }
    }

    private void generate() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(OPENSSL);
        command.addAll(List.of("-keyout", key().toString(), "-out", certificate().toString()));
        Process openssl;
        try {
            openssl = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run the openssl command to make a throwaway certificate ("
                    + e.getMessage() + "); install openssl, or pass --cert, --key and --ca", e);
        }
        try (InputStream output = openssl.getInputStream()) {
            openssl.getOutputStream().close();
            byte[] text = output.readAllBytes(); // ends when openssl exits
            if (!openssl.waitFor(OPENSSL_SECONDS, TimeUnit.SECONDS)) {
                throw new IOException("openssl did not finish within " + OPENSSL_SECONDS + " s");
            }
            if (openssl.exitValue() != 0) {
                throw new IOException("openssl failed (exit status " + openssl.exitValue() + "): "
                        + new String(text, StandardCharsets.UTF_8).strip());
            }
        } finally {
            openssl.destroyForcibly();
        }
    }

    /** {@return the certificate (PEM); also the one certificate a client should trust} */
    Path certificate() {
        return dir.resolve("cert.pem");
    }

    /** {@return the unencrypted private key (PEM)} */
    Path key() {
        return dir.resolve("key.pem");
    }

    /** {@return the folder holding both} */
    Path dir() {
        return dir;
    }

    /** {@return one line saying what was made, for the examples to print} */
    String describe() {
        return "a throwaway self-signed certificate for localhost and 127.0.0.1 (EC P-256, valid 1 day), made by "
                + "'openssl req -x509' in " + dir + " and deleted on exit";
    }

    /** Deletes the folder and both files; never throws. */
    @Override
    public void close() {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException ignored) {
            // Best effort: a leftover temporary folder harms nothing.
        }
    }
}
