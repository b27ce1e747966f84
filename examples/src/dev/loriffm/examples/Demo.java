package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpListener;
import dev.loriffm.tcp.TlsInfo;
import dev.loriffm.tls.SslContext;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The README's demonstration: the other examples run in one process on loopback, each step
 * checking its own outcome, and every step says what it did. Exits 0 if every step passed.
 */
public final class Demo {
    private static final String NAME = "demo";
    private static final String USAGE = """
            Usage: scripts/example demo   (or scripts/demo)

            Runs, on 127.0.0.1 with ephemeral ports, in one process with two event loops:
              1. an echo server and three concurrent clients (13 B, 64 KiB, 4 MiB)
              2. ping-pong: 100 pings and pongs framed with bufferUntil(BufferSize.of(4))
              3. a length-prefixed protocol: 20 frames, header and payload in one send
              4. backpressure: 16 MiB flooded into a server that reads in bursts
              5. the HTTP hello server, asked by a plain JDK socket (pipelined, split requests)
              6. TLS, with a throwaway self-signed certificate made by the openssl command: the
                 TLS echo server and a TLS client (1 MiB), a client that does not trust the
                 certificate and is refused, and STARTTLS ping-pong
            and prints what each step did. Exits 0 if every step passed, 1 otherwise.
            """;
    private static final String REQUEST = "GET / HTTP/1.1\r\nHost: demo\r\n\r\n";

    private Demo() { }

    /** One step of the demo: prints what it did, {@return whether it passed} */
    private interface Step {
        boolean run(EventLoopGroup group) throws Exception;
    }

    public static void main(String[] argv) {
        Args.parse(NAME, USAGE, argv).finish();
        List<Step> steps = List.of(Demo::echo, Demo::pingPong, Demo::framed, Demo::backpressure, Demo::http,
                Demo::tls);
        System.out.println("lori-ffm demo: every step runs on 127.0.0.1 (ephemeral ports), one process, "
                + "an EventLoopGroup of 2 loops");
        long start = System.nanoTime();
        int failed = 0;
        try (EventLoopGroup group = EventLoopGroup.create(2)) {
            for (int i = 0; i < steps.size(); i++) {
                System.out.print((i + 1) + ". ");
                boolean passed;
                try {
                    passed = steps.get(i).run(group);
                } catch (Exception e) {
                    System.out.println("   FAILED: " + e);
                    passed = false;
                }
                failed += passed ? 0 : 1;
                System.out.flush();
            }
        }
        String took = String.format("%.1f s", (System.nanoTime() - start) / 1e9);
        if (failed == 0) {
            System.out.println("demo: all " + steps.size() + " steps passed in " + took);
        } else {
            System.out.println("demo: " + failed + " of " + steps.size() + " steps FAILED (" + took + ")");
        }
        System.out.flush();
        System.exit(failed == 0 ? 0 : 1);
    }

    private static boolean echo(EventLoopGroup group) throws Exception {
        EchoServer.Stats stats = new EchoServer.Stats();
        TcpListener listener = EchoServer.start(group, "127.0.0.1", 0, stats);
        try {
            String target = Net.format(listener.localAddress());
            System.out.println("Echo server (echo-server) listening on " + target);
            int[] sizes = {13, 64 << 10, 4 << 20};
            Random random = new Random(7);
            List<byte[]> inputs = new ArrayList<>();
            List<ByteArrayOutputStream> outputs = new ArrayList<>();
            List<EchoClient.Client> clients = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int size : sizes) {
                byte[] input = new byte[size];
                random.nextBytes(input);
                ByteArrayOutputStream output = new ByteArrayOutputStream(size);
                EchoClient.Client client = new EchoClient.Client(target, new ByteArrayInputStream(input), output);
                TcpConnection.client(Net.CONNECT, group.next(), "127.0.0.1", listener.localAddress().getPort(),
                        client);
                inputs.add(input);
                outputs.add(output);
                clients.add(client);
            }
            boolean ok = true;
            for (int i = 0; i < sizes.length; i++) {
                int exit = clients.get(i).exitCode.get(Net.WAIT_SECONDS, TimeUnit.SECONDS);
                ok &= exit == 0 && Arrays.equals(inputs.get(i), outputs.get(i).toByteArray());
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("   3 clients (echo-client) at once sent 13 B, 64 KiB and 4 MiB of random bytes; "
                    + (ok ? "every byte came back, in order" : "FAILED: the echo differs") + " (" + ms + " ms)");
            System.out.println("   server: " + stats.connections.sum() + " connections, " + stats.bytes.sum()
                    + " bytes echoed, " + stats.pauses.sum() + " backpressure pauses");
            return ok;
        } finally {
            listener.close();
        }
    }

