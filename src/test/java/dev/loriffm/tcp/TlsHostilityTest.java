package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.tls.SslContextAccess;
import dev.loriffm.loop.EventLoop;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
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
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static dev.loriffm.tcp.Loopback.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile TLS peers after and around the handshake, in both directions (our server facing a
 * hostile client, our client facing a hostile server): forged, truncated and oversized records
 * after a real handshake; a handshake fragmented one byte per TCP segment (legal, must succeed);
 * renegotiation requests (refused); protocol versions below the minimum and weak cipher suites
 * (refused); and a FIN without close_notify in the middle of the stream (truncation, reported in
 * {@code failureDetail()}).
 *
 * <p>Every case must end in the right callback with no hang, deliver only the plaintext of
 * complete, authentic records (never attacker bytes), leave no fd open ({@link FdLeakCheck}), let
 * no exception escape into the loop, and leave the group stopped and every context unused after
 * {@code group.close()} (checked after each test).
 *
 * <p>Record-level hostility uses {@link JdkTlsPeer}: the JDK's TLS engine driven by hand, so the
 * test holds the ciphertext and can cut or forge records on the real socket. Version, cipher and
 * renegotiation cases use {@code openssl s_client}/{@code s_server}. Everything is on 127.0.0.1.
 */
@ExtendWith(FdLeakCheck.class)
class TlsHostilityTest {
    /** Sent as a real record before the hostile bytes; it must arrive, whole and alone. */
    private static final String BEFORE = "before the attack\n";
    /** How our side reports a FIN that came with no close_notify before it. */
    private static final String TRUNCATED =
            "closed TLS read: the peer closed the connection without close_notify (truncated)";

    private EventLoopGroup group;
    private final List<AutoCloseable> peers = new ArrayList<>();
    private final List<SslContext> contexts = new ArrayList<>();

    @BeforeAll
    static void warmUp() throws Exception {
        JdkPeer.warmUp();
        TestCertificates.dir();
        JdkTlsPeer.warmUp();
    }

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() throws Exception {
        long failures = ConnectionFakes.callbackFailures(group);
        List<Integer> users = new ArrayList<>();
        try {
            for (AutoCloseable peer : peers) {
                peer.close();
            }
        } finally {
            group.close();
            for (SslContext context : contexts) {
                users.add(SslContextAccess.of(context).users());
                context.close();
            }
        }
        for (EventLoop loop : group.loops()) {
            assertTrue(((Reactor) loop).awaitTermination(0, TimeUnit.SECONDS), loop + " still running after close()");
        }
        assertTrue(users.stream().allMatch(n -> n == 0), "TLS sessions outlived their connections: " + users);
        assertEquals(0, failures, "exceptions escaped into the loop");
    }

    // ------------------------------------------------------------------ forged records after the handshake

    /** Which of our ends faces the hostile peer. */
    enum Side { SERVER, CLIENT }

    static Stream<Arguments> sidesAndVersions() {
        return Stream.of(Side.values()).flatMap(side ->
                Stream.of("TLSv1.2", "TLSv1.3").map(version -> Arguments.of(side, version)));
    }

    /**
     * After a real record, a well-formed application_data header (type 23, version 0x0303, length
     * 64) with a random body: it cannot authenticate, so the connection closes with a "TLS read"
     * detail, and only the real record's plaintext was delivered.
     */
    @ParameterizedTest(name = "our {0}, {1}")
    @MethodSource("sidesAndVersions")
    void forgedApplicationDataRecordClosesTheConnectionAndDeliversNothingOfIt(Side side, String version)
            throws Exception {
        Connected c = connectHostile(side, version);
        c.sendBefore();
        c.peer.writeRaw(record(0x17, 64, 64));
        String closed = c.ours.next();
        assertTrue(closed.startsWith("closed TLS read: ")
                && closed.endsWith("decryption failed or bad record mac"), closed);
        assertEquals(BEFORE, c.ours.received(), "only the authentic record's plaintext");
        assertTrue(c.peer.awaitPeerClose(), "our side closed the socket");
    }

