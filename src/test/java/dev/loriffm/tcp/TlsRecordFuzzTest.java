package dev.loriffm.tcp;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.loriffm.internal.sys.OpenSsl;
import dev.loriffm.internal.sys.SslSession;
import dev.loriffm.internal.tls.NativeSslContext;
import dev.loriffm.internal.tls.SslContextAccess;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.loriffm.tcp.FakeBackend.READABLE;

/**
 * Coverage-guided fuzzing (Jazzer) of TLS record handling after a real handshake between a TLS
 * server connection on a {@link FuzzSocket} and an OpenSSL client session: fuzzer-chosen steps mix
 * the client's genuine records (application data, close_notify) with garbage, flipped bits, cuts
 * at any byte, the peer's FIN, server sends, and mute/unmute/framing on the server.
 *
 * <p>Every byte delivered is the next byte the client really sent (garbage never turns into
 * plaintext), framing holds, nothing comes while muted or after {@code onClosed}, and when nothing
 * was tampered with, all of it arrives; the client decrypts only what the server sent. No
 * exception escapes into the loop, the socket is closed once, and both sessions are freed.
 *
 * <p>The suite replays the corpus under {@code TlsRecordFuzzTestInputs}; {@code scripts/fuzz
 * TlsRecordFuzzTest} fuzzes it.
 */
class TlsRecordFuzzTest extends TlsFuzzFixture {
    static final int APP_DATA = 0;
    static final int GARBAGE = 1;
    static final int FLIP = 2;
    static final int DELIVER = 3;
    static final int CLOSE_NOTIFY = 4;
    static final int MUTE = 5;
    static final int UNMUTE = 6;
    static final int BUFFER_UNTIL = 7;
    static final int STREAMING = 8;
    static final int READ_AGAIN = 9;
    static final int PEER_FIN = 10;
    static final int SERVER_SEND = 11;
    private static final String[] NAMES = {"appData", "garbage", "flip", "deliver", "closeNotify", "mute", "unmute",
        "bufferUntil", "streaming", "readAgain", "peerFin", "serverSend"};
    private static final int MAX_OPS = 64;

