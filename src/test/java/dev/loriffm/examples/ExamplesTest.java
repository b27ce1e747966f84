package dev.loriffm.examples;

import dev.loriffm.testing.FdLeakCheck;
import dev.loriffm.testing.Project;
import dev.loriffm.tls.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The runnable examples, run through {@code scripts/example} as a user runs them, against real
 * peers on loopback: the echo client against the echo server, curl and a plain JDK socket against
 * the HTTP server, the TLS examples against {@code openssl s_client}, curl over HTTPS and each
 * other (with the certificates of {@link TestCertificates}), and the demo.
 */
@ExtendWith(FdLeakCheck.class)
class ExamplesTest {
    /** Generous bound for anything that should happen promptly; never a pass condition on timing. */
    private static final long WAIT_SECONDS = 60;
    /**
     * Bound for a script to start, or to start and finish: it may first compile the examples, or
     * wait for the build lock while another run in the same tree builds.
     */
    private static final long START_SECONDS = 300;
    /** How long a finished child's pipes may take to close. */
    private static final long FD_SETTLE_SECONDS = 10;
    private static final String HELLO = "Hello, World!";
    private static final String RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\n"
            + HELLO;
    private static final String REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

    @TempDir
    Path temp;
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> stderrFiles = new ArrayList<>();
    private Set<String> fdsBefore;

