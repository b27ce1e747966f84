package dev.loriffm.tcp;

import dev.loriffm.tls.TestCertificates;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/**
 * A TLS peer made of the JDK's {@link SSLEngine} driven by hand over a blocking socket, so a test
 * holds the ciphertext: it completes a real handshake, then can send whole records, a prefix of a
 * record, or forged bytes on the same socket. Client mode trusts the test CA and checks the name
 * "localhost"; server mode presents the test server certificate.
 *
 * <p>Not thread-safe: one test thread drives it.
 */
final class JdkTlsPeer implements AutoCloseable {
    private final Socket socket;
    private final SSLEngine engine;
    private final InputStream in;
    private final OutputStream out;
    private ByteBuffer netIn;

    private JdkTlsPeer(Socket socket, SSLEngine engine) throws IOException {
        this.socket = socket;
        this.engine = engine;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        netIn.flip(); // empty, ready to read from
    }

    /**
     * Builds both kinds of context and a ClientHello once, so what the JDK keeps open for the
     * life of the process (its random devices) is open before {@code FdLeakCheck} looks.
     */
    static void warmUp() throws Exception {
        context(true);
        SSLEngine engine = context(false).createSSLEngine("localhost", 443);
        engine.setUseClientMode(true);
        engine.wrap(ByteBuffer.allocate(0), ByteBuffer.allocate(engine.getSession().getPacketBufferSize()));
    }

    /** A client over {@code socket} speaking only {@code protocol} (e.g. "TLSv1.3"). */
    static JdkTlsPeer client(Socket socket, String protocol) throws Exception {
        SSLEngine engine = context(false).createSSLEngine("localhost", socket.getPort());
        engine.setUseClientMode(true);
        engine.setEnabledProtocols(new String[] {protocol});
        var parameters = engine.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS"); // verify the name "localhost"
        engine.setSSLParameters(parameters);
        return new JdkTlsPeer(socket, engine);
    }

    /** A server over {@code socket} speaking only {@code protocol}, with the localhost certificate. */
    static JdkTlsPeer server(Socket socket, String protocol) throws Exception {
        SSLEngine engine = context(true).createSSLEngine();
        engine.setUseClientMode(false);
        engine.setEnabledProtocols(new String[] {protocol});
        return new JdkTlsPeer(socket, engine);
    }

    /** Runs the handshake to its end, including a TLS 1.3 server's NewSessionTicket. */
    void handshake() throws IOException {
        engine.beginHandshake();
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_WRAP -> out.write(wrap(ByteBuffer.allocate(0)));
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> unwrapOnce(ByteBuffer.allocate(
                        engine.getSession().getApplicationBufferSize()));
                case NEED_TASK -> {
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null) {
                        task.run();
                    }
                }
                case FINISHED, NOT_HANDSHAKING -> {
                    return;
                }
            }
        }
    }

    /** {@return the negotiated protocol, e.g. "TLSv1.3"} */
    String protocol() {
        return engine.getSession().getProtocol();
    }

    /** {@return the ciphertext of {@code text} as application data: one record, not yet sent} */
    byte[] record(String text) throws IOException {
        return wrap(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Sends {@code bytes} as they are on the socket. */
    void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Closes the sending direction (FIN) without a close_notify. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /**
     * Reads until our side's close shows: end of stream (after any alert it sent) or a reset.
     * {@return whether the end came; false if nothing ended it within the socket's timeout}
     */
    boolean awaitPeerClose() {
        try {
            byte[] sink = new byte[4096];
            while (in.read(sink) >= 0) {
                continue;
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true; // closed with our bytes unread: a reset is a close too
        }
    }

    /** {@return the raw socket, for tests that write to it from another thread} */
    Socket socket() {
        return socket;
    }

    private byte[] wrap(ByteBuffer plaintext) throws IOException {
        ByteArrayOutputStream produced = new ByteArrayOutputStream();
        ByteBuffer net = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        do {
            net.clear();
            SSLEngineResult result = engine.wrap(plaintext, net);
            if (result.getStatus() != SSLEngineResult.Status.OK) {
                throw new SSLException("wrap: " + result);
            }
            produced.write(net.array(), 0, net.position());
        } while (plaintext.hasRemaining());
        return produced.toByteArray();
    }

    private void unwrapOnce(ByteBuffer appIn) throws IOException {
        while (true) {
            SSLEngineResult result = engine.unwrap(netIn, appIn);
            switch (result.getStatus()) {
                case OK -> {
                    return;
                }
                case BUFFER_UNDERFLOW -> fill();
                case BUFFER_OVERFLOW -> appIn = ByteBuffer.allocate(appIn.capacity() * 2);
                case CLOSED -> throw new SSLException("the peer closed during the handshake");
            }
        }
    }

    /** Reads more ciphertext from the socket into {@link #netIn}. */
    private void fill() throws IOException {
        netIn.compact();
        if (!netIn.hasRemaining()) {
            ByteBuffer larger = ByteBuffer.allocate(netIn.capacity() * 2);
            netIn.flip();
            larger.put(netIn);
            netIn = larger;
        }
        int n = in.read(netIn.array(), netIn.position(), netIn.remaining());
        if (n < 0) {
            throw new SSLException("end of stream during the handshake");
        }
        netIn.position(netIn.position() + n);
        netIn.flip();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** {@return a JDK TLS context: trusting the test CA, and for a server holding the localhost key} */
    private static SSLContext context(boolean server) throws Exception {
        CertificateFactory x509 = CertificateFactory.getInstance("X.509");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", certificate(x509, TestCertificates.caCertificate()));
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        if (!server) {
            context.init(null, trustManagers.getTrustManagers(), null);
            return context;
        }
        char[] password = "unused".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", privateKey(TestCertificates.serverKey()), password,
                new Certificate[] {certificate(x509, TestCertificates.serverCertificate())});
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, password);
        context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
        return context;
    }

    private static Certificate certificate(CertificateFactory x509, Path pem) throws Exception {
        try (InputStream stream = Files.newInputStream(pem)) {
            return x509.generateCertificate(stream);
        }
    }

    /** Reads an unencrypted PKCS#8 PEM key ({@code openssl genpkey} writes that form). */
    private static PrivateKey privateKey(Path pem) throws Exception {
        String text = Files.readString(pem);
        String base64 = text.replace("-----BEGIN PRIVATE KEY-----", "").replace("-----END PRIVATE KEY-----", "")
                .replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(base64);
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    }
}