    /**
     * One step of a program.
     *
     * @param kind  what it does
     * @param value its number: a length, a position, a framing size
     * @param bytes garbage (GARBAGE)
     */
    record Op(int kind, int value, byte[] bytes) {
        @Override
        public String toString() {
            return NAMES[kind] + " " + (bytes != null ? bytes.length : value);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void recordsAfterTheHandshakeYieldOnlyTheClientsPlaintext(FuzzedDataProvider data) throws Exception {
        List<Op> ops = new ArrayList<>();
        while (data.remainingBytes() > 0 && ops.size() < MAX_OPS) {
            int kind = data.consumeInt(APP_DATA, SERVER_SEND);
            ops.add(switch (kind) {
                case GARBAGE -> new Op(kind, 0, data.consumeBytes(data.consumeInt(1, 300)));
                case APP_DATA, SERVER_SEND -> new Op(kind, data.consumeInt(0, 3000), null);
                case FLIP, DELIVER -> new Op(kind, data.consumeInt(0, 1 << 16), null);
                case BUFFER_UNTIL -> new Op(kind, data.consumeInt(1, 40), null);
                default -> new Op(kind, 0, null);
            });
        }
        AfterHandshake run = new AfterHandshake(ops);
        run.start();
        FuzzRuns.await(run.done, run.socket.violations, ops);
        if (users(serverContext) != 0 || users(clientContext) != 0) {
            throw new AssertionError("contexts still in use: server " + users(serverContext) + ", client "
                    + users(clientContext));
        }
    }

    /** One input's run after a real handshake: driver, client peer and oracle. Loop-confined. */
    static final class AfterHandshake implements ServerLifecycleReceiver {
        private static final int HANDSHAKE_TURNS = 200;
        final FuzzSocket socket = new FuzzSocket();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final List<String> violations = socket.violations;
        private final List<Op> ops;
        private final NativeSslContext clientTls = SslContextAccess.of(clientContext);
        private SslSession client;
        private TcpConnection connection;
        private long failuresBefore;
        private boolean started;
        private boolean clientReady;
        private boolean clientBroken;
        private int closedCount;
        private boolean finishing;
        // Toward the server: ciphertext not yet delivered, and the plaintext the client sent.
        private final ByteArrayOutputStream wire = new ByteArrayOutputStream();
        private final ByteArrayOutputStream clientPlain = new ByteArrayOutputStream();
        private byte[] clientSent = new byte[0];
        private long delivered;
        // Toward the client: what the server sent and what the client decrypted.
        private final ByteArrayOutputStream serverPlain = new ByteArrayOutputStream();
        private long clientGot;
        private boolean tampered;
        private boolean ended;
        private boolean muted;
        private int until;

        AfterHandshake(List<Op> ops) {
            this.ops = ops;
        }

        void start() throws Exception {
            failuresBefore = ConnectionFakes.onLoop(loop, loop::callbackFailures);
            ConnectionFakes.onLoop(loop, () -> {
                if (!clientTls.acquire()) {
                    throw new AssertionError("client context closed");
                }
                List<OpenSsl.SslError> errors = new ArrayList<>();
                client = SslSession.create(clientTls.sslCtx(), true, errors);
                if (client == null || !client.serverName("localhost", clientTls.hostnameVerification())) {
                    throw new AssertionError("client session: " + errors);
                }
                return null;
            });
            FuzzRuns.server(socket, loop, this, ReadBufferSize.DEFAULT, SslContextAccess.of(serverContext));
            loop.execute(() -> handshake(0));
        }

        /** Pumps both sides until the handshake is done on both, then runs the program. */
        private void handshake(int turn) {
            try {
                pumpToClient();
                if (!clientReady && !clientBroken) {
                    int r = client.handshake(clientScratch);
                    if (r == 0) {
                        clientReady = true;
                    } else if (r != SslSession.WANT_INPUT) {
                        clientBroken = true;
                        violations.add("the client's handshake failed: " + client.lastErrors());
                    }
                }
                byte[] out = drainClient();
                if (out.length > 0) {
                    socket.arrive(out);
                    socket.event(READABLE);
                }
                if (clientReady && started && out.length == 0) {
                    step(0);
                } else if (turn > HANDSHAKE_TURNS || clientBroken || closedCount > 0) {
                    violations.add("no handshake after " + turn + " turns");
                    finish();
                } else {
                    loop.defer(() -> handshake(turn + 1));
                }
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }

        /** Moves what the server wrote into the client, which decrypts what it can. */
        private void pumpToClient() {
            byte[] in = socket.takeWritten();
            if (in.length > 0 && !clientBroken) {
                client.feed(MemorySegment.ofArray(in));
            }
            while (clientReady && !clientBroken) {
                long n = client.read(clientScratch, clientBuffer);
                if (n > 0) {
                    byte[] got = clientBuffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                    byte[] sent = serverPlain.toByteArray();
                    if (clientGot + n > sent.length
                            || !Arrays.equals(sent, (int) clientGot, (int) (clientGot + n), got, 0, got.length)) {
                        violations.add("the client decrypted bytes the server never sent");
                    }
                    clientGot += n;
                } else {
                    clientBroken = n != SslSession.WANT_INPUT; // close_notify or an alert: it reads no more
                    break;
                }
            }
        }

        private byte[] drainClient() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int n;
            while ((n = client.drainOutput(clientBuffer)) > 0) {
                out.writeBytes(clientBuffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
            }
            return out.toByteArray();
        }

        private void step(int index) {
            try {
                if (index == ops.size()) {
                    drain();
                    return;
                }
                run(ops.get(index));
                pumpToClient();
                loop.defer(() -> step(index + 1));
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }

        private void run(Op op) {
            TcpConnection c = connection;
            switch (op.kind()) {
                case APP_DATA -> {
                    if (op.value() > 0 && !ended) {
                        MemorySegment plain = clientBuffer.asSlice(0, op.value());
                        for (int i = 0; i < op.value(); i++) {
                            plain.set(ValueLayout.JAVA_BYTE, i, (byte) (clientPlain.size() + i * 13));
                        }
                        if (client.write(clientScratch, plain) == op.value()) {
                            clientPlain.writeBytes(plain.toArray(ValueLayout.JAVA_BYTE));
                            clientSent = clientPlain.toByteArray();
                        }
                        wire.writeBytes(drainClient());
                    }
                }
                case GARBAGE -> {
                    wire.writeBytes(op.bytes());
                    tampered = true;
                }
                case FLIP -> {
                    byte[] pending = wire.toByteArray();
                    if (pending.length > 0) {
                        pending[op.value() / 8 % pending.length] ^= (byte) (1 << (op.value() % 8));
                        wire.reset();
                        wire.writeBytes(pending);
                        tampered = true;
                    }
                }
                case DELIVER -> deliver(op.value());
                case CLOSE_NOTIFY -> {
                    ended = true;
                    client.closeNotify(clientScratch);
                    wire.writeBytes(drainClient());
                }
                case MUTE -> {
                    c.mute();
                    muted = true;
                }
                case UNMUTE -> {
                    c.unmute();
                    muted = false;
                }
                case BUFFER_UNTIL -> {
                    if (c.bufferUntil(BufferSize.of(op.value())) == BufferUntilResult.SET) {
                        until = op.value();
                    } else {
                        violations.add("bufferUntil " + op.value() + " refused with the default minimum");
                    }
                }
                case STREAMING -> {
                    c.bufferUntil(Streaming.STREAMING);
                    until = 0;
                }
                case READ_AGAIN -> c.readAgain();
                case PEER_FIN -> {
                    ended = true;
                    deliver(Integer.MAX_VALUE);
                    socket.arriveEndOfStream();
                    socket.event(READABLE);
                }
                case SERVER_SEND -> {
                    byte[] payload = new byte[op.value()];
                    Arrays.fill(payload, (byte) serverPlain.size());
                    if (c.send(payload) instanceof SendToken) {
                        serverPlain.writeBytes(payload);
                    }
                }
                default -> throw new IllegalArgumentException("not a step: " + op);
            }
        }

        private void deliver(int bytes) {
            byte[] pending = wire.toByteArray();
            int n = Math.min(bytes, pending.length);
            if (n > 0) {
                wire.reset();
                wire.write(pending, n, pending.length - n);
                socket.arrive(Arrays.copyOf(pending, n));
                socket.event(READABLE);
            }
        }

        /** After the program: deliver the rest, unmute, stream; untampered, everything must arrive. */
        private void drain() {
            deliver(Integer.MAX_VALUE);
            if (muted) {
                connection.unmute();
                muted = false;
            }
            connection.bufferUntil(Streaming.STREAMING);
            until = 0;
            connection.readAgain();
            settle(0);
        }

        private void settle(int turn) {
            try {
                boolean complete = delivered == clientSent.length;
                if (!complete && closedCount == 0 && turn < FuzzRuns.SETTLE_TURNS) {
                    loop.defer(() -> settle(turn + 1));
                    return;
                }
                if (!complete && !tampered && !ended) {
                    violations.add("delivered " + delivered + " of the " + clientSent.length + " bytes the client sent"
                            + (closedCount > 0 ? "; closed: " + connection.failureDetail() : ""));
                }
                finish();
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }

        private void finish() {
            finishing = true;
            if (connection != null) {
                connection.hardClose();
                if (closedCount != 1) {
                    violations.add("onClosed " + closedCount + " times");
                }
            }
            if (!socket.closed) {
                violations.add("the socket is open");
            }
            client.close();
            clientTls.release();
            OpenSsl.drainErrors();
            if (loop.callbackFailures() != failuresBefore) {
                violations.add((loop.callbackFailures() - failuresBefore) + " exceptions escaped into the loop");
            }
            done.complete(null);
        }

        @Override
        public void onStarted(TcpConnection c) {
            connection = c;
            started = true;
        }

        @Override
        public void onStartFailure(TcpConnection c, StartFailure reason) {
            violations.add("onStartFailure " + reason + ": " + c.failureDetail());
            closedCount++;
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment message) {
            if (closedCount > 0) {
                violations.add("onReceived after onClosed");
            }
            if (muted) {
                violations.add("onReceived while muted");
            }
            long n = message.byteSize();
            if (n == 0 || until > 0 && n != until) {
                violations.add("a message of " + n + " bytes with framing " + until);
            }
            byte[] bytes = message.toArray(ValueLayout.JAVA_BYTE);
            if (delivered + n > clientSent.length || !Arrays.equals(clientSent, (int) delivered,
                    (int) (delivered + n), bytes, 0, bytes.length)) {
                violations.add("plaintext " + delivered + ".." + (delivered + n) + " is not what the client sent ("
                        + clientSent.length + " bytes)");
            }
            delivered += n;
        }

        @Override
        public void onClosed(TcpConnection c) {
            closedCount++;
            if (!finishing && !tampered && !ended) {
                violations.add("closed with nothing tampered: " + c.failureDetail());
            }
        }
    }
}