    @BeforeAll
    static void compileTheExamplesAndWarmUpJdkSockets() throws Exception {
        // The JDK keeps a socket for the life of the process once sockets are used (its pre-close
        // descriptor): create it before FdLeakCheck takes its first snapshot.
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
             Socket accepted = server.accept()) {
            client.getOutputStream().write(1);
            accepted.getInputStream().read();
        }
        TestCertificates.dir(); // made with openssl child processes: before FdLeakCheck's snapshot too
        Process process = builder(List.of("demo", "--help")).redirectErrorStream(true).start();
        try {
            process.getOutputStream().close();
            CompletableFuture<byte[]> output = readAll(process.getInputStream());
            if (!process.waitFor(START_SECONDS, TimeUnit.SECONDS)) {
                fail("scripts/example demo --help did not finish within " + START_SECONDS + " s");
            }
            String text = new String(output.get(START_SECONDS, TimeUnit.SECONDS), StandardCharsets.UTF_8);
            assertEquals(0, process.exitValue(), "compiling and running the examples failed:\n" + text);
        } finally {
            process.destroyForcibly();
            process.getInputStream().close();
        }
    }

    @BeforeEach
    void recordOpenFds() {
        fdsBefore = FdLeakCheck.openFds();
    }

    @AfterEach
    void stopEveryProcess() throws Exception {
        for (Process process : processes) {
            process.destroyForcibly();
            process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS);
            process.getOutputStream().close();
            process.getInputStream().close();
            process.getErrorStream().close();
        }
        // The JDK closes a pipe of each finished child asynchronously, a moment after waitFor()
        // returns. Wait (bounded) for that to happen; FdLeakCheck then reports anything left.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FD_SETTLE_SECONDS);
        while (!newFds().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }

    private Set<String> newFds() {
        Set<String> now = new TreeSet<>(FdLeakCheck.openFds());
        now.removeAll(fdsBefore);
        now.removeIf(fd -> fd.endsWith("/fd")); // the listing's own directory descriptor
        return now;
    }

    @Test
    void echoClientGetsBackExactlyTheMebibyteItSent() throws Exception {
        Process server = start("echo-server", "--port", "0");
        int port = awaitListening(server);
        byte[] input = new byte[1 << 20];
        new Random(20261126).nextBytes(input);

        Process client = start("echo-client", "--port", Integer.toString(port));
        CompletableFuture<byte[]> output = readAll(client.getInputStream());
        try (OutputStream stdin = client.getOutputStream()) {
            stdin.write(input);
        }
        assertTrue(client.waitFor(START_SECONDS, TimeUnit.SECONDS), "echo-client did not finish");
        assertEquals(0, client.exitValue(), () -> "echo-client failed: " + stderr(client));
        byte[] echoed = output.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(input.length, echoed.length, "bytes on echo-client's stdout");
        assertArrayEquals(input, echoed);
    }

    @Test
    void echoClientWithEmptyStdinExitsZeroAndPrintsNothing() throws Exception {
        int port = awaitListening(start("echo-server"));
        Process client = start("echo-client", "--port", Integer.toString(port));
        client.getOutputStream().close();
        CompletableFuture<byte[]> output = readAll(client.getInputStream());
        assertTrue(client.waitFor(START_SECONDS, TimeUnit.SECONDS), "echo-client did not finish");
        assertEquals(0, client.exitValue(), () -> "echo-client failed: " + stderr(client));
        assertEquals(0, output.get(WAIT_SECONDS, TimeUnit.SECONDS).length);
    }

    @Test
    void echoClientToAClosedPortExitsNonZeroNamingTheReason() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress("127.0.0.1", 0));
            closedPort = probe.getLocalPort();
        }
        Process client = start("echo-client", "--port", Integer.toString(closedPort));
        client.getOutputStream().close();
        CompletableFuture<byte[]> output = readAll(client.getInputStream());
        assertTrue(client.waitFor(START_SECONDS, TimeUnit.SECONDS), "echo-client did not give up");
        assertNotEquals(0, client.exitValue());
        assertEquals(0, output.get(WAIT_SECONDS, TimeUnit.SECONDS).length, "nothing on stdout");
        String message = stderr(client);
        assertTrue(message.contains("cannot connect to 127.0.0.1:" + closedPort), message);
        assertTrue(message.contains("ECONNREFUSED"), message);
    }

    @Test
    void echoServerExitsOnSigtermAfterClosingCleanly() throws Exception {
        Process server = start("echo-server", "--port", "0", "--loops", "2");
        awaitListening(server);
        server.destroy(); // SIGTERM
        assertTrue(server.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "echo-server ignored SIGTERM");
        assertEquals(128 + 15, server.exitValue(), "the exit status of a process ended by SIGTERM");
        String summary = stderr(server);
        assertTrue(summary.contains("echo-server: stopped after 0 connections"), summary);
    }

    @Test
    void echoServerHelpPrintsUsageAndExitsZero() throws Exception {
        Project.Run run = Project.run(Project.root(), START_SECONDS,
                command(List.of("echo-server", "--help")));
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().startsWith("Usage: scripts/example echo-server"), run.output());
        assertTrue(run.output().contains("--loops"), run.output());
    }

    @Test
    void badOptionsAndUnknownExamplesExitTwoWithAMessage() throws Exception {
        Project.Run badOption = Project.run(Project.root(), START_SECONDS,
                command(List.of("echo-server", "--prot", "80")));
        assertEquals(2, badOption.exitCode(), badOption.output());
        assertTrue(badOption.output().contains("unknown option --prot"), badOption.output());
        Project.Run unknown = Project.run(Project.root(), START_SECONDS, command(List.of("no-such-example")));
        assertEquals(2, unknown.exitCode(), unknown.output());
        assertTrue(unknown.output().contains("no example named 'no-such-example'"), unknown.output());
        assertTrue(unknown.output().contains("http-hello"), "the list of examples follows: " + unknown.output());
    }

    @Test
    void curlGetsHelloTwiceOverOneKeepAliveConnection() throws Exception {
        if (!onPath("curl")) {
            fail("curl is not installed; .ci/run installs it (Debian: apt-get install curl)");
        }
        Process server = start("http-hello", "--port", "0");
        int port = awaitListening(server);
        String url = "http://127.0.0.1:" + port + "/";
        Project.Run run = Project.run(Project.root(), WAIT_SECONDS,
                List.of("curl", "-sS", "--max-time", Long.toString(WAIT_SECONDS), url, url));
        assertEquals(0, run.exitCode(), run.output());
        assertEquals(HELLO + HELLO, run.output());
        // Both requests went over one connection: the server's summary counts connections.
        server.destroy();
        assertTrue(server.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "http-hello ignored SIGTERM");
        String summary = stderr(server);
        assertTrue(summary.contains("http-hello: stopped after 1 connections, 2 requests"), summary);
    }

    @Test
    void pipelinedAndSplitRequestsGetOneResponseEachAndNothingElse() throws Exception {
        int port = awaitListening(start("http-hello"));
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), (int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            OutputStream out = socket.getOutputStream();
            out.write((REQUEST + REQUEST).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] two = in.readNBytes(2 * RESPONSE.length());
            assertEquals(RESPONSE + RESPONSE, new String(two, StandardCharsets.US_ASCII));
            // A whole request and most of the next in one write: the server has read the partial
            // one once the first is answered. Its terminator's last two bytes then come alone.
            out.write((REQUEST + REQUEST.substring(0, REQUEST.length() - 2)).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals(RESPONSE, new String(in.readNBytes(RESPONSE.length()), StandardCharsets.US_ASCII));
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals(RESPONSE, new String(in.readNBytes(RESPONSE.length()), StandardCharsets.US_ASCII),
                    "a request whose \\r\\n\\r\\n was split across reads is answered");
            socket.shutdownOutput(); // the server closes on EOF: nothing more may arrive
            assertEquals(-1, in.read(), "no response beyond one per request");
        }
    }

    /** {@code sockopts} sets options on a live connection and reads each back, with TCP_INFO. */
    @Test
    void sockoptsPrintsEveryOptionReadBackWithTcpInfo() throws Exception {
        Project.Run run = Project.run(Project.root(), START_SECONDS,
                command(List.of("sockopts")));
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("TCP_INFO state") && run.output().contains("ESTABLISHED"), run.output());
        for (String option : List.of("TCP_NODELAY", "SO_RCVBUF", "SO_LINGER", "TCP_USER_TIMEOUT", "TCP_CONGESTION")) {
            String row = run.output().lines().filter(l -> l.startsWith(option)).findFirst().orElse("");
            assertTrue(row.endsWith("| ok"), option + " row: '" + row + "' in\n" + run.output());
        }
    }

    @Test
    void demoRunsEveryStepAndSaysSo() throws Exception {
        Project.Run run = Project.run(Project.root(), START_SECONDS,
                withTestEnvironment(List.of(Project.root().resolve("scripts/demo").toString())));
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("demo: all 6 steps passed"), run.output());
        assertTrue(run.output().contains("every byte came back"), run.output());
        assertTrue(run.output().contains("100 pongs received"), run.output());
        assertTrue(run.output().contains("20 acknowledged"), run.output());
        assertTrue(run.output().contains("byte totals match"), run.output());
        assertTrue(run.output().contains("1 more response"), run.output());
        assertTrue(run.output().contains("connects to localhost: TLSv1."), run.output());
        assertTrue(run.output().contains("refused, as it must be (certificate verify failed"), run.output());
        assertTrue(run.output().contains("100 pongs received over TLS"), run.output());
    }

    // ------------------------------------------------------------------ TLS

    /** {@code openssl s_client}, verifying the server against the test CA, gets its line echoed over TLS. */
    @Test
    void tlsEchoServerEchoesWhatOpenSslClientSends() throws Exception {
        int port = awaitListening(start("tls-echo-server", "--cert", TestCertificates.serverCertificate().toString(),
                "--key", TestCertificates.serverKey().toString()));
        Process client = startTool(sClient(port, List.of()));
        try (OutputStream stdin = client.getOutputStream()) {
            stdin.write("ping over tls\n".getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
            assertEquals("ping over tls", readLine(client), () -> "s_client's stderr: " + stderr(client));
        }
    }

    /**
     * With {@code --require-client-cert}, s_client presenting the test client certificate gets its
     * echo, and s_client presenting none is refused (it exits non-zero); the server counts the refusal.
     */
    @Test
    void tlsEchoServerRequiringClientCertificatesRefusesAClientWithout() throws Exception {
        Process server = start("tls-echo-server", "--cert", TestCertificates.serverCertificate().toString(),
                "--key", TestCertificates.serverKey().toString(), "--ca", TestCertificates.caCertificate().toString(),
                "--require-client-cert");
        int port = awaitListening(server);

        Process withCertificate = startTool(sClient(port, List.of("-cert", TestCertificates.clientCertificate()
                .toString(), "-key", TestCertificates.clientKey().toString())));
        OutputStream stdin = withCertificate.getOutputStream();
        stdin.write("with a certificate\n".getBytes(StandardCharsets.US_ASCII));
        stdin.flush();
        assertEquals("with a certificate", readLine(withCertificate), () -> stderr(withCertificate));

        Process without = startTool(sClient(port, List.of()));
        CompletableFuture<byte[]> output = readAll(without.getInputStream());
        assertTrue(without.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "s_client without a certificate was not refused");
        assertNotEquals(0, without.exitValue(), () -> "s_client without a certificate succeeded: " + stderr(without));
        assertEquals("", new String(output.get(WAIT_SECONDS, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        assertTrue(stderr(without).contains("certificate required"), stderr(without));

        server.destroy(); // SIGTERM: the summary follows the last callback
        assertTrue(server.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "tls-echo-server ignored SIGTERM");
        String log = stderr(server);
        assertTrue(log.contains("peer did not return a certificate"), log);
        assertTrue(log.contains("stopped after 1 connections") && log.contains("1 failed handshakes"), log);
    }

    /** echo-client over TLS, trusting the test CA, gets back exactly the 256 KiB it sent. */
    @Test
    void tlsEchoClientWithTheCaGetsBackExactlyWhatItSent() throws Exception {
        int port = awaitListening(start("tls-echo-server", "--cert", TestCertificates.serverCertificate().toString(),
                "--key", TestCertificates.serverKey().toString()));
        byte[] input = new byte[256 << 10];
        new Random(5).nextBytes(input);
        Process client = start("echo-client", "--tls", "--ca", TestCertificates.caCertificate().toString(),
                "--port", Integer.toString(port));
        assertArrayEquals(input, echo(client, input));
        assertTrue(stderr(client).contains("echo-client: TLSv1.3, TLS_"), stderr(client));
    }

    /**
     * {@code --servername} verifies a name other than the address connected to (127.0.0.1): the
     * certificate's {@code localhost} passes, another name fails with a hostname mismatch.
     */
    @Test
    void tlsEchoClientVerifiesTheServerNameItIsGiven() throws Exception {
        int port = awaitListening(start("tls-echo-server", "--cert", TestCertificates.serverCertificate().toString(),
                "--key", TestCertificates.serverKey().toString()));
        byte[] input = "named localhost\n".getBytes(StandardCharsets.US_ASCII);
        Process client = start("echo-client", "--tls", "--ca", TestCertificates.caCertificate().toString(),
                "--servername", "localhost", "--port", Integer.toString(port));
        assertArrayEquals(input, echo(client, input));

        Process wrong = start("echo-client", "--tls", "--ca", TestCertificates.caCertificate().toString(),
                "--servername", "wrong.example.test", "--port", Integer.toString(port));
        assertEquals(0, echo(wrong, input, 1).length, "nothing on stdout");
        assertTrue(stderr(wrong).contains("hostname mismatch"), stderr(wrong));
    }

    /** {@code --insecure} talks to a self-signed server nobody trusts, and warns on stderr. */
    @Test
    void tlsEchoClientInsecureTalksToASelfSignedServerAndWarns() throws Exception {
        int port = awaitListening(start("tls-echo-server",
                "--cert", TestCertificates.selfSignedCertificate().toString(),
                "--key", TestCertificates.selfSignedKey().toString()));
        byte[] input = "not verified\n".getBytes(StandardCharsets.US_ASCII);
        Process client = start("echo-client", "--tls", "--insecure", "--port", Integer.toString(port));
        assertArrayEquals(input, echo(client, input));
        assertTrue(stderr(client).contains("WARNING: --insecure"), stderr(client));
    }

    /** Without {@code --ca} the client trusts the system store, which does not hold the test CA: refused. */
    @Test
    void tlsEchoClientWithoutTheCaIsRefusedWithAVerifyMessage() throws Exception {
        int port = awaitListening(start("tls-echo-server", "--cert", TestCertificates.serverCertificate().toString(),
                "--key", TestCertificates.serverKey().toString()));
        Process client = start("echo-client", "--tls", "--port", Integer.toString(port));
        assertEquals(0, echo(client, "x".getBytes(StandardCharsets.US_ASCII), 1).length, "nothing on stdout");
        String message = stderr(client);
        assertTrue(message.contains("cannot connect to 127.0.0.1:" + port), message);
        assertTrue(message.contains("TLS handshake failed") && message.contains("certificate verify failed"), message);
        assertTrue(message.contains("unable to get local issuer certificate"), message);
    }

    /** Certificate problems name the option at fault: exit 1 for a wrong password, 2 for a missing option. */
    @Test
    void tlsEchoServerNamesTheOptionAtFault() throws Exception {
        Project.Run wrongPassword = Project.run(Project.root(), START_SECONDS, command(List.of("tls-echo-server",
                "--cert", TestCertificates.serverCertificate().toString(),
                "--key", TestCertificates.encryptedServerKey().toString(), "--key-password", "not the password")));
        assertEquals(1, wrongPassword.exitCode(), wrongPassword.output());
        assertTrue(wrongPassword.output().startsWith("tls-echo-server: cannot load --key: wrong password: "),
                wrongPassword.output());
        assertTrue(wrongPassword.output().contains("bad decrypt"), wrongPassword.output());

        Project.Run noCertificate = Project.run(Project.root(), START_SECONDS, command(List.of("tls-echo-server")));
        assertEquals(2, noCertificate.exitCode(), noCertificate.output());
        assertTrue(noCertificate.output().contains("--cert and --key are required"), noCertificate.output());
    }

    /** curl over HTTPS, trusting the test CA, gets hello twice on one TLS connection. */
    @Test
    void curlGetsHelloTwiceOverOneHttpsConnection() throws Exception {
        if (!onPath("curl")) {
            fail("curl is not installed; .ci/run installs it (Debian: apt-get install curl)");
        }
        Process server = start("http-hello", "--tls", "--cert", TestCertificates.serverCertificate().toString(),
                "--key", TestCertificates.serverKey().toString());
        int port = awaitListening(server);
        String url = "https://localhost:" + port + "/";
        Project.Run run = Project.run(Project.root(), WAIT_SECONDS, List.of("curl", "-sS", "--max-time",
                Long.toString(WAIT_SECONDS), "--cacert", TestCertificates.caCertificate().toString(),
                "--resolve", "localhost:" + port + ":127.0.0.1", url, url));
        assertEquals(0, run.exitCode(), run.output());
        assertEquals(HELLO + HELLO, run.output());
        server.destroy();
        assertTrue(server.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "http-hello ignored SIGTERM");
        String summary = stderr(server);
        assertTrue(summary.contains("http-hello: stopped after 1 connections, 2 requests, 0 failed handshakes"),
                summary);
    }

    /**
     * starttls-ping-pong makes a throwaway certificate, upgrades both sides with startTls, plays
     * ping-pong over TLS, exits 0, and deletes the certificate's folder.
     */
    @Test
    void starttlsPingPongUpgradesAndPlaysOverTls() throws Exception {
        Project.Run run = Project.run(Project.root(), START_SECONDS, command(List.of("starttls-ping-pong")));
        assertEquals(0, run.exitCode(), run.output());
        String out = run.output();
        assertTrue(out.contains("C: STARTTLS") && out.contains("S: startTls -> STARTED"), out);
        assertTrue(out.contains("C: TLS ready: TLSv1.3"), out);
        assertTrue(out.contains("100 pings sent, 100 pongs received over TLS"), out);
        int at = out.indexOf(" in /");
        assertTrue(at > 0, "the output names the throwaway folder: " + out);
        Path folder = Path.of(out.substring(at + 4, out.indexOf(' ', at + 4)));
        assertFalse(Files.exists(folder), folder + " is deleted on exit");
    }

    // ------------------------------------------------------------------ helpers

    /** Starts {@code scripts/example ARGS...} with stderr to a file; {@link #stopEveryProcess} ends it. */
    private Process start(String... args) throws IOException {
        Path errors = Files.createTempFile(temp, args[0], ".stderr");
        Process process = builder(List.of(args)).redirectError(errors.toFile()).start();
        processes.add(process);
        stderrFiles.add(errors);
        return process;
    }

    /** Starts {@code command} with stderr to a file; {@link #stopEveryProcess} ends it. */
    private Process startTool(List<String> command) throws IOException {
        Path errors = Files.createTempFile(temp, command.get(0), ".stderr");
        Process process = new ProcessBuilder(command).redirectError(errors.toFile()).start();
        processes.add(process);
        stderrFiles.add(errors);
        return process;
    }

    /** {@return {@code openssl s_client} to 127.0.0.1:port verifying the server as localhost, plus {@code more}} */
    private static List<String> sClient(int port, List<String> more) {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                "-servername", "localhost", "-verify_return_error", "-CAfile",
                TestCertificates.caCertificate().toString(), "-quiet"));
        command.addAll(more);
        return command;
    }

    /** {@return the next line {@code process} writes to stdout, waiting at most {@link #WAIT_SECONDS}} */
    private static String readLine(Process process) throws Exception {
        BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return lines.readLine();
            } catch (IOException e) {
                return "(stdout unreadable: " + e + ")";
            }
        });
        try {
            return line.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return "(no line within " + WAIT_SECONDS + " s)";
        }
    }

    /** Writes {@code input} to an echo-client and closes its stdin; {@return its stdout} once it exited 0. */
    private byte[] echo(Process client, byte[] input) throws Exception {
        return echo(client, input, 0);
    }

    /** As {@link #echo(Process, byte[])}, expecting exit status {@code exitCode}. */
    private byte[] echo(Process client, byte[] input, int exitCode) throws Exception {
        CompletableFuture<byte[]> output = readAll(client.getInputStream());
        try (OutputStream stdin = client.getOutputStream()) {
            stdin.write(input);
        } catch (IOException exitedEarly) {
            // A client that fails its handshake may exit before reading stdin: the exit status tells.
        }
        assertTrue(client.waitFor(START_SECONDS, TimeUnit.SECONDS), "echo-client did not finish");
        assertEquals(exitCode, client.exitValue(), () -> "echo-client's stderr: " + stderr(client));
        return output.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    private String stderr(Process process) {
        try {
            return Files.readString(stderrFiles.get(processes.indexOf(process)));
        } catch (IOException e) {
            return "(stderr unreadable: " + e + ")";
        }
    }

    /** Reads the {@code listening on HOST:PORT} line; {@return the port} */
    private int awaitListening(Process server) throws Exception {
        BufferedReader lines = new BufferedReader(
                new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
            try {
                return lines.readLine();
            } catch (IOException e) {
                return "(stdout unreadable: " + e + ")";
            }
        });
        String line;
        try {
            line = first.get(START_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            line = "nothing within " + START_SECONDS + " s";
        }
        if (line == null || !line.matches("listening on 127\\.0\\.0\\.1:\\d+")) {
            fail("expected 'listening on 127.0.0.1:PORT', got " + line + " (exit status "
                    + (server.isAlive() ? "none yet" : server.exitValue()) + "); stderr:\n" + stderr(server));
        }
        int port = Integer.parseInt(line.substring(line.lastIndexOf(':') + 1));
        assertTrue(port > 0 && port <= 65535, line);
        return port;
    }

    private static CompletableFuture<byte[]> readAll(InputStream in) {
        CompletableFuture<byte[]> bytes = new CompletableFuture<>();
        Thread.ofPlatform().daemon(true).name("example-stdout").start(() -> {
            try {
                bytes.complete(in.readAllBytes());
            } catch (IOException e) {
                bytes.completeExceptionally(e);
            }
        });
        return bytes;
    }

    /** {@return {@code scripts/example ARGS...} with the test's environment, for {@link Project#run}} */
    private static List<String> command(List<String> args) {
        return withTestEnvironment(scriptCommand(args));
    }

    /** {@return {@code command} run through env(1) with the variables {@link #builder} sets} */
    private static List<String> withTestEnvironment(List<String> command) {
        List<String> full = new ArrayList<>(List.of("env", "JAVA_HOME=" + System.getProperty("java.home"),
                "LORIFFM_EXAMPLES_NO_BUILD=1"));
        full.addAll(command);
        return full;
    }

    private static ProcessBuilder builder(List<String> args) {
        ProcessBuilder builder = new ProcessBuilder(scriptCommand(args)).directory(Project.root().toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        // Maven has just compiled target/classes; the script must not start a second Maven inside this one.
        builder.environment().put("LORIFFM_EXAMPLES_NO_BUILD", "1");
        return builder;
    }

    private static List<String> scriptCommand(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Project.root().resolve("scripts/example").toString());
        command.addAll(args);
        return command;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
