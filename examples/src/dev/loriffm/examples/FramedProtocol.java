package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.BufferSize;
import dev.loriffm.tcp.BufferUntilResult;
import dev.loriffm.tcp.ClientLifecycleReceiver;
import dev.loriffm.tcp.ClientOptions;
import dev.loriffm.tcp.ConnectionFailure;
import dev.loriffm.tcp.ReadBufferSize;
import dev.loriffm.tcp.ServerLifecycleReceiver;
import dev.loriffm.tcp.StartFailure;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpListener;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * A length-prefixed protocol: every frame is a 4-byte big-endian length, then that many payload
 * bytes. Readers switch {@code bufferUntil} between the header and the payload, so each
 * {@code onReceived} is exactly one header or one payload; writers send header and payload as one
 * multi-buffer {@code send(List.of(header, payload))} (one gathering write, no copying together).
 * The client sends every message at once; the server acknowledges each with a text frame naming
 * its length and CRC-32, which the client checks.
 */
public final class FramedProtocol {
    private static final String NAME = "framed-protocol";
    private static final String USAGE = """
            Usage: scripts/example framed-protocol [--messages N] [--max-size BYTES] [--seed S]

            Starts a server on 127.0.0.1 (ephemeral port) and a client that sends N frames of
            random length (the first empty, the second --max-size bytes) in one burst. The
            server acknowledges each frame with 'ack #K: LEN bytes, crc32 HEX'; the client checks
            every acknowledgement. Prints each exchange and a summary.

              --messages N       frames to send (default 20)
              --max-size BYTES   largest payload, 1..1048576 (default 8192)
              --seed S           seed of the random lengths and payloads (default 42)
            """;
    static final int HEADER_BYTES = 4;
    private static final ValueLayout.OfInt BIG_ENDIAN_INT =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private FramedProtocol() { }

    /**
     * What the exchange came to.
     *
     * @param sent       frames the client sent
     * @param acked      acknowledgements that matched
     * @param bytesSent  payload bytes the client sent
     * @param exchanges  one line per message: its length and the server's reply
     * @param error      why it stopped early, or {@code null}
     */
    record Result(int sent, int acked, long bytesSent, List<String> exchanges, String error) {
        boolean ok(int messages) {
            return error == null && sent == messages && acked == messages;
        }

        String summary() {
            return sent + " frames (" + bytesSent + " payload bytes) sent in one burst, " + acked
                    + " acknowledged with the right length and CRC-32" + (error == null ? "" : "; FAILED: " + error);
        }
    }

    public static void main(String[] argv) throws Exception {
        Args args = Args.parse(NAME, USAGE, argv);
        int messages = args.intOption("--messages", 20, 1, 1_000_000);
        int maxSize = args.intOption("--max-size", 8192, 1, 1 << 20);
        int seed = args.intOption("--seed", 42, Integer.MIN_VALUE, Integer.MAX_VALUE);
        args.finish();
        try (EventLoopGroup group = EventLoopGroup.create(2)) {
            Result result = run(group, messages, maxSize, seed);
            for (String line : result.exchanges()) {
                System.out.println("  " + line);
            }
            System.out.println(NAME + ": " + result.summary());
            System.exit(result.ok(messages) ? 0 : 1);
        }
    }

    /** Runs one exchange on a fresh loopback listener; {@return the outcome} */
    static Result run(EventLoopGroup group, int messages, int maxSize, long seed) throws Exception {
        // bufferUntil accepts sizes up to the read buffer's minimum: make room for the largest frame.
        ReadBufferSize readBuffer = ReadBufferSize.of(Math.max(ReadBufferSize.DEFAULT_BYTES, maxSize));
        TcpListener listener = Net.listen(group, "127.0.0.1", 0, socket -> new Server(), readBuffer);
        try {
            Client client = new Client(payloads(messages, maxSize, seed));
            TcpConnection.client(Net.CONNECT, group.next(), "127.0.0.1", listener.localAddress().getPort(), client,
                    ClientOptions.DEFAULT.withReadBufferSize(readBuffer));
            return client.result.get(Net.WAIT_SECONDS, TimeUnit.SECONDS);
        } finally {
            listener.close();
        }
    }

    private static List<byte[]> payloads(int messages, int maxSize, long seed) {
        Random random = new Random(seed);
        List<byte[]> payloads = new ArrayList<>(messages);
        for (int i = 0; i < messages; i++) {
            int size = switch (i) {
                case 0 -> 0;
                case 1 -> maxSize;
                default -> random.nextInt(maxSize + 1);
            };
            byte[] payload = new byte[size];
            random.nextBytes(payload);
            payloads.add(payload);
        }
        return payloads;
    }

    /** {@return the frame {@code payload} goes out as: header and payload, sent as one} */
    static List<byte[]> frame(byte[] payload) {
        return List.of(ByteBuffer.allocate(HEADER_BYTES).putInt(payload.length).array(), payload);
    }