    /**
     * A record of content type 99 (not a TLS content type) after the handshake: closed, nothing of
     * it delivered. TLS 1.3 refuses the outer type at once ("bad record type"); OpenSSL's TLS 1.2
     * path authenticates the record before it looks at the type, so there the forged body fails first.
     */
    @ParameterizedTest(name = "our {0}, {1}")
    @MethodSource("sidesAndVersions")
    void recordOfAnInvalidContentTypeClosesTheConnection(Side side, String version) throws Exception {
        Connected c = connectHostile(side, version);
        c.sendBefore();
        c.peer.writeRaw(record(99, 32, 32));
        String closed = c.ours.next();
        String refusal = version.equals("TLSv1.3") ? "bad record type" : "decryption failed or bad record mac";
        assertTrue(closed.startsWith("closed TLS read: ") && closed.endsWith(refusal), closed);
        assertEquals(BEFORE, c.ours.received());
        assertTrue(c.peer.awaitPeerClose(), "our side closed the socket");
    }

    /**
     * Plaintext injected as an application_data record (what a man in the middle could write into
     * the stream) is never delivered as if it had been encrypted: it fails authentication and the
     * connection closes.
     */
    @ParameterizedTest(name = "our {0}, {1}")
    @MethodSource("sidesAndVersions")
    void injectedPlaintextRecordIsNeverDelivered(Side side, String version) throws Exception {
        Connected c = connectHostile(side, version);
        c.sendBefore();
        byte[] text = "GET /injected-by-an-attacker HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        c.peer.writeRaw(record(0x17, text.length, text));
        String closed = c.ours.next();
        assertTrue(closed.startsWith("closed TLS read: ")
                && closed.endsWith("decryption failed or bad record mac"), closed);
        assertEquals(BEFORE, c.ours.received());
        assertTrue(c.peer.awaitPeerClose(), "our side closed the socket");
    }

    /**
     * An unencrypted close_notify alert injected after the handshake (a truncation attack: end the
     * stream early and make it look clean) is refused, not taken for the peer's close: the
     * connection closes with a "TLS read" failure detail, never as a clean close.
     */
    @ParameterizedTest(name = "our {0}, {1}")
    @MethodSource("sidesAndVersions")
    void forgedPlaintextCloseNotifyIsNotACleanClose(Side side, String version) throws Exception {
        Connected c = connectHostile(side, version);
        c.sendBefore();
        c.peer.writeRaw(record(0x15, 2, new byte[] {1, 0})); // alert: level warning, close_notify
        String closed = c.ours.next();
        assertTrue(closed.startsWith("closed TLS read: "), closed);
        assertEquals(BEFORE, c.ours.received());
        assertTrue(c.peer.awaitPeerClose(), "our side closed the socket");
    }

    /**
     * A record header promising 256 bytes, 100 of them, then FIN: nothing of the partial record is
     * delivered (it cannot even be authenticated), and the end of the stream closes the connection,
     * described as a truncation.
     */
    @ParameterizedTest(name = "our {0}, {1}")
    @MethodSource("sidesAndVersions")
    void recordCutShortByFinClosesWithoutPartialDelivery(Side side, String version) throws Exception {
        Connected c = connectHostile(side, version);
        c.sendBefore();
        c.peer.writeRaw(record(0x17, 256, 100));
        c.peer.shutdownOutput();
        String closed = c.ours.next();
        assertEquals(TRUNCATED, closed);
        assertEquals(BEFORE, c.ours.received());
        assertTrue(c.peer.awaitPeerClose(), "our side closed the socket");
    }

    static Stream<Arguments> sidesVersionsAndOversizedLengths() {
        return sidesAndVersions().flatMap(arguments -> Stream.of(0x4801, 0xFFFF)
                .map(length -> Arguments.of(arguments.get()[0], arguments.get()[1], length)));
    }

