package dev.loriffm.tcp;

import dev.loriffm.internal.tls.SslContextAccess;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import dev.loriffm.testing.Project;
import dev.loriffm.tls.SslContext;
import dev.loriffm.tls.SslContextBuilder;
import dev.loriffm.tls.TestCertificates;
import dev.loriffm.tls.TlsVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import static dev.loriffm.tcp.Loopback.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS against real OpenSSL peers the test starts ({@code openssl s_server} for our client,
 * {@code openssl s_client} for our server) over TLS 1.2 and 1.3, with client certificates, ALPN
 * and SNI; the certificates and versions that must be refused; hostile peers (garbage, a truncated
 * handshake, an instant close) that must end in a failure callback, never a hang; and a resource
 * count over 2,000 handshakes.
 *
 * <p>Peers listen on 127.0.0.1 port 0 ({@code s_server} reports its port in an {@code ACCEPT}
 * line) and are destroyed after each test.
 */
@ExtendWith(FdLeakCheck.class)
class TlsInteropTest {
    /** A real TLS ClientHello record (made by the JDK's TLS engine), to send parts of. */
    private static byte[] clientHello;

    private EventLoopGroup group;
    private final List<AutoCloseable> peers = new ArrayList<>();
    private final List<SslContext> contexts = new ArrayList<>();
    /** What our server's connections negotiated, in the order they started. */
    private final BlockingQueue<TlsInfo> serverInfos = new LinkedBlockingQueue<>();