    private static boolean pingPong(EventLoopGroup group) throws Exception {
        int count = 100;
        PingPong.Result result = PingPong.run(group, count);
        System.out.println("Ping-pong (ping-pong), each message framed with bufferUntil(BufferSize.of(4)):");
        System.out.println("   " + result.summary());
        return result.ok(count);
    }

    private static boolean framed(EventLoopGroup group) throws Exception {
        int messages = 20;
        FramedProtocol.Result result = FramedProtocol.run(group, messages, 8192, 42);
        System.out.println("Length-prefixed frames (framed-protocol): 4-byte length + payload, read with bufferUntil,"
                + " written with send(List.of(header, payload)):");
        for (String line : result.exchanges().subList(0, Math.min(3, result.exchanges().size()))) {
            System.out.println("   " + line);
        }
        System.out.println("   ...");
        System.out.println("   " + result.summary());
        return result.ok(messages);
    }

    private static boolean backpressure(EventLoopGroup group) throws Exception {
        Backpressure.Result result = Backpressure.run(group, 16 << 20, 64 << 10, 1 << 20, 2);
        System.out.println("Backpressure (backpressure): a client floods 16 MiB into a server that reads"
                + " in 1 MiB bursts:");
        System.out.println("   " + result.summary().replace("\n", "\n   "));
        return result.ok();
    }

    private static boolean http(EventLoopGroup group) throws Exception {
        HttpHello.Stats stats = new HttpHello.Stats();
        TcpListener listener = HttpHello.start(group, "127.0.0.1", 0, stats);
        try (Socket socket = new Socket()) {
            InetSocketAddress address = listener.localAddress();
            System.out.println("HTTP hello server (http-hello) listening on " + Net.format(address)
                    + "; a plain java.net.Socket asks it:");
            socket.connect(address, (int) TimeUnit.SECONDS.toMillis(Net.WAIT_SECONDS));
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(Net.WAIT_SECONDS));
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            // Two whole requests and a third that lacks its last byte, in one write.
            String burst = REQUEST + REQUEST + REQUEST.substring(0, REQUEST.length() - 1);
            out.write(burst.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            boolean ok = readResponses(in, 2);
            System.out.println("   2 pipelined requests (plus most of a third) in one write: "
                    + (ok ? "2 responses 'Hello, World!'" : "FAILED: wrong responses"));
            out.write('\n'); // the third request's last byte: its \r\n\r\n was split across two reads
            out.flush();
            boolean third = readResponses(in, 1);
            System.out.println("   the third request's final '\\n' in a second write: "
                    + (third ? "1 more response, on the same keep-alive connection" : "FAILED: wrong response"));
            return ok && third;
        } finally {
            listener.close();
        }
    }