    /** {@return the acknowledgement of message {@code number} with this payload} */
    static String ack(int number, long length, long crc32) {
        return String.format("ack #%d: %d bytes, crc32 %08x", number, length, crc32);
    }

    /** Receives a frame's payload. */
    interface FrameHandler {
        void onFrame(TcpConnection connection, MemorySegment payload);
    }

    /**
     * Splits a connection's input into frames with {@code bufferUntil}: 4 header bytes, then a
     * payload of the length they give. Loop-confined.
     */
    static final class FrameReader {
        private final FrameHandler handler;
        private boolean readingHeader = true;

        FrameReader(FrameHandler handler) {
            this.handler = handler;
        }

        /** Call when the connection is ready (onStarted, onConnected). */
        void start(TcpConnection connection) {
            connection.bufferUntil(BufferSize.of(HEADER_BYTES));
        }

        /** Call from onReceived. */
        void onReceived(TcpConnection connection, MemorySegment data) {
            if (!readingHeader) {
                readingHeader = true;
                connection.bufferUntil(BufferSize.of(HEADER_BYTES));
                handler.onFrame(connection, data);
                return;
            }
            int length = data.get(BIG_ENDIAN_INT, 0);
            if (length == 0) {
                handler.onFrame(connection, data.asSlice(0, 0)); // no payload to wait for
            } else if (length < 0 || connection.bufferUntil(BufferSize.of(length)) != BufferUntilResult.SET) {
                System.err.println(NAME + ": frame of " + length + " bytes is larger than the read buffer; closing");
                connection.hardClose();
            } else {
                readingHeader = false;
            }
        }
    }

    /** Acknowledges every frame. Loop-confined. */
    static final class Server implements ServerLifecycleReceiver {
        private final FrameReader reader = new FrameReader(this::acknowledge);
        private final Outbox outbox = new Outbox();
        private int received;

        @Override
        public void onStarted(TcpConnection connection) {
            reader.start(connection);
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            reader.onReceived(connection, data);
        }

        private void acknowledge(TcpConnection connection, MemorySegment payload) {
            CRC32 crc = new CRC32();
            crc.update(payload.asByteBuffer());
            String reply = ack(++received, payload.byteSize(), crc.getValue());
            if (!outbox.send(connection, frame(reply.getBytes(StandardCharsets.UTF_8)))) {
                connection.mute(); // the client is not reading its acks: stop reading its frames
            }
        }

        @Override
        public void onUnthrottled(TcpConnection connection) {
            if (outbox.flush(connection)) {
                connection.unmute();
            }
        }

        @Override
        public void onStartFailure(TcpConnection connection, StartFailure reason) {
            System.err.println(NAME + ": server connection failed to start: " + reason);
        }
    }

    /** Sends every payload at once, then checks the acknowledgements. Loop-confined except {@link #result}. */
    static final class Client implements ClientLifecycleReceiver {
        final CompletableFuture<Result> result = new CompletableFuture<>();
        private final List<byte[]> payloads;
        private final FrameReader reader = new FrameReader(this::checkAck);
        private final Outbox outbox = new Outbox();
        private final List<String> exchanges = new ArrayList<>();
        private long bytesSent;
        private int acked;
        private String error;

        Client(List<byte[]> payloads) {
            this.payloads = payloads;
        }

        @Override
        public void onConnected(TcpConnection connection) {
            reader.start(connection);
            for (byte[] payload : payloads) {
                outbox.send(connection, frame(payload));
                bytesSent += payload.length;
            }
        }

        @Override
        public void onUnthrottled(TcpConnection connection) {
            outbox.flush(connection);
        }

        @Override
        public void onReceived(TcpConnection connection, MemorySegment data) {
            reader.onReceived(connection, data);
        }

        private void checkAck(TcpConnection connection, MemorySegment payload) {
            String reply = new String(payload.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            byte[] sent = payloads.get(acked);
            CRC32 crc = new CRC32();
            crc.update(sent);
            String expected = ack(acked + 1, sent.length, crc.getValue());
            exchanges.add(String.format("#%-4d sent %7d bytes  <-  '%s'", acked + 1, sent.length, reply));
            if (!reply.equals(expected)) {
                error = "message " + (acked + 1) + ": expected '" + expected + "'";
                connection.hardClose();
                return;
            }
            acked++;
            if (acked == payloads.size()) {
                connection.close();
            }
        }

        @Override
        public void onClosed(TcpConnection connection) {
            if (error == null && acked < payloads.size()) {
                error = "connection closed after " + acked + " acknowledgements";
            }
            result.complete(new Result(payloads.size(), acked, bytesSent, List.copyOf(exchanges), error));
        }

        @Override
        public void onConnectionFailure(TcpConnection connection, ConnectionFailure reason) {
            result.complete(new Result(0, 0, 0, List.of(),
                    "cannot connect: " + reason + " (" + connection.failureDetail() + ")"));
        }
    }
}