    /**
     * A record header whose length no TLS record may have (TLS 1.3 allows 2^14 + 256 bytes, RFC
     * 8446 §5.2; TLS 1.2 2^14 + 2048, RFC 5246 §6.2.3), after which the peer streams bytes
     * without end: our side refuses at the header and closes (the peer's writing then fails with
     * a reset) long before {@value #OVERSIZED_STREAM_CAP_MIB} MiB are accepted, so the promised
     * body is never buffered.
     */
    @ParameterizedTest(name = "our {0}, {1}, length {2}")
    @MethodSource("sidesVersionsAndOversizedLengths")
    void oversizedRecordHeaderClosesWithoutBufferingTheBody(Side side, String version, int length)
            throws Exception {
        Connected c = connectHostile(side, version);
        c.sendBefore();
        AtomicLong streamed = new AtomicLong();
        CompletableFuture<Boolean> refused = CompletableFuture.supplyAsync(() -> {
            byte[] chunk = new byte[64 * 1024];
            new Random(length).nextBytes(chunk);
            try {
                OutputStream out = c.peer.socket().getOutputStream();
                out.write(new byte[] {0x17, 0x03, 0x03, (byte) (length >> 8), (byte) length});
                while (streamed.get() < (long) OVERSIZED_STREAM_CAP_MIB << 20) {
                    out.write(chunk);
                    streamed.addAndGet(chunk.length);
                }
                return false;
            } catch (IOException reset) {
                return true;
            }
        });
        String closed = c.ours.next();
        assertTrue(closed.startsWith("closed TLS read: ") && closed.endsWith("packet length too long"), closed);
        assertTrue(Loopback.await(refused), "the peer streamed " + OVERSIZED_STREAM_CAP_MIB
                + " MiB after an oversized header and our side still took it");
        assertEquals(BEFORE, c.ours.received());
    }

    private static final int OVERSIZED_STREAM_CAP_MIB = 64;

    // ------------------------------------------------------------------ close_notify truncation

    /**
     * The peer sends a complete record, then the first half of another, then FIN with no
     * close_notify: the complete record's plaintext is delivered, the half record's is not, and
     * onClosed's {@code failureDetail()} names the truncation (a clean close_notify leaves it
     * empty; see {@code TlsInteropTest}).
     */
    @ParameterizedTest(name = "our {0}, {1}")
    @MethodSource("sidesAndVersions")
    void finWithoutCloseNotifyMidStreamIsReportedAsTruncation(Side side, String version) throws Exception {
        Connected c = connectHostile(side, version);
        byte[] complete = c.peer.record("a complete record\n");
        byte[] cut = c.peer.record("a record that never ends\n");
        byte[] both = Arrays.copyOf(complete, complete.length + cut.length / 2);
        System.arraycopy(cut, 0, both, complete.length, cut.length / 2);
        c.peer.writeRaw(both);
        c.peer.shutdownOutput();
        assertEquals("received a complete record\n", c.ours.next());
        String closed = c.ours.next();
        assertEquals(TRUNCATED, closed);
        assertEquals("a complete record\n", c.ours.received(), "nothing of the cut record");
        assertTrue(c.peer.awaitPeerClose(), "our side closed the socket");
    }

