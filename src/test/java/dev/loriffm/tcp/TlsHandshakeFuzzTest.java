package dev.loriffm.tcp;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.loriffm.internal.sys.OpenSsl;
import dev.loriffm.internal.tls.SslContextAccess;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.loriffm.tcp.FakeBackend.READABLE;

/**
 * Coverage-guided fuzzing (Jazzer) of a TLS server connection before its handshake: fuzzer-chosen
 * bytes stand in for a ClientHello (the corpus holds real ones from {@code openssl s_client}) and
 * reach the connection's OpenSSL session (memory BIOs, as the runtime runs it) through a
 * {@link FuzzSocket}, cut into fuzzer-chosen reads, maybe followed by the peer's FIN. The
 * connection never starts, never delivers plaintext, and ends in exactly one
 * {@code onStartFailure(SSL)}; no exception escapes into the loop, the socket is closed, and the
 * session is freed (the context has no user left).
 *
 * <p>The suite replays the corpus under {@code TlsHandshakeFuzzTestInputs}; {@code scripts/fuzz
 * TlsHandshakeFuzzTest} fuzzes it.
 */
class TlsHandshakeFuzzTest extends TlsFuzzFixture {
    @FuzzTest(maxDuration = "30s")
    void bytesBeforeTheHandshakeNeverStartTheConnection(FuzzedDataProvider data) throws Exception {
        // Cuts come from the input's tail, so a seed that is a ClientHello plus two zero bytes is
        // that ClientHello in one read.
        int pieces = data.consumeInt(1, 8);
        int[] cuts = new int[pieces - 1];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = data.consumeInt(1, 1024);
        }
        boolean fin = data.consumeBoolean();
        byte[] hello = data.consumeRemainingAsBytes();
        FuzzSocket socket = new FuzzSocket();
        List<String> events = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        ServerLifecycleReceiver receiver = new ServerLifecycleReceiver() {
            @Override
            public void onStarted(TcpConnection c) {
                events.add("started");
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) {
                events.add("start failure " + reason);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment message) {
                events.add("received " + message.byteSize());
            }

            @Override
            public void onClosed(TcpConnection c) {
                events.add("closed");
            }
        };
        long failuresBefore = ConnectionFakes.onLoop(loop, loop::callbackFailures);
        TcpConnection c = FuzzRuns.server(socket, loop, receiver, ReadBufferSize.DEFAULT,
                SslContextAccess.of(serverContext));
        loop.execute(() -> {
            int from = 0;
            for (int i = 0; i <= cuts.length; i++) {
                int to = i < cuts.length ? Math.min(hello.length, from + cuts[i]) : hello.length;
                byte[] piece = Arrays.copyOfRange(hello, from, to);
                from = to;
                loop.defer(() -> {
                    socket.arrive(piece);
                    socket.event(READABLE);
                });
            }
            if (fin) {
                loop.defer(() -> {
                    socket.arriveEndOfStream();
                    socket.event(READABLE);
                });
            }
            loop.defer(() -> {
                c.hardClose(); // a no-op if the handshake already failed
                if (!events.equals(List.of("start failure SSL"))) {
                    socket.violations.add("callbacks " + events + ", expected one start failure");
                }
                if (!socket.closed) {
                    socket.violations.add("the socket is open");
                }
                if (loop.callbackFailures() != failuresBefore) {
                    socket.violations.add("an exception escaped into the loop");
                }
                OpenSsl.drainErrors(); // a failed handshake's errors belong to no later input
                done.complete(null);
            });
        });
        FuzzRuns.await(done, socket.violations, hello.length + " bytes in " + pieces + " reads, FIN " + fin);
        if (users(serverContext) != 0) {
            throw new AssertionError("the server context still has " + users(serverContext) + " users");
        }
    }
}
