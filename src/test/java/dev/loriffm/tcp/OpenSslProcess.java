package dev.loriffm.tcp;

import dev.loriffm.tls.TestCertificates;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static dev.loriffm.tcp.Loopback.WAIT_SECONDS;

/**
 * A running {@code openssl} process ({@code s_server} or {@code s_client}, under {@code stdbuf -oL}
 * so its stdout and stderr lines keep the order it printed them in): its merged output line by
 * line, read on a thread of its own, and its stdin. The TLS tests' real OpenSSL peer.
 */
final class OpenSslProcess implements AutoCloseable {
    private static final String EOF = "\u0000EOF";
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer all = new StringBuffer();
    private final Thread reader;
    private final String name;
    int port;

    OpenSslProcess(List<String> command) throws IOException {
        this.name = String.join(" ", command);
        this.process = new ProcessBuilder(command).redirectErrorStream(true).start();
        this.reader = Thread.ofPlatform().daemon().name("openssl output").start(this::readLines);
    }

    /**
     * Starts {@code openssl s_server -accept 127.0.0.1:0 <args>} and waits for its port; it serves
     * the localhost certificate unless {@code args} name another with {@code -cert}.
     */
    static OpenSslProcess server(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("stdbuf", "-oL", "openssl", "s_server",
                "-accept", "127.0.0.1:0"));
        command.addAll(Arrays.asList(args));
        if (!command.contains("-cert")) {
            command.addAll(List.of("-cert", TestCertificates.serverCertificate().toString(),
                    "-key", TestCertificates.serverKey().toString()));
        }
        OpenSslProcess server = new OpenSslProcess(command);
        try {
            String accept = server.awaitLine(line -> line.startsWith("ACCEPT "));
            server.port = Integer.parseInt(accept.substring(accept.lastIndexOf(':') + 1));
            return server;
        } catch (RuntimeException | Error | InterruptedException e) {
            server.close();
            throw e;
        }
    }

    /** Starts {@code openssl s_client} to {@code address}, verifying "localhost" against the test CA; stdin stays open. */
    static OpenSslProcess client(InetSocketAddress address, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("stdbuf", "-oL", "openssl", "s_client",
                "-connect", "127.0.0.1:" + address.getPort(), "-servername", "localhost",
                "-verify_return_error", "-CAfile", TestCertificates.caCertificate().toString()));
        command.addAll(Arrays.asList(args));
        return new OpenSslProcess(command);
    }

    private void readLines() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                all.append(line).append('\n');
                lines.add(line);
            }
        } catch (IOException e) {
            lines.add("(output lost: " + e + ")");
        } finally {
            lines.add(EOF);
        }
    }

    /** {@return the first line from now on that matches}; fails if the process exits first or is silent too long */
    String awaitLine(Predicate<String> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || line.equals(EOF)) {
                throw new AssertionError((line == null ? "no such line within " + WAIT_SECONDS + " s"
                        : "it exited") + " from " + name + "; it printed:\n" + all);
            }
            if (wanted.test(line)) {
                return line;
            }
        }
    }

    void writeStdin(String text) throws IOException {
        writeStdin(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes {@code data} to its stdin (what s_server or s_client sends to its peer in default mode). */
    void writeStdin(byte[] data) throws IOException {
        OutputStream stdin = process.getOutputStream();
        stdin.write(data);
        stdin.flush();
    }

    /**
     * Writes to stdin unless the process has already ended: against a peer that refuses the
     * handshake, s_client can exit before the test gets to write (its exit code and output tell).
     */
    void offerStdin(String text) {
        try {
            writeStdin(text);
        } catch (IOException gone) {
            // It already exited.
        }
    }

    void closeStdin() {
        try {
            process.getOutputStream().close();
        } catch (IOException gone) {
            // It already exited (a refused handshake): its exit code tells.
        }
    }

    /** {@return the exit code}, waiting for the process and its output to end */
    int awaitExit() throws InterruptedException {
        if (!process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError(name + " did not exit within " + WAIT_SECONDS + " s; it printed:\n" + all);
        }
        reader.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        return process.exitValue();
    }

    String output() {
        return all.toString();
    }

    /** SIGKILL: the kernel closes its socket with FIN, and no close_notify is ever sent. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws IOException {
        try {
            kill();
            reader.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            process.getInputStream().close();
            process.getOutputStream().close();
        }
    }
}