    @BeforeAll
    static void warmUp() throws Exception {
        JdkPeer.warmUp();
        TestCertificates.dir();
        // Also opens the JDK's random devices, which stay open for the JVM's life, before FdLeakCheck looks.
        clientHello = jdkClientHello();
    }

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable peer : peers) {
            peer.close();
        }
        group.close();
        for (SslContext context : contexts) {
            context.close();
        }
    }

    // ------------------------------------------------------------------ our client vs s_server

    /** Our client against {@code s_server -rev} at one protocol version: handshake, data, graceful close. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void ourClientTalksToOpenSslServer(TlsVersion version) throws Exception {
        OpenSslProcess server = openSslServer(flag(version), "-rev");
        RecordingClient client = connect("localhost", server.port, trustingClient().buildOrThrow());
        assertEquals("connected " + version.protocolName() + " alpn=", client.next());
        assertEquals("received olleh\n", client.next());
        assertEquals("closed", client.next(), "close_notify both ways, then FIN");
    }

    /**
     * {@code s_server -rev} ends a connection on a {@code CLOSE} line with close_notify, then FIN:
     * our client answers with its own close_notify and ends in onClosed with no failure detail.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void openSslServerCloseNotifyClosesOurClientGracefully(TlsVersion version) throws Exception {
        OpenSslProcess server = openSslServer(flag(version), "-rev");
        RecordingClient client = new RecordingClient("CLOSE\n");
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.port,
                track(trustingClient().buildOrThrow()), client);
        assertEquals("connected " + version.protocolName() + " alpn=", client.next());
        assertEquals("closed", client.next(), "the peer's close_notify, then ours, then FIN both ways");
        server.awaitLine(line -> line.equals("CONNECTION CLOSED"));
    }

    /**
     * {@code s_server} (default mode) sends what it reads on stdin: 1 MiB written there reaches
     * our client whole and in order, across many TLS records, and our client then closes.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void ourClientReceivesAMebibyteFromOpenSslServer(TlsVersion version) throws Exception {
        OpenSslProcess server = openSslServer(flag(version));
        byte[] data = new byte[1 << 20];
        Arrays.fill(data, (byte) 'x'); // never a command letter at the start of a read ('Q' would quit)
        CompletableFuture<Integer> received = new CompletableFuture<>();
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.port,
                track(trustingClient().buildOrThrow()), new ClientLifecycleReceiver() {
                    private int count;

                    @Override
                    public void onReceived(TcpConnection c, MemorySegment bytes) {
                        for (long i = 0; i < bytes.byteSize(); i++) {
                            if (bytes.get(ValueLayout.JAVA_BYTE, i) != 'x') {
                                received.completeExceptionally(new AssertionError("byte " + (count + i)));
                            }
                        }
                        count += (int) bytes.byteSize();
                        if (count >= data.length) {
                            received.complete(count);
                            c.close();
                        }
                    }

                    @Override
                    public void onClosed(TcpConnection c) {
                        received.completeExceptionally(new AssertionError("closed after " + count + " bytes"));
                    }

                    @Override
                    public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                        received.completeExceptionally(new AssertionError(reason + " " + c.failureDetail()));
                    }
                });
        // Only once s_server finished its handshake: with stdin already readable while our Finished
        // is in flight, s_server 3.0 can consume the Finished inside SSL_write and then block in
        // SSL_read on a stale select() result (seen with its own s_client too: 6 runs in 20 stop
        // after 16 KiB).
        server.awaitLine(line -> line.startsWith("CIPHER is "));
        CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
            try {
                server.writeStdin(data);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertEquals(data.length, Loopback.await(received));
        written.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** {@code s_server -Verify 1} demands a client certificate: ours, issued by the CA it trusts, is accepted. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void openSslServerAcceptsOurClientCertificate(TlsVersion version) throws Exception {
        OpenSslProcess server = openSslServer(flag(version), "-rev", "-Verify", "1",
                "-CAfile", path(TestCertificates.caCertificate()));
        SslContext withCertificate = trustingClient()
                .certificateChain(TestCertificates.clientCertificate(), TestCertificates.clientKey()).buildOrThrow();
        RecordingClient client = connect("localhost", server.port, withCertificate);
        assertEquals("connected " + version.protocolName() + " alpn=", client.next());
        assertEquals("received olleh\n", client.next());
    }

    /**
     * {@code s_server -Verify 1} refuses our client when it has no certificate. In TLS 1.2 the
     * server's alert arrives during our handshake: {@code onConnectionFailure(SSL)}. In TLS 1.3 the
     * client's handshake is complete once it sent its (empty) Certificate and Finished, before the
     * server judged them (RFC 8446 §4.4.2.4), so the refusal is a {@code certificate required}
     * alert that ends the connected connection, with no data delivered.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void openSslServerRefusesOurClientWithoutACertificate(TlsVersion version) throws Exception {
        OpenSslProcess server = openSslServer(flag(version), "-rev", "-Verify", "1",
                "-CAfile", path(TestCertificates.caCertificate()));
        RecordingClient client = connect("localhost", server.port, trustingClient().buildOrThrow());
        String event = client.next();
        if (version == TlsVersion.TLS_1_2) {
            assertTrue(event.startsWith("failure SSL TLS handshake: "), event);
            assertTrue(event.contains("alert"), "the server's alert is in the detail: " + event);
        } else {
            assertEquals("connected TLSv1.3 alpn=", event);
            String closed = client.next();
            assertTrue(closed.startsWith("closed TLS read: ") && closed.contains("certificate required"), closed);
        }
    }

    /** Our client offering only http/1.1 to {@code s_server -alpn h2,http/1.1} agrees on http/1.1. */
    @Test
    void ourClientNegotiatesAlpnWithOpenSslServer() throws Exception {
        OpenSslProcess server = openSslServer("-rev", "-alpn", "h2,http/1.1");
        SslContext alpn = trustingClient().alpn(List.of("http/1.1")).buildOrThrow();
        RecordingClient client = connect("localhost", server.port, alpn);
        assertEquals("connected TLSv1.3 alpn=http/1.1", client.next());
        assertEquals("received olleh\n", client.next());
    }

    /**
     * Our client offering only a protocol {@code s_server -alpn h2,http/1.1} does not speak: the
     * server answers with a no_application_protocol alert (RFC 7301 §3.2), onConnectionFailure(SSL).
     */
    @Test
    void openSslServerRefusesOurClientsUnknownAlpnProtocol() throws Exception {
        OpenSslProcess server = openSslServer("-rev", "-alpn", "h2,http/1.1");
        SslContext alpn = trustingClient().alpn(List.of("spdy/1")).buildOrThrow();
        RecordingClient client = connect("localhost", server.port, alpn);
        String event = client.next();
        assertTrue(event.startsWith("failure SSL TLS handshake: ") && event.contains("no application protocol"),
                event);
    }

    /**
     * Session resumption with {@code s_server} (which issues tickets): a second connection from
     * the same client context, after the first closed cleanly, resumes; the first did not.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void ourClientResumesItsSessionWithOpenSslServer(TlsVersion version) throws Exception {
        OpenSslProcess server = openSslServer(flag(version), "-rev");
        SslContext context = trustingClient().buildOrThrow();
        RecordingClient first = connect("localhost", server.port, context);
        assertEquals("connected " + version.protocolName() + " alpn=", first.next());
        assertEquals("received olleh\n", first.next());
        assertEquals("closed", first.next());
        assertFalse(first.info.sessionReused(), "a first connection has nothing to resume");
        RecordingClient second = connect("localhost", server.port, context);
        assertEquals("connected " + version.protocolName() + " alpn=", second.next());
        assertTrue(second.info.sessionReused(), "the second connection resumed the first one's session");
        assertEquals("received olleh\n", second.next());
    }

    /**
     * SNI: {@code s_server}'s default certificate is for another host and it switches to the
     * localhost certificate only for SNI {@code localhost}; our client connecting to "localhost"
     * verifies the switched certificate, and the server logged the name it received.
     */
    @Test
    void ourClientSendsTheHostNameAsSni() throws Exception {
        OpenSslProcess server = openSslServer("-rev", "-tlsextdebug",
                "-cert", path(TestCertificates.wrongHostCertificate()), "-key", path(TestCertificates.wrongHostKey()),
                "-servername", "localhost",
                "-cert2", path(TestCertificates.serverCertificate()), "-key2", path(TestCertificates.serverKey()));
        RecordingClient client = connect("localhost", server.port, trustingClient().buildOrThrow());
        assertEquals("connected TLSv1.3 alpn=", client.next());
        assertEquals("CN=localhost", client.info.peerSubject(), "the certificate s_server switched to");
        assertEquals("received olleh\n", client.next());
        server.awaitLine(line -> line.equals("Hostname in TLS extension: \"localhost\""));
        server.awaitLine(line -> line.equals("Switching server context."));
    }

    /**
     * An IP-literal host sends no SNI (RFC 6066 §3): {@code -servername_fatal} makes any name but
     * "localhost" fatal, and the default certificate is valid for 127.0.0.1, so only a ClientHello
     * without SNI succeeds; the server's extension log for that connection has no server name.
     */
    @Test
    void ourClientSendsNoSniForAnIpLiteral() throws Exception {
        OpenSslProcess server = openSslServer("-rev", "-tlsextdebug", "-servername", "localhost", "-servername_fatal",
                "-cert2", path(TestCertificates.wrongHostCertificate()),
                "-key2", path(TestCertificates.wrongHostKey()));
        RecordingClient client = connect("127.0.0.1", server.port, trustingClient().buildOrThrow());
        assertEquals("connected TLSv1.3 alpn=", client.next());
        assertEquals("CN=localhost", client.info.peerSubject(), "s_server's default certificate");
        assertEquals("received olleh\n", client.next());
        // Printed after the handshake; every line about the ClientHello was printed before it.
        server.awaitLine(line -> line.equals("CONNECTION ESTABLISHED"));
        String log = server.output();
        assertTrue(log.contains("TLS client extension \"supported versions\""), "the extension log is on: " + log);
        assertFalse(log.contains("\"server name\"") || log.contains("Hostname in TLS extension"), log);
    }

    // ------------------------------------------------------------------ s_client vs our server

    /** {@code openssl s_client} against our server at one protocol version: its line comes back, then close. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void openSslClientTalksToOurServer(TlsVersion version) throws Exception {
        Loopback.Started server = ourServer(serverBuilder().buildOrThrow());
        Project.Run run = openSslClient(server, "ping over tls\n", flag(version), "-brief");
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("Protocol version: " + version.protocolName()), run.output());
        assertTrue(run.output().contains("Verification: OK"), run.output());
        assertTrue(run.output().contains("ping over tls\n"), "the echo: " + run.output());
        assertEquals("started " + version.protocolName() + " alpn=", Loopback.poll(server.events()));
        assertEquals("closed", Loopback.poll(server.events()));
    }

    /** {@code s_client} sends 1 MiB and a newline through our echo server and gets all of it back. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void openSslClientGetsAMebibyteEchoedByOurServer(TlsVersion version) throws Exception {
        Loopback.Started server = ourServer(serverBuilder().buildOrThrow());
        String line = "y".repeat(1 << 20) + "\n";
        Project.Run run = openSslClient(server, line, flag(version), "-quiet");
        String head = run.output().substring(0, Math.min(run.output().length(), 2048));
        assertEquals(0, run.exitCode(), head);
        String echo = run.output().substring(Math.max(0, run.output().indexOf("yyyy")));
        assertEquals(line.length(), echo.length(), "every byte once, after s_client's verify lines: " + head);
        assertEquals(line, echo);
        assertEquals("started " + version.protocolName() + " alpn=", Loopback.poll(server.events()));
        assertEquals("closed", Loopback.poll(server.events()));
    }

    /** Our server with requireClientCertificate() accepts {@code s_client -cert/-key} issued by its CA. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void ourServerAcceptsOpenSslClientCertificate(TlsVersion version) throws Exception {
        Loopback.Started server = ourServer(requiringServer().buildOrThrow());
        Project.Run run = openSslClient(server, "ping\n", flag(version), "-brief",
                "-cert", path(TestCertificates.clientCertificate()), "-key", path(TestCertificates.clientKey()));
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("ping\n"), "the echo: " + run.output());
        assertEquals("started " + version.protocolName() + " alpn=", Loopback.poll(server.events()));
        assertEquals("CN=lori-ffm test client", Loopback.poll(serverInfos).peerSubject());
    }

    /**
     * Our server with requireClientCertificate() refuses {@code s_client} without a certificate,
     * or with one its CA did not issue: onStartFailure(SSL), and s_client gets no echo.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("versionsAndClientCertificates")
    void ourServerRefusesOpenSslClientWithoutAGoodCertificate(TlsVersion version, String certificate)
            throws Exception {
        Loopback.Started server = ourServer(requiringServer().buildOrThrow());
        List<String> args = new ArrayList<>(List.of(flag(version), "-brief"));
        if (certificate.equals("self-signed")) {
            args.addAll(List.of("-cert", path(TestCertificates.selfSignedCertificate()),
                    "-key", path(TestCertificates.selfSignedKey())));
        }
        Project.Run run = openSslClient(server, "ping\n", args.toArray(String[]::new));
        String event = Loopback.poll(server.events());
        assertTrue(event.startsWith("start failure SSL TLS handshake: "), event);
        assertTrue(event.contains(certificate.equals("none") ? "peer did not return a certificate"
                : "certificate verify failed"), event);
        assertNotEquals(0, run.exitCode(), run.output());
        assertFalse(run.output().contains("ping\n"), "no echo: " + run.output());
    }

    static Stream<Arguments> versionsAndClientCertificates() {
        return Stream.of(TlsVersion.TLS_1_2, TlsVersion.TLS_1_3)
                .flatMap(v -> Stream.of(Arguments.of(v, "none"), Arguments.of(v, "self-signed")));
    }

    /**
     * Our server preferring h2 then http/1.1: {@code s_client -alpn http/1.1} gets http/1.1, and a
     * client offering only a protocol it does not speak goes on without ALPN, as documented.
     */
    @ParameterizedTest(name = "s_client offers {0}")
    @MethodSource("alpnOffers")
    void ourServerNegotiatesAlpnWithOpenSslClient(String offered, String agreed, String sClientSays)
            throws Exception {
        Loopback.Started server = ourServer(serverBuilder().alpn(List.of("h2", "http/1.1")).buildOrThrow());
        Project.Run run = openSslClient(server, "ping\n", "-alpn", offered);
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(sClientSays), run.output());
        assertEquals("started TLSv1.3 alpn=" + agreed, Loopback.poll(server.events()));
    }

    static Stream<Arguments> alpnOffers() {
        return Stream.of(Arguments.of("http/1.1", "http/1.1", "ALPN protocol: http/1.1"),
                Arguments.of("spdy/1,http/1.1", "http/1.1", "ALPN protocol: http/1.1"),
                Arguments.of("spdy/1", "", "No ALPN negotiated"));
    }

    /**
     * {@code s_client -sess_out} then {@code -sess_in}: the second connection resumes the first's
     * session (s_client prints "Reused", our server's tlsInfo says so), the first did not.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void openSslClientResumesItsSessionWithOurServer(TlsVersion version) throws Exception {
        Loopback.Started server = ourServer(serverBuilder().buildOrThrow());
        Path session = Files.createTempFile("lori-ffm-session", ".pem");
        try {
            Project.Run first = openSslClient(server, "one\n", flag(version), "-sess_out", session.toString());
            assertEquals(0, first.exitCode(), first.output());
            assertTrue(first.output().contains("New, " + version.protocolName()), first.output());
            Project.Run second = openSslClient(server, "two\n", flag(version), "-sess_in", session.toString());
            assertEquals(0, second.exitCode(), second.output());
            assertTrue(second.output().contains("Reused, " + version.protocolName()), second.output());
            assertTrue(second.output().contains("two\n"), "the echo: " + second.output());
        } finally {
            Files.deleteIfExists(session);
        }
        assertFalse(Loopback.poll(serverInfos).sessionReused());
        assertTrue(Loopback.poll(serverInfos).sessionReused());
    }

    // ------------------------------------------------------------------ refused certificates and versions

    /** A server certificate our client must refuse, and the verification text that says why. */
    enum BadServerCertificate {
        WRONG_HOST("hostname mismatch"),
        UNTRUSTED_CA("self-signed certificate"),
        EXPIRED("certificate has expired");

        final String verifyText;

        BadServerCertificate(String verifyText) {
            this.verifyText = verifyText;
        }

        Path certificate() {
            return switch (this) {
                case WRONG_HOST -> TestCertificates.wrongHostCertificate();
                case UNTRUSTED_CA -> TestCertificates.selfSignedCertificate();
                case EXPIRED -> TestCertificates.expiredCertificate();
            };
        }

        Path key() {
            return switch (this) {
                case WRONG_HOST -> TestCertificates.wrongHostKey();
                case UNTRUSTED_CA -> TestCertificates.selfSignedKey();
                case EXPIRED -> TestCertificates.expiredKey();
            };
        }
    }

    /** {@code s_server} presenting a bad certificate: onConnectionFailure(SSL) with the verify result, no data. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(BadServerCertificate.class)
    void ourClientRefusesABadServerCertificate(BadServerCertificate bad) throws Exception {
        OpenSslProcess server = openSslServer("-rev", "-cert", path(bad.certificate()), "-key", path(bad.key()));
        RecordingClient client = connect("localhost", server.port, trustingClient().buildOrThrow());
        String event = client.next();
        assertTrue(event.startsWith("failure SSL TLS handshake: certificate verify failed: " + bad.verifyText),
                event);
    }

    /** Our client capped at TLS 1.2 against {@code s_server -tls1_3}: onConnectionFailure(SSL), a version alert. */
    @Test
    void ourClientCappedAtTls12FailsAgainstATls13OnlyServer() throws Exception {
        OpenSslProcess server = openSslServer("-tls1_3", "-rev");
        SslContext tls12 = trustingClient().maximumVersion(TlsVersion.TLS_1_2).buildOrThrow();
        RecordingClient client = connect("localhost", server.port, tls12);
        String event = client.next();
        assertTrue(event.startsWith("failure SSL TLS handshake: ") && event.contains("protocol version"), event);
    }

    /** Our server requiring TLS 1.3 against {@code s_client -tls1_2}: onStartFailure(SSL), s_client fails. */
    @Test
    void ourServerRequiringTls13RefusesATls12Client() throws Exception {
        Loopback.Started server = ourServer(serverBuilder().minimumVersion(TlsVersion.TLS_1_3).buildOrThrow());
        Project.Run run = openSslClient(server, "ping\n", "-tls1_2", "-brief");
        String event = Loopback.poll(server.events());
        assertTrue(event.startsWith("start failure SSL TLS handshake: ") && event.contains("protocol"), event);
        assertNotEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("protocol version"), "s_client got the alert: " + run.output());
    }

    // ------------------------------------------------------------------ hostile peers

    /** Bytes that are not TLS, sent by a client that then keeps its socket open. */
    enum Garbage {
        /** 20 KiB of seeded random bytes: longer than any TLS record, so no header can make us wait for more. */
        RANDOM_BYTES,
        /** A plaintext HTTP request to the TLS port. */
        HTTP_REQUEST;

        byte[] bytes() {
            if (this == HTTP_REQUEST) {
                return "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            }
            byte[] random = new byte[20 * 1024];
            new Random(20_250_101L).nextBytes(random);
            return random;
        }
    }

    /**
     * Garbage instead of a ClientHello ends in onStartFailure(SSL) while the peer still holds its
     * socket open (so the failure comes from parsing, not from EOF), and our side closes the socket.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Garbage.class)
    void garbageFromAClientFailsOurServerHandshake(Garbage garbage) throws Exception {
        Loopback.Started server = ourServer(serverBuilder().buildOrThrow());
        try (Socket peer = jdkClient(server.address())) {
            try {
                peer.getOutputStream().write(garbage.bytes());
            } catch (SocketException reset) {
                // Our server may refuse the first bytes and reset before the last are written.
            }
            String event = Loopback.poll(server.events());
            assertTrue(event.startsWith("start failure SSL TLS handshake: "), event);
            if (garbage == Garbage.HTTP_REQUEST) {
                assertTrue(event.contains("http request"), event);
            }
            assertSocketClosedByPeer(peer);
        }
        assertTrue(server.events().isEmpty(), "no onClosed after onStartFailure: " + server.events());
    }

    /**
     * Garbage after a completed handshake (a JDK TLS client, then raw bytes on its socket): our
     * server started, then fails to decrypt and closes with onClosed and a "TLS read" detail.
     */
    @Test
    void garbageAfterTheHandshakeClosesOurServerConnection() throws Exception {
        Loopback.Started server = ourServer(serverBuilder().buildOrThrow());
        try (Socket raw = jdkClient(server.address());
             SSLSocket tls = (SSLSocket) jdkTrustingClientContext().getSocketFactory()
                     .createSocket(raw, "localhost", server.address().getPort(), false)) {
            tls.startHandshake();
            assertEquals("started TLSv1.3 alpn=", Loopback.poll(server.events()));
            try {
                raw.getOutputStream().write(Garbage.RANDOM_BYTES.bytes());
            } catch (SocketException reset) {
                // Our server may give up before the last bytes are written.
            }
            String event = Loopback.poll(server.events());
            assertTrue(event.startsWith("closed TLS read: "), event);
            assertSocketClosedByPeer(raw);
        }
    }

    /** {@return a JDK TLS context that trusts the test CA} */
    private static SSLContext jdkTrustingClientContext() throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream pem = Files.newInputStream(TestCertificates.caCertificate())) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(pem));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    /** How much of a real ClientHello a client sends before closing its socket (0: connect, then close). */
    static Stream<Arguments> truncations() {
        return Stream.of(Arguments.of("connect and close at once", 0),
                Arguments.of("record header only", 5),
                Arguments.of("first 50 bytes", 50),
                Arguments.of("first half", clientHello.length / 2),
                Arguments.of("all but the last byte", clientHello.length - 1));
    }

    /** A client that sends part of a ClientHello (or nothing) and closes: onStartFailure(SSL), no hang. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("truncations")
    void truncatedClientHelloFailsOurServerHandshake(String name, int length) throws Exception {
        assertTrue(clientHello.length > 100 && clientHello[0] == 0x16, "a TLS handshake record");
        Loopback.Started server = ourServer(serverBuilder().buildOrThrow());
        try (Socket peer = jdkClient(server.address())) {
            peer.getOutputStream().write(clientHello, 0, length);
        }
        String event = Loopback.poll(server.events());
        assertTrue(event.startsWith("start failure SSL"), event);
    }

    /**
     * A peer that closes in the middle of the handshake fails it (client: onConnectionFailure(SSL),
     * server: onStartFailure(SSL)), and {@code failureDetail()}, documented as "a description of
     * why the connection failed", says so instead of staying empty as it does for a graceful close.
     */
    @ParameterizedTest(name = "our {0}")
    @EnumSource(value = Side.class)
    void peerClosingMidHandshakeIsDescribedInFailureDetail(Side side) throws Exception {
        String event;
        if (side == Side.SERVER) {
            Loopback.Started server = ourServer(serverBuilder().buildOrThrow());
            try (Socket peer = jdkClient(server.address())) {
                peer.getOutputStream().write(clientHello, 0, 50);
            }
            event = Loopback.poll(server.events());
            assertTrue(event.startsWith("start failure SSL "), event);
        } else {
            try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                CompletableFuture<Void> served = CompletableFuture.runAsync(
                        () -> hostile(listener, HostileServer.CLOSES));
                RecordingClient client = connect("localhost", listener.getLocalPort(),
                        trustingClient().buildOrThrow());
                event = client.next();
                served.get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            assertTrue(event.startsWith("failure SSL "), event);
        }
        assertFalse(event.endsWith("SSL "), "failureDetail() is empty: \"" + event + "\"");
    }

    /** Which of our ends a test exercises. */
    enum Side { CLIENT, SERVER }

    /** What a hostile server does after it read our ClientHello. */
    enum HostileServer {
        /** Closes the socket without a word. */
        CLOSES,
        /** Answers with seeded random bytes and keeps the socket open. */
        ANSWERS_GARBAGE,
        /** Sends the record header and first bytes of a ServerHello that claims to be longer, then closes. */
        TRUNCATES_SERVER_HELLO
    }

    /** Our client facing a hostile server fails with onConnectionFailure(SSL), never hangs. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(HostileServer.class)
    void hostileServerFailsOurClientHandshake(HostileServer behaviour) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> hostile(listener, behaviour));
            RecordingClient client = connect("localhost", listener.getLocalPort(), trustingClient().buildOrThrow());
            String event = client.next();
            assertTrue(event.startsWith("failure SSL"), event);
            served.get(WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    /** A server that reads the ClientHello and then says nothing: the connection timeout ends the handshake. */
    @Test
    void silentServerMidHandshakeEndsInTimeout() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> hostile(listener, null));
            RecordingClient client = new RecordingClient("hello\n");
            TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", listener.getLocalPort(),
                    track(trustingClient().buildOrThrow()), client,
                    ClientOptions.DEFAULT.withConnectionTimeout(new ConnectionTimeout(300)));
            String event = client.next();
            assertTrue(event.startsWith("failure TIMEOUT"), event);
            served.get(WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    /** Plays {@code behaviour} (null: stay silent until the client closes) for one connection. */
    private static void hostile(ServerSocket listener, HostileServer behaviour) {
        try (Socket socket = listener.accept()) {
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            InputStream in = socket.getInputStream();
            byte[] header = in.readNBytes(5);
            int length = (header[3] & 0xFF) << 8 | header[4] & 0xFF;
            in.readNBytes(length); // the whole ClientHello record
            OutputStream out = socket.getOutputStream();
            if (behaviour == HostileServer.ANSWERS_GARBAGE) {
                out.write(Garbage.RANDOM_BYTES.bytes());
            } else if (behaviour == HostileServer.TRUNCATES_SERVER_HELLO) {
                byte[] partial = new byte[50];
                byte[] start = {0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03};
                System.arraycopy(start, 0, partial, 0, start.length);
                out.write(partial);
                return;
            } else if (behaviour == HostileServer.CLOSES) {
                return;
            }
            // Stay until the client gives up: EOF, or a reset if it closed with unread bytes.
            while (in.read() >= 0) {
                continue;
            }
        } catch (SocketException reset) {
            // The client hard-closed with our garbage unread: the expected end.
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ resource accounting

    /**
     * A leak trap, not a timing test: 1,000 handshakes between our client and our server (8 at a
     * time; the client closes gracefully once connected, and the server answers the close_notify
     * with its own graceful close) warm the process up, then 1,000 more are counted and must leave
     * no socket or epoll fd open, every context with no user, and the resident set (VmRSS, less
     * any growth of the committed Java heap) within {@value #NATIVE_GROWTH_BOUND_MIB} MiB of where
     * it was. Connections alternate between a client context that resumes sessions (so kept
     * sessions are replaced and freed) and one that does not (a full handshake every time).
     *
     * <p>The bound is generous: unleaky runs grew by under 3 MiB. Leaks it catches, measured by
     * breaking a copy of the runtime: {@code SSL_free} skipped (+90 MiB per 1,000), the 17 KiB
     * ciphertext buffer never freed (+38 MiB). The users() count separately catches any session
     * that was never closed at all.
     */
    @Test
    void twoThousandHandshakesLeakNoDescriptorsOrNativeMemory() throws Exception {
        SslContext server = track(serverBuilder().buildOrThrow());
        List<SslContext> clients = List.of(track(trustingClient().buildOrThrow()),
                track(trustingClient().sessionResumption(false).buildOrThrow()));
        Handshakes handshakes = new Handshakes(server);
        int port = handshakes.listen().address().getPort();
        handshakes.run(port, clients, 1_000);
        assertNoContextUsers(server, clients);
        Set<String> fdsBefore = socketFds();
        long rssBefore = rssBytes();
        long heapBefore = heapCommittedBytes();

        handshakes.run(port, clients, 1_000);

        long rssGrowth = rssBytes() - rssBefore;
        long heapGrowth = Math.max(0, heapCommittedBytes() - heapBefore);
        assertEquals(2_000, handshakes.serversStarted.get(), "server handshakes completed");
        assertEquals(2_000, handshakes.clientsConnected.get(), "client handshakes completed");
        assertTrue(handshakes.clientsResumed.get() > 0 && handshakes.clientsResumed.get() <= 1_000,
                handshakes.clientsResumed + " resumed: only the resuming context's half can");
        assertNoContextUsers(server, clients);
        assertEquals(fdsBefore, socketFds(), "socket and epoll fds after 1,000 more handshakes");
        assertTrue(rssGrowth - heapGrowth < NATIVE_GROWTH_BOUND_MIB << 20, "over 1,000 handshakes RSS grew by "
                + (rssGrowth >> 10) + " KiB, the committed heap by " + (heapGrowth >> 10) + " KiB");
    }

    private static final long NATIVE_GROWTH_BOUND_MIB = 16;

    private static void assertNoContextUsers(SslContext server, List<SslContext> clients) {
        assertEquals(0, SslContextAccess.of(server).users(), "every server session released its context");
        for (SslContext client : clients) {
            assertEquals(0, SslContextAccess.of(client).users(), "every client session released its context");
        }
    }

    /** Runs batches of handshakes between our client and our server, counting every outcome. */
    private final class Handshakes {
        private static final int CONCURRENCY = 8;
        private final SslContext serverContext;
        private final Semaphore inFlight = new Semaphore(CONCURRENCY);
        private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        final AtomicInteger serversStarted = new AtomicInteger();
        final AtomicInteger clientsConnected = new AtomicInteger();
        final AtomicInteger clientsResumed = new AtomicInteger();
        private volatile CountDownLatch serversClosed;
        private volatile CountDownLatch clientsClosed;

        Handshakes(SslContext serverContext) {
            this.serverContext = serverContext;
        }

        Loopback.Started listen() throws Exception {
            return listenTls((socket, events) ->
                    TcpConnection.sslServer(Loopback.SERVE, socket, serverContext, new ServerLifecycleReceiver() {
                        @Override
                        public void onStarted(TcpConnection c) {
                            serversStarted.incrementAndGet();
                        }

                        @Override
                        public void onClosed(TcpConnection c) {
                            if (!c.failureDetail().isEmpty()) {
                                failures.add("server closed: " + c.failureDetail());
                            }
                            serversClosed.countDown();
                        }

                        @Override
                        public void onStartFailure(TcpConnection c, StartFailure reason) {
                            failures.add("server " + reason + " " + c.failureDetail());
                            serversClosed.countDown();
                        }
                    }));
        }

        /** Runs {@code count} handshakes, {@link #CONCURRENCY} at a time, taking turns with {@code clientContexts}. */
        void run(int port, List<SslContext> clientContexts, int count) throws Exception {
            serversClosed = new CountDownLatch(count);
            clientsClosed = new CountDownLatch(count);
            ClientLifecycleReceiver receiver = new ClientLifecycleReceiver() {
                @Override
                public void onConnected(TcpConnection c) {
                    clientsConnected.incrementAndGet();
                    if (c.tlsInfo().sessionReused()) {
                        clientsResumed.incrementAndGet();
                    }
                    c.close();
                }

                @Override
                public void onClosed(TcpConnection c) {
                    if (!c.failureDetail().isEmpty()) {
                        failures.add("client closed: " + c.failureDetail());
                    }
                    done();
                }

                @Override
                public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                    failures.add("client " + reason + " " + c.failureDetail());
                    done();
                }

                private void done() {
                    clientsClosed.countDown();
                    inFlight.release();
                }
            };
            for (int i = 0; i < count; i++) {
                assertTrue(inFlight.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS), "handshake " + i + " stuck");
                TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", port,
                        clientContexts.get(i % clientContexts.size()), receiver);
            }
            assertTrue(clientsClosed.await(WAIT_SECONDS, TimeUnit.SECONDS), clientsClosed.getCount() + " clients open");
            assertTrue(serversClosed.await(WAIT_SECONDS, TimeUnit.SECONDS), serversClosed.getCount() + " servers open");
            assertTrue(failures.isEmpty(), failures.size() + " failures, e.g. " + failures.peek());
        }
    }

    private static Set<String> socketFds() {
        Set<String> sockets = new TreeSet<>();
        for (String fd : FdLeakCheck.openFds()) {
            if (fd.contains("socket:") || fd.contains("anon_inode:")) {
                sockets.add(fd);
            }
        }
        return sockets;
    }

    private static long heapCommittedBytes() {
        return Runtime.getRuntime().totalMemory(); // the heap's committed size
    }

    /** {@return the process's resident set size (VmRSS)} */
    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    // ------------------------------------------------------------------ helpers

    private SslContext track(SslContext context) {
        contexts.add(context);
        return context;
    }

    private static SslContextBuilder trustingClient() {
        return SslContext.client().trustedCertificates(TestCertificates.caCertificate());
    }

    private static SslContextBuilder serverBuilder() {
        return SslContext.server().certificateChain(TestCertificates.serverCertificate(), TestCertificates.serverKey());
    }

    private static SslContextBuilder requiringServer() {
        return serverBuilder().requireClientCertificate().trustedCertificates(TestCertificates.caCertificate());
    }

    private static String flag(TlsVersion version) {
        return switch (version) {
            case TLS_1_2 -> "-tls1_2";
            case TLS_1_3 -> "-tls1_3";
            default -> throw new IllegalArgumentException(version.toString());
        };
    }

    private static String path(Path file) {
        return file.toString();
    }

    /** Starts our client to {@code host:port}; it sends "hello\n" once connected and closes after a line back. */
    private RecordingClient connect(String host, int port, SslContext context) {
        RecordingClient client = new RecordingClient("hello\n");
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), host, port, track(context), client);
        return client;
    }

    /** A TLS client receiver that records its life as text. */
    private static final class RecordingClient implements ClientLifecycleReceiver {
        private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        private final String message;
        private final StringBuilder received = new StringBuilder();
        /** What the handshake negotiated; set before the "connected" event is queued. */
        volatile TlsInfo info;

        RecordingClient(String message) {
            this.message = message;
        }

        String next() throws InterruptedException {
            return Loopback.poll(events);
        }

        @Override
        public void onConnected(TcpConnection c) {
            info = c.tlsInfo();
            events.add("connected " + info.protocol() + " alpn=" + info.alpn());
            c.send(message);
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            received.append(Loopback.text(data));
            if (received.toString().endsWith("\n")) {
                events.add("received " + received);
                c.close();
            }
        }

        @Override
        public void onClosed(TcpConnection c) {
            events.add(c.failureDetail().isEmpty() ? "closed" : "closed " + c.failureDetail());
        }

        @Override
        public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
            events.add("failure " + reason + " " + c.failureDetail());
        }
    }

    /**
     * Our TLS server on 127.0.0.1:0: records {@code started <protocol> alpn=<alpn>} (and the whole
     * {@link TlsInfo} in {@link #serverInfos}), echoes every
     * byte, closes after echoing a newline, and records {@code closed} or {@code start failure ...}.
     */
    private Loopback.Started ourServer(SslContext context) throws Exception {
        track(context);
        return listenTls((socket, events) ->
                TcpConnection.sslServer(Loopback.SERVE, socket, context, new ServerLifecycleReceiver() {
                    @Override
                    public void onStarted(TcpConnection c) {
                        serverInfos.add(c.tlsInfo());
                        events.add("started " + c.tlsInfo().protocol() + " alpn=" + c.tlsInfo().alpn());
                    }

                    @Override
                    public void onReceived(TcpConnection c, MemorySegment data) {
                        byte[] bytes = data.toArray(ValueLayout.JAVA_BYTE);
                        c.send(bytes);
                        if (bytes.length > 0 && bytes[bytes.length - 1] == '\n') {
                            c.close();
                        }
                    }

                    @Override
                    public void onClosed(TcpConnection c) {
                        events.add(c.failureDetail().isEmpty() ? "closed" : "closed " + c.failureDetail());
                    }

                    @Override
                    public void onStartFailure(TcpConnection c, StartFailure reason) {
                        events.add("start failure " + reason + " " + c.failureDetail());
                    }
                }));
    }

    /** Listens on 127.0.0.1:0; {@code onAccept} wraps each socket, given the queue the test reads events from. */
    private Loopback.Started listenTls(BiFunction<AcceptedSocket, BlockingQueue<String>, TcpConnection> onAccept)
            throws Exception {
        CompletableFuture<InetSocketAddress> listening = new CompletableFuture<>();
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        TcpListener listener = TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l.localAddress());
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                listening.completeExceptionally(new AssertionError("listen failed: " + failure));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return onAccept.apply(socket, events);
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        return new Loopback.Started(listener, Loopback.await(listening), events);
    }

    private static Socket jdkClient(InetSocketAddress address) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(address, (int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return socket;
    }

    /** Reads until our side's close shows: EOF (after any alert) or a reset; a timeout means we never closed. */
    private static void assertSocketClosedByPeer(Socket peer) throws IOException {
        try {
            InputStream in = peer.getInputStream();
            byte[] sink = new byte[4096];
            while (in.read(sink) >= 0) {
                continue;
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("our server kept the socket open for " + WAIT_SECONDS + " s", e);
        } catch (SocketException reset) {
            // Closed with the peer's bytes unread: a reset is a close too.
        }
    }

    /** {@return the first TLS record a JDK client sends: a ClientHello for localhost} */
    private static byte[] jdkClientHello() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        SSLEngine engine = context.createSSLEngine("localhost", 443);
        engine.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] hello = new byte[out.remaining()];
        out.get(hello);
        return hello;
    }

    // ------------------------------------------------------------------ OpenSSL processes

    /** Starts {@code openssl s_server} ({@link OpenSslProcess#server}); it is stopped after the test. */
    private OpenSslProcess openSslServer(String... args) throws Exception {
        OpenSslProcess server = OpenSslProcess.server(args);
        peers.add(server);
        return server;
    }

    /**
     * Runs {@code openssl s_client} against {@code server} (verifying it as localhost against the
     * test CA), writes {@code input} to its stdin and waits for it to exit: {@code -ign_eof} keeps
     * it reading until our server closes. {@return its exit code and merged output}
     */
    private static Project.Run openSslClient(Loopback.Started server, String input, String... args)
            throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client",
                "-connect", "127.0.0.1:" + server.address().getPort(), "-servername", "localhost",
                "-verify_return_error", "-CAfile", path(TestCertificates.caCertificate()), "-ign_eof"));
        command.addAll(Arrays.asList(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
                try (InputStream in = process.getInputStream()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "(output lost: " + e + ")";
                }
            });
            try (OutputStream stdin = process.getOutputStream()) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            } catch (IOException gone) {
                // s_client already exited (a refused handshake): its exit code tells.
            }
            if (!process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError(command + " did not finish within " + WAIT_SECONDS + " s");
            }
            return new Project.Run(process.exitValue(), output.get(WAIT_SECONDS, TimeUnit.SECONDS));
        } finally {
            process.destroyForcibly();
            process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS);
            process.getInputStream().close();
            process.getOutputStream().close();
        }
    }
}