    private static boolean tls(EventLoopGroup group) throws Exception {
        try (ThrowawayCertificate certificate = ThrowawayCertificate.create();
             SslContext server = SslContext.server().certificateChain(certificate.certificate(), certificate.key())
                     .buildOrThrow();
             SslContext trusting = SslContext.client().trustedCertificates(certificate.certificate()).buildOrThrow();
             SslContext systemOnly = SslContext.client().systemTrustStore().buildOrThrow()) {
            System.out.println("TLS: tls-echo-server, echo-client --tls and starttls-ping-pong, using");
            System.out.println("   " + certificate.describe());
            EchoServer.Stats stats = new EchoServer.Stats();
            TcpListener listener = TlsEchoServer.start(group, "127.0.0.1", 0, stats, server, null);
            boolean echoed;
            boolean refused;
            try {
                int port = listener.localAddress().getPort();
                System.out.println("   TLS echo server (tls-echo-server) listening on "
                        + Net.format(listener.localAddress()));
                echoed = tlsEcho(group, port, trusting);
                refused = tlsRefused(group, port, systemOnly);
            } finally {
                listener.close();
            }
            System.out.println("   server: " + stats.connections.sum() + " connections started, "
                    + stats.failedStarts.sum() + " failed handshakes, " + stats.bytes.sum() + " bytes echoed");
            int count = 100;
            StartTlsPingPong.Result result = StartTlsPingPong.run(group, count, server, trusting, "localhost");
            System.out.println("   STARTTLS (starttls-ping-pong): plaintext greeting and request, then both sides"
                    + " call startTls:");
            for (String line : result.exchange()) {
                System.out.println("     " + line);
            }
            System.out.println("   " + result.summary());
            return echoed && refused && result.ok(count);
        }
    }

    /** A TLS echo client trusting the certificate sends 1 MiB; {@return whether it came back intact} */
    private static boolean tlsEcho(EventLoopGroup group, int port, SslContext trusting) throws Exception {
        byte[] input = new byte[1 << 20];
        new Random(8).nextBytes(input);
        ByteArrayOutputStream output = new ByteArrayOutputStream(input.length);
        EchoClient.Client client = new EchoClient.Client("localhost:" + port, new ByteArrayInputStream(input), output,
                trusting, null);
        long t0 = System.nanoTime();
        client.connect(group.next(), "localhost", port);
        int exit = client.exitCode.get(Net.WAIT_SECONDS, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        TlsInfo info = client.secured.getNow(null);
        boolean ok = exit == 0 && info != null && Arrays.equals(input, output.toByteArray());
        System.out.println("   a client (echo-client --tls) trusting that certificate connects to localhost: "
                + (info == null ? "no TLS session" : info.protocol() + ", " + info.cipher()) + ";");
        System.out.println("     it sent 1 MiB of random bytes: " + (ok ? "every byte came back, in order"
                : "FAILED: the echo differs (exit status " + exit + ")") + " (" + ms + " ms, handshake included)");
        return ok;
    }

    /** A client trusting only the system store; {@return whether its handshake was refused} */
    private static boolean tlsRefused(EventLoopGroup group, int port, SslContext systemOnly) throws Exception {
        ByteArrayOutputStream messages = new ByteArrayOutputStream();
        EchoClient.Client client = new EchoClient.Client("localhost:" + port, new ByteArrayInputStream(new byte[0]),
                new ByteArrayOutputStream(), systemOnly, null);
        client.messages = new PrintStream(messages, true, StandardCharsets.UTF_8);
        client.connect(group.next(), "localhost", port);
        int exit = client.exitCode.get(Net.WAIT_SECONDS, TimeUnit.SECONDS);
        String message = messages.toString(StandardCharsets.UTF_8).strip();
        int at = message.indexOf("certificate verify failed");
        boolean refused = exit == 1 && at >= 0;
        String outcome;
        if (refused) {
            int end = message.indexOf(';', at);
            outcome = "refused, as it must be (" + message.substring(at, end < 0 ? message.length() : end) + ")";
        } else {
            outcome = "FAILED: exit status " + exit + (message.isEmpty() ? "" : ", " + message);
        }
        System.out.println("   a client trusting only the system store: " + outcome);
        return refused;
    }

    /** {@return whether the next bytes of {@code in} are exactly {@code count} hello responses} */
    private static boolean readResponses(InputStream in, int count) throws IOException {
        byte[] expected = new byte[HttpHello.RESPONSE.length * count];
        for (int i = 0; i < count; i++) {
            System.arraycopy(HttpHello.RESPONSE, 0, expected, i * HttpHello.RESPONSE.length,
                    HttpHello.RESPONSE.length);
        }
        return Arrays.equals(expected, in.readNBytes(expected.length));
    }
}