    /**
     * A real OpenSSL server killed mid-connection (the kernel sends FIN, no close_notify): our
     * client got what came before, then onClosed with the truncation in {@code failureDetail()}.
     */
    @Test
    void killedOpenSslServerIsReportedAsTruncationByOurClient() throws Exception {
        OpenSslProcess server = openSslServer("-tls1_3");
        Recording ours = new Recording();
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.port, track(trustingClient()
                .buildOrThrow()), ours);
        assertEquals("ready TLSv1.3", ours.next());
        server.awaitLine(line -> line.startsWith("CIPHER is "));
        server.writeStdin(BEFORE);
        assertEquals("received " + BEFORE, ours.next());
        server.kill();
        assertEquals(TRUNCATED, ours.next());
    }

    /** A real OpenSSL client killed mid-connection: our server reports the truncation the same way. */
    @Test
    void killedOpenSslClientIsReportedAsTruncationByOurServer() throws Exception {
        Recording ours = new Recording().echo();
        InetSocketAddress address = listen(serverBuilder().buildOrThrow(), ours);
        OpenSslProcess client = openSslClient(address, "-tls1_3");
        assertEquals("ready TLSv1.3", ours.next());
        client.writeStdin(BEFORE);
        assertEquals("received " + BEFORE, ours.next());
        // Once s_client printed the echo it has read everything our server sent (the session
        // tickets came first), so its death closes with FIN, not with a reset for unread bytes.
        client.awaitLine(line -> line.equals(BEFORE.strip()));
        client.kill();
        assertEquals(TRUNCATED, ours.next());
    }

    // ------------------------------------------------------------------ fragmentation

    /**
     * {@code s_client} through a relay that forwards its bytes to our server one byte per write
     * (TCP_NODELAY: one segment each). Fragmentation is legal: the handshake completes and the
     * echo comes back whole.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-tls1_2", "-tls1_3"})
    void clientHelloSplitByteByByteStillCompletesTheHandshake(String version) throws Exception {
        Recording ours = new Recording().echo().closeOnNewline();
        InetSocketAddress server = listen(serverBuilder().buildOrThrow(), ours);
        Relay relay = track(new Relay(server, true, false));
        String line = "fragmented but fine\n";
        OpenSslProcess client = openSslClient(relay.address(), version, "-ign_eof");
        client.writeStdin(line);
        client.closeStdin();
        assertEquals(0, client.awaitExit(), client.output());
        assertTrue(client.output().contains(line), "the echo: " + client.output());
        assertTrue(ours.next().startsWith("ready TLSv1."));
        assertEquals(line, ours.receivedAfterClose());
        assertTrue(relay.clientToServerWrites() > 200, "s_client's bytes (a ClientHello is over 200 alone), "
                + "one write each: " + relay.clientToServerWrites());
    }

    /** The other way: {@code s_server}'s whole flight reaches our client one byte per segment; it still connects. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-tls1_2", "-tls1_3"})
    void serverFlightSplitByteByByteStillCompletesOurClientsHandshake(String version) throws Exception {
        OpenSslProcess server = openSslServer(version, "-rev");
        Relay relay = track(new Relay(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port),
                false, true));
        Recording ours = new Recording().sendOnReady("hello\n").closeOnNewline();
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", relay.address().getPort(),
                track(trustingClient().buildOrThrow()), ours);
        assertTrue(ours.next().startsWith("ready TLSv1."));
        assertEquals("olleh\n", ours.receivedAfterClose());
        assertTrue(relay.serverToClientWrites() > 500, "the certificate flight, byte by byte: "
                + relay.serverToClientWrites());
    }

    // ------------------------------------------------------------------ renegotiation

    /**
     * TLS 1.2 with {@code s_client}, which asks for renegotiation ("R" on its stdin): our server
     * refuses (no_renegotiation), s_client gives up with a fatal alert, and our server's connection
     * ends in onClosed with that alert in the detail; the data before it arrived intact.
     */
    @Test
    void clientRequestedRenegotiationIsRefusedByOurServer() throws Exception {
        Recording ours = new Recording();
        InetSocketAddress address = listen(serverBuilder().maximumVersion(TlsVersion.TLS_1_2).buildOrThrow(), ours);
        OpenSslProcess client = openSslClient(address, "-tls1_2");
        assertEquals("ready TLSv1.2", ours.next());
        client.writeStdin(BEFORE);
        assertEquals("received " + BEFORE, ours.next());
        client.writeStdin("R\n");
        client.awaitLine(line -> line.equals("RENEGOTIATING"));
        client.awaitLine(line -> line.contains("no renegotiation"));
        String closed = ours.next();
        assertTrue(closed.startsWith("closed TLS read: ") && closed.contains("handshake failure"), closed);
        assertEquals(BEFORE, ours.received());
    }

    /**
     * TLS 1.2 with {@code s_server}, which sends a HelloRequest ("r" on its stdin): our client
     * answers no_renegotiation, s_server gives up with a fatal alert, and our client's connection
     * ends in onClosed with that alert; the data before it arrived intact.
     */
    @Test
    void serverRequestedRenegotiationIsRefusedByOurClient() throws Exception {
        OpenSslProcess server = openSslServer("-tls1_2");
        Recording ours = new Recording();
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.port,
                track(trustingClient().maximumVersion(TlsVersion.TLS_1_2).buildOrThrow()), ours);
        assertEquals("ready TLSv1.2", ours.next());
        server.awaitLine(line -> line.startsWith("CIPHER is "));
        server.writeStdin(BEFORE);
        assertEquals("received " + BEFORE, ours.next());
        server.writeStdin("r\n");
        server.awaitLine(line -> line.contains("no renegotiation"));
        String closed = ours.next();
        assertTrue(closed.startsWith("closed TLS read: ") && closed.contains("handshake failure"), closed);
        assertEquals(BEFORE, ours.received());
    }

    // ------------------------------------------------------------------ versions and cipher suites

    /** Our client requiring TLS 1.3 against {@code s_server -tls1_2}: onConnectionFailure(SSL), nothing delivered. */
    @Test
    void ourClientRequiringTls13RefusesATls12OnlyServer() throws Exception {
        OpenSslProcess server = openSslServer("-tls1_2", "-rev");
        Recording ours = new Recording().sendOnReady("hello\n");
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.port,
                track(trustingClient().minimumVersion(TlsVersion.TLS_1_3).buildOrThrow()), ours);
        String failure = ours.next();
        assertTrue(failure.startsWith("failure SSL TLS handshake: ") && failure.contains("protocol version"), failure);
        assertEquals("", ours.received());
    }

    /**
     * Our server with the default minimum (TLS 1.2) against {@code s_client} offering only TLS 1.0
     * or 1.1 (its security level lowered so it may): onStartFailure(SSL), and s_client gets the
     * protocol_version alert, no echo.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-tls1", "-tls1_1"})
    void ourServerRefusesAClientOfferingOnlyTls10Or11(String version) throws Exception {
        Recording ours = new Recording().echo();
        InetSocketAddress address = listen(serverBuilder().buildOrThrow(), ours);
        OpenSslProcess client = openSslClient(address, version, "-cipher", "DEFAULT:@SECLEVEL=0", "-ign_eof");
        client.offerStdin("ping\n");
        client.closeStdin();
        String failure = ours.next();
        assertTrue(failure.startsWith("start failure SSL TLS handshake: ") && failure.contains("unsupported protocol"),
                failure);
        assertNotEquals(0, client.awaitExit(), client.output());
        assertTrue(client.output().contains("protocol version"), client.output());
        assertFalse(client.output().contains("ping"), "no echo: " + client.output());
    }

    /** Cipher suites no secure server may accept: no encryption, no authentication, broken ciphers. */
    private static final String WEAK_CIPHERS = "NULL:eNULL:aNULL:RC4:DES:3DES:EXPORT:@SECLEVEL=0";

    /**
     * {@code s_client -tls1_2} offering only weak suites (NULL encryption, anonymous, RC4, DES,
     * 3DES, export): our server shares none, onStartFailure(SSL) "no shared cipher", no echo. The
     * same s_client does complete a handshake with an {@code s_server} that allows NULL encryption,
     * so it really offered usable (plaintext-on-the-wire) suites.
     */
    @Test
    void ourServerRefusesAClientOfferingOnlyWeakCipherSuites() throws Exception {
        Recording ours = new Recording().echo();
        InetSocketAddress address = listen(serverBuilder().buildOrThrow(), ours);
        OpenSslProcess client = openSslClient(address, "-tls1_2", "-cipher", WEAK_CIPHERS, "-ign_eof");
        client.offerStdin("ping\n");
        client.closeStdin();
        String failure = ours.next();
        assertTrue(failure.startsWith("start failure SSL TLS handshake: ") && failure.contains("no shared cipher"),
                failure);
        assertNotEquals(0, client.awaitExit(), client.output());
        assertFalse(client.output().contains("ping"), "no echo: " + client.output());

        OpenSslProcess permissive = openSslServer("-tls1_2", "-rev", "-cipher", "eNULL:@SECLEVEL=0");
        OpenSslProcess control = openSslClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), permissive.port),
                "-tls1_2", "-cipher", WEAK_CIPHERS);
        permissive.awaitLine(line -> line.equals("Ciphersuite: ECDHE-ECDSA-NULL-SHA"));
        control.kill();
    }

    /**
     * {@code s_server -tls1_2} allowing only weak suites: our client offers none of them, the
     * server's handshake_failure alert ends our handshake, onConnectionFailure(SSL), nothing sent.
     */
    @Test
    void ourClientRefusesAServerOfferingOnlyWeakCipherSuites() throws Exception {
        OpenSslProcess server = openSslServer("-tls1_2", "-rev", "-cipher", WEAK_CIPHERS);
        Recording ours = new Recording().sendOnReady("hello\n");
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.port,
                track(trustingClient().buildOrThrow()), ours);
        String failure = ours.next();
        assertTrue(failure.startsWith("failure SSL TLS handshake: ") && failure.contains("handshake failure"), failure);
        server.awaitLine(line -> line.contains("no shared cipher"));
        assertEquals("", ours.received());
    }

    // ------------------------------------------------------------------ helpers: our side

    /** A receiver for either end that records its life: {@code ready <protocol>}, {@code received <text>}, ... */
    private static final class Recording implements ClientLifecycleReceiver, ServerLifecycleReceiver {
        private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private boolean echo;
        private boolean closeOnNewline;
        private String greeting;

        Recording echo() {
            echo = true;
            return this;
        }

        Recording closeOnNewline() {
            closeOnNewline = true;
            return this;
        }

        Recording sendOnReady(String text) {
            greeting = text;
            return this;
        }

        String next() throws InterruptedException {
            return Loopback.poll(events);
        }

        /** {@return every byte delivered so far, as text} */
        String received() {
            synchronized (received) {
                return received.toString(StandardCharsets.UTF_8);
            }
        }

        /** Waits for a plain {@code closed} (skipping {@code received} events); {@return every byte delivered} */
        String receivedAfterClose() throws InterruptedException {
            String event;
            while ((event = next()).startsWith("received ")) {
                continue;
            }
            assertEquals("closed", event);
            return received();
        }

        private void ready(TcpConnection c) {
            events.add("ready " + c.tlsInfo().protocol());
            if (greeting != null) {
                c.send(greeting);
            }
        }

        @Override
        public void onConnected(TcpConnection c) {
            ready(c);
        }

        @Override
        public void onStarted(TcpConnection c) {
            ready(c);
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            byte[] bytes = data.toArray(ValueLayout.JAVA_BYTE);
            synchronized (received) {
                received.writeBytes(bytes);
            }
            events.add("received " + new String(bytes, StandardCharsets.UTF_8));
            if (echo) {
                c.send(bytes);
            }
            if (closeOnNewline && bytes.length > 0 && bytes[bytes.length - 1] == '\n') {
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

        @Override
        public void onStartFailure(TcpConnection c, StartFailure reason) {
            events.add("start failure " + reason + " " + c.failureDetail());
        }
    }

    /** Our TLS server on 127.0.0.1:0 whose (one) connection reports to {@code recording}. {@return its address} */
    private InetSocketAddress listen(SslContext context, Recording recording) throws Exception {
        track(context);
        return Loopback.listenTls(group, context, socket -> recording).address();
    }

    /** Our end and a JDK TLS peer with the handshake between them complete. */
    private record Connected(Recording ours, JdkTlsPeer peer) {
        /** The peer sends {@link #BEFORE} as one real record; {@return once our side delivered it} */
        void sendBefore() throws Exception {
            peer.writeRaw(peer.record(BEFORE));
            assertEquals("received " + BEFORE, ours.next());
        }
    }

    /** Connects our {@code side} to a {@link JdkTlsPeer} speaking only {@code version}, through the handshake. */
    private Connected connectHostile(Side side, String version) throws Exception {
        Recording ours = new Recording();
        JdkTlsPeer peer;
        if (side == Side.SERVER) {
            InetSocketAddress address = listen(serverBuilder().buildOrThrow(), ours);
            Socket socket = new Socket();
            peers.add(socket);
            socket.connect(address, (int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            socket.setTcpNoDelay(true);
            peer = JdkTlsPeer.client(socket, version);
        } else {
            try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                listener.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", listener.getLocalPort(),
                        track(trustingClient().buildOrThrow()), ours);
                Socket socket = listener.accept();
                peers.add(socket);
                socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                socket.setTcpNoDelay(true);
                peer = JdkTlsPeer.server(socket, version);
            }
        }
        peers.add(peer);
        peer.handshake();
        assertEquals(version, peer.protocol());
        assertEquals("ready " + version, ours.next());
        return new Connected(ours, peer);
    }

    /** {@return a record header of {@code type} promising {@code length} bytes, then {@code sent} random bytes} */
    private static byte[] record(int type, int length, int sent) {
        byte[] body = new byte[sent];
        new Random(type * 31L + length).nextBytes(body);
        return record(type, length, body);
    }

    /** {@return a record header of {@code type} (version 0x0303) promising {@code length} bytes, then {@code body}} */
    private static byte[] record(int type, int length, byte[] body) {
        byte[] bytes = new byte[5 + body.length];
        bytes[0] = (byte) type;
        bytes[1] = 0x03;
        bytes[2] = 0x03;
        bytes[3] = (byte) (length >> 8);
        bytes[4] = (byte) length;
        System.arraycopy(body, 0, bytes, 5, body.length);
        return bytes;
    }

    private SslContext track(SslContext context) {
        contexts.add(context);
        return context;
    }

    private <T extends AutoCloseable> T track(T peer) {
        peers.add(peer);
        return peer;
    }

    private static SslContextBuilder trustingClient() {
        return SslContext.client().trustedCertificates(TestCertificates.caCertificate());
    }

    private static SslContextBuilder serverBuilder() {
        return SslContext.server().certificateChain(TestCertificates.serverCertificate(), TestCertificates.serverKey());
    }

    // ------------------------------------------------------------------ helpers: peers

    private OpenSslProcess openSslServer(String... args) throws Exception {
        return track(OpenSslProcess.server(args));
    }

    private OpenSslProcess openSslClient(InetSocketAddress address, String... args) throws Exception {
        return track(OpenSslProcess.client(address, args));
    }

    /**
     * A TCP relay on 127.0.0.1:0 for one connection to {@code target}; each direction is copied
     * either as it comes or one byte per write (with TCP_NODELAY, one segment per byte), counting
     * the writes.
     */
    private static final class Relay implements AutoCloseable {
        private final ServerSocket listener;
        private final List<Socket> sockets = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        private final AtomicLong clientToServerWrites = new AtomicLong();
        private final AtomicLong serverToClientWrites = new AtomicLong();

        Relay(InetSocketAddress target, boolean splitClientToServer, boolean splitServerToClient) throws IOException {
            listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            Thread accepting = Thread.ofPlatform().daemon().name("relay").unstarted(() -> {
                try {
                    Socket client = listener.accept();
                    Socket server = new Socket();
                    synchronized (sockets) {
                        sockets.add(client);
                        sockets.add(server);
                    }
                    server.connect(target);
                    client.setTcpNoDelay(true);
                    server.setTcpNoDelay(true);
                    Thread back = Thread.ofPlatform().daemon().name("relay back").start(
                            () -> pump(server, client, splitServerToClient, serverToClientWrites));
                    synchronized (threads) {
                        threads.add(back);
                    }
                    pump(client, server, splitClientToServer, clientToServerWrites);
                } catch (IOException closed) {
                    // The test closed the relay.
                }
            });
            synchronized (threads) {
                threads.add(accepting);
            }
            accepting.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) listener.getLocalSocketAddress();
        }

        long clientToServerWrites() {
            return clientToServerWrites.get();
        }

        long serverToClientWrites() {
            return serverToClientWrites.get();
        }

        /** Copies {@code from} to {@code to} until end of stream, then passes the FIN on. */
        private static void pump(Socket from, Socket to, boolean split, AtomicLong writes) {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (split) {
                        for (int i = 0; i < n; i++) {
                            out.write(buffer[i]);
                            writes.incrementAndGet();
                        }
                    } else {
                        out.write(buffer, 0, n);
                        writes.incrementAndGet();
                    }
                }
                to.shutdownOutput();
            } catch (IOException reset) {
                try {
                    to.close();
                    from.close();
                } catch (IOException ignored) {
                    // Closing is all that is left.
                }
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            synchronized (sockets) {
                for (Socket socket : sockets) {
                    socket.close();
                }
            }
            List<Thread> all;
            synchronized (threads) {
                all = new ArrayList<>(threads);
            }
            try {
                for (Thread thread : all) {
                    thread.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
