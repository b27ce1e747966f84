package dev.loriffm.tcp;

import dev.loriffm.testing.FdLeakCheck;
import dev.loriffm.testing.Project;
import dev.loriffm.tls.SslContext;
import dev.loriffm.tls.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TLS connections over loopback: our client and server, and real OpenSSL peers on either side. */
@ExtendWith(FdLeakCheck.class)
class TlsConnectionTest extends TlsFixture {


    /** A TLS echo server: echoes every received byte over TLS. */
    private Loopback.Started tlsEchoServer() throws Exception {
        return tlsEchoServer(false);
    }

    /** As {@link #tlsEchoServer()}; with {@code closeAfterLine}, closes once it echoed a newline. */
    private Loopback.Started tlsEchoServer(boolean closeAfterLine) throws Exception {
        CompletableFuture<java.net.InetSocketAddress> listening = new CompletableFuture<>();
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        TcpListener listener = TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l.localAddress());
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                listening.completeExceptionally(new AssertionError(failure.toString()));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return TcpConnection.sslServer(Loopback.SERVE, socket, serverContext, new ServerLifecycleReceiver() {
                    @Override
                    public void onStarted(TcpConnection c) {
                        events.add("started " + c.tlsInfo().protocol());
                    }

                    @Override
                    public void onReceived(TcpConnection c, MemorySegment data) {
                        byte[] bytes = data.toArray(ValueLayout.JAVA_BYTE);
                        c.send(bytes);
                        if (closeAfterLine && bytes.length > 0 && bytes[bytes.length - 1] == '\n') {
                            c.close(); // close_notify after the echo, then FIN
                        }
                    }

                    @Override
                    public void onClosed(TcpConnection c) {
                        events.add("closed");
                    }

                    @Override
                    public void onStartFailure(TcpConnection c, StartFailure reason) {
                        events.add("start failure " + reason + " " + c.failureDetail());
                    }
                });
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        return new Loopback.Started(listener, Loopback.await(listening), events);
    }

    /** A client receiver recording its life; sends {@code message} once connected. */
    private static ClientLifecycleReceiver client(BlockingQueue<String> events, String message, int expect) {
        return new ClientLifecycleReceiver() {
            private final StringBuilder received = new StringBuilder();

            @Override
            public void onConnected(TcpConnection c) {
                TlsInfo info = c.tlsInfo();
                if (!info.peerAltNames().contains("localhost") || !info.peerSubject().contains("CN=")) {
                    events.add("bad peer info " + info);
                }
                events.add("connected " + info.protocol());
                c.send(message);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                received.append(Loopback.text(data));
                if (received.length() >= expect) {
                    events.add("received " + received);
                    c.close();
                }
            }

            @Override
            public void onClosed(TcpConnection c) {
                events.add("closed");
            }

            @Override
            public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                events.add("failure " + reason + " " + c.failureDetail());
            }
        };
    }

    /** Our TLS client and server exchange data; callbacks start only after the handshake. */
    @Test
    void clientAndServerExchangeDataOverTls() throws Exception {
        Loopback.Started server = tlsEchoServer();
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        String big = "x".repeat(100_000);
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.address().getPort(),
                clientContext, client(events, big, big.length()));
        assertEquals("connected TLSv1.3", Loopback.poll(events));
        assertEquals("received " + big, Loopback.poll(events));
        assertEquals("closed", Loopback.poll(events), "graceful close: close_notify, FIN, then the peer's FIN");
        assertEquals("started TLSv1.3", Loopback.poll(server.events()));
        assertEquals("closed", Loopback.poll(server.events()));
    }

    /** A second connection to the same server resumes the first one's session (on by default). */
    @Test
    void secondConnectionResumesTheSession() throws Exception {
        Loopback.Started server = tlsEchoServer();
        for (int round = 0; round < 2; round++) {
            BlockingQueue<String> events = new LinkedBlockingQueue<>();
            int expectRound = round;
            TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.address().getPort(),
                    clientContext, new ClientLifecycleReceiver() {
                        @Override
                        public void onConnected(TcpConnection c) {
                            events.add("resumed " + c.tlsInfo().sessionReused());
                            c.send("ping");
                        }

                        @Override
                        public void onReceived(TcpConnection c, MemorySegment data) {
                            c.close(); // graceful: close_notify keeps the session resumable
                        }

                        @Override
                        public void onClosed(TcpConnection c) {
                            events.add("closed");
                        }

                        @Override
                        public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                            events.add("failure " + reason);
                        }
                    });
            assertEquals("resumed " + (expectRound == 1), Loopback.poll(events));
            assertEquals("closed", Loopback.poll(events));
        }
    }

    /** A server certificate for another host name is rejected: onConnectionFailure(SSL), never onConnected. */
    @Test
    void certificateForAnotherHostFailsTheHandshake() throws Exception {
        serverContext.close();
        serverContext = SslContext.server()
                .certificateChain(TestCertificates.wrongHostCertificate(), TestCertificates.wrongHostKey())
                .buildOrThrow();
        Loopback.Started server = tlsEchoServer();
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.address().getPort(),
                clientContext, client(events, "x", 1));
        String event = Loopback.poll(events);
        assertTrue(event.startsWith("failure SSL") && event.contains("verify"), event);
    }

    /** A client that does not trust the server's CA fails with SSL and a certificate-verify text. */
    @Test
    void untrustedServerFailsWithSsl() throws Exception {
        Loopback.Started server = tlsEchoServer();
        try (SslContext untrusting = SslContext.client()
                .trustedCertificates(TestCertificates.selfSignedCertificate()).buildOrThrow()) {
            BlockingQueue<String> events = new LinkedBlockingQueue<>();
            TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", server.address().getPort(),
                    untrusting, client(events, "x", 1));
            String event = Loopback.poll(events);
            assertTrue(event.startsWith("failure SSL") && event.contains("verify"), event);
            String serverEvent = Loopback.poll(server.events());
            assertTrue(serverEvent.startsWith("start failure SSL"), serverEvent);
        }
    }

    /** A TLS client talking to a plaintext echo server gets its ClientHello back: a handshake failure. */
    @Test
    void garbageFromAPlaintextPeerFailsTheHandshake() throws Exception {
        Loopback.Started plain = Loopback.listen(group, socket -> Loopback.echo());
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", plain.address().getPort(),
                clientContext, client(events, "x", 1));
        String event = Loopback.poll(events);
        assertTrue(event.startsWith("failure SSL"), event);
    }

    /** Our client against {@code openssl s_server -rev}: TLS 1.2 and 1.3 both work. */
    @Test
    void ourClientAgainstOpenSslServer() throws Exception {
        for (String version : List.of("-tls1_3", "-tls1_2")) {
            Process server = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:0", version, "-rev",
                    "-cert", TestCertificates.serverCertificate().toString(),
                    "-key", TestCertificates.serverKey().toString()).redirectErrorStream(true).start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(),
                        StandardCharsets.UTF_8));
                String line;
                int port = -1;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("ACCEPT ")) {
                        port = Integer.parseInt(line.substring(line.lastIndexOf(':') + 1));
                        break;
                    }
                }
                assertTrue(port > 0, "s_server did not report its port");
                BlockingQueue<String> events = new LinkedBlockingQueue<>();
                TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", port, clientContext,
                        client(events, "hello\n", 6));
                String connected = Loopback.poll(events);
                assertEquals("connected " + (version.equals("-tls1_3") ? "TLSv1.3" : "TLSv1.2"), connected);
                assertEquals("received olleh\n", Loopback.poll(events));
            } finally {
                server.destroyForcibly();
                server.waitFor(Loopback.WAIT_SECONDS, TimeUnit.SECONDS);
                server.getInputStream().close();
                server.getOutputStream().close();
            }
        }
    }

    /** {@code openssl s_client} against our TLS echo server: the bytes come back over TLS. */
    @Test
    void openSslClientAgainstOurServer() throws Exception {
        Loopback.Started server = tlsEchoServer(true);
        Project.Run run = Project.run(Project.root(), 120, List.of("bash", "-c",
                "printf 'ping over tls\\n' | openssl s_client -connect 127.0.0.1:" + server.address().getPort()
                        + " -servername localhost -verify_return_error -CAfile "
                        + TestCertificates.caCertificate() + " -ign_eof -quiet 2>/dev/null"));
        assertEquals("ping over tls\n", run.output(), "s_client's stdout: the echo");
        assertEquals("started TLSv1.3", Loopback.poll(server.events()));
    }

    /** STARTTLS: a plaintext exchange, then both sides upgrade and data flows over TLS. */
    @Test
    void startTlsUpgradesAnOpenConnection() throws Exception {
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        Loopback.Started server = Loopback.listen(group, socket -> new ServerLifecycleReceiver() {
            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                String text = Loopback.text(data);
                if (text.equals("STARTTLS")) {
                    c.send("OK");
                    // Upgrade at once, before reading on: the ClientHello may already be on its way,
                    // and bytes read as plaintext would make startTls refuse (CVE-2021-23222 guard).
                    events.add("server upgrade " + c.startTls(serverContext, ""));
                } else {
                    c.send(text.toUpperCase());
                }
            }

            @Override
            public void onTlsReady(TcpConnection c) {
                events.add("server tls ready");
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) {
            }
        });
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(),
                new ClientLifecycleReceiver() {
                    @Override
                    public void onConnected(TcpConnection c) {
                        c.send("STARTTLS");
                    }

                    @Override
                    public void onReceived(TcpConnection c, MemorySegment data) {
                        String text = Loopback.text(data);
                        if (text.equals("OK")) {
                            events.add("client upgrade " + c.startTls(clientContext, "localhost"));
                            events.add("client send during upgrade " + c.send("early"));
                        } else {
                            events.add("client got " + text);
                            c.close();
                        }
                    }

                    @Override
                    public void onTlsReady(TcpConnection c) {
                        events.add("client tls ready " + c.tlsInfo().protocol());
                        c.send("secret");
                    }

                    @Override
                    public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                        events.add("failure " + reason);
                    }
                });
        List<String> seen = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            seen.add(Loopback.poll(events));
        }
        assertTrue(seen.contains("server upgrade STARTED"), seen.toString());
        assertTrue(seen.contains("client upgrade STARTED"), seen.toString());
        assertTrue(seen.contains("client send during upgrade NOT_CONNECTED"), seen.toString());
        assertTrue(seen.contains("server tls ready"), seen.toString());
        assertTrue(seen.contains("client tls ready TLSv1.3"), seen.toString());
        assertEquals("client got SECRET", seen.get(5), seen.toString());
    }
}
