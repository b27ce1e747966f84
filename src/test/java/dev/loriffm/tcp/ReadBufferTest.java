package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Read buffer sizing (lori's {@code _test_read_buffer.pony}) on real loopback connections: what
 * {@code bufferUntil}, {@code setReadBufferMinimum} and {@code resizeReadBuffer} return and what the
 * getters then report, and what sizing does to received data: bytes and order kept across resizes,
 * the shrink back to the minimum, and delivered slices that outlive a resize or close made inside
 * their own callback.
 *
 * <p>The data tests queue the whole payload in the server's socket while it is muted (TCP_INFO's
 * bytes-received count says when), so the first read fills the buffer and the chunking is exact.
 */
@ExtendWith(FdLeakCheck.class)
class ReadBufferTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    // ------------------------------------------------------------------ ports of lori's tests

    /**
     * Port of lori _TestReadBufferConstructorSize: the size given to the server factory is both the
     * buffer size and its minimum; lowering the minimum, then resizing to it, both succeed.
     */
    @Test
    void constructorSizeIsBothTheBufferSizeAndItsMinimum() throws Exception {
        checkOnStarted(512, c -> {
            assertEquals(512, c.readBufferSize());
            assertEquals(512, c.readBufferMinimum());
            assertEquals(ReadBufferResized.RESIZED, c.setReadBufferMinimum(size(256)));
            assertEquals(256, c.readBufferMinimum());
            assertEquals(512, c.readBufferSize(), "lowering the minimum leaves the size alone");
            assertEquals(ReadBufferResized.RESIZED, c.resizeReadBuffer(size(256)));
            assertEquals(256, c.readBufferSize());
            assertEquals(256, c.readBufferMinimum());
        });
    }

    /**
     * Port of lori _TestSetReadBufferMinimumSuccess: raising the minimum above the size succeeds
     * and grows the buffer to it at once; lowering it again always succeeds and shrinks nothing yet.
     */
    @Test
    void raisingTheMinimumGrowsTheBufferAndLoweringItSucceeds() throws Exception {
        checkOnStarted(256, c -> {
            assertEquals(ReadBufferResized.RESIZED, c.setReadBufferMinimum(size(512)));
            assertEquals(512, c.readBufferMinimum());
            assertEquals(512, c.readBufferSize(), "a minimum above the size grows the buffer now");
            assertEquals(ReadBufferResized.RESIZED, c.setReadBufferMinimum(size(128)));
            assertEquals(128, c.readBufferMinimum());
            assertEquals(512, c.readBufferSize(), "a lower minimum takes effect when the buffer next empties");
        });
    }

    /**
     * Port of lori _TestSetReadBufferMinimumBelowBufferSize: a minimum below the
     * {@code bufferUntil} size is refused and changes nothing; a minimum equal to it is accepted.
     */
    @Test
    void minimumBelowTheBufferUntilSizeIsRefused() throws Exception {
        checkOnStarted(ReadBufferSize.DEFAULT_BYTES, c -> {
            assertEquals(BufferUntilResult.SET, c.bufferUntil(BufferSize.of(100)));
            assertEquals(ReadBufferResizeBelowBufferSize.BELOW_BUFFER_SIZE, c.setReadBufferMinimum(size(50)));
            assertEquals(ReadBufferSize.DEFAULT_BYTES, c.readBufferMinimum(), "a refusal changes nothing");
            assertEquals(ReadBufferSize.DEFAULT_BYTES, c.readBufferSize());
            assertEquals(ReadBufferResized.RESIZED, c.setReadBufferMinimum(size(100)));
            assertEquals(100, c.readBufferMinimum());
        });
    }

    /** Port of lori _TestResizeReadBufferSuccess: resizing up, then down below the minimum, both succeed. */
    @Test
    void resizingUpAndDownSucceeds() throws Exception {
        checkOnStarted(1024, c -> {
            assertEquals(ReadBufferResized.RESIZED, c.resizeReadBuffer(size(4096)));
            assertEquals(4096, c.readBufferSize());
            assertEquals(1024, c.readBufferMinimum(), "a resize above the minimum leaves it");
            assertEquals(ReadBufferResized.RESIZED, c.resizeReadBuffer(size(512)));
            assertEquals(512, c.readBufferSize());
            assertEquals(512, c.readBufferMinimum(), "a resize below the minimum lowers it");
        });
    }

    /**
     * Port of lori _TestResizeReadBufferBelowBufferSize: a resize below the {@code bufferUntil}
     * size is refused as BELOW_BUFFER_SIZE (not BELOW_USED: nothing is buffered) and changes nothing.
     */
    @Test
    void resizeBelowTheBufferUntilSizeIsRefused() throws Exception {
        checkOnStarted(ReadBufferSize.DEFAULT_BYTES, c -> {
            assertEquals(BufferUntilResult.SET, c.bufferUntil(BufferSize.of(200)));
            assertEquals(ReadBufferResizeBelowBufferSize.BELOW_BUFFER_SIZE, c.resizeReadBuffer(size(100)));
            assertEquals(ReadBufferSize.DEFAULT_BYTES, c.readBufferSize(), "a refusal changes nothing");
            assertEquals(ReadBufferSize.DEFAULT_BYTES, c.readBufferMinimum());
        });
    }

    /**
     * Port of lori _TestResizeReadBufferBelowMinLowersMin: a resize below the minimum lowers the
     * minimum, shown by {@code bufferUntil} refusing the old minimum and accepting the new one.
     */
    @Test
    void resizeBelowTheMinimumLowersTheMinimum() throws Exception {
        checkOnStarted(1024, c -> {
            assertEquals(ReadBufferResized.RESIZED, c.resizeReadBuffer(size(256)));
            assertEquals(BufferUntilResult.SIZE_ABOVE_MINIMUM, c.bufferUntil(BufferSize.of(512)));
            assertEquals(BufferUntilResult.SET, c.bufferUntil(BufferSize.of(256)));
            assertEquals(256, c.readBufferMinimum());
        });
    }

    /**
     * Port of lori _TestBufferSizeAboveMinimum: {@code bufferUntil} above the minimum is refused and
     * leaves the framing as it was (streaming, so any minimum is still allowed afterwards).
     */
    @Test
    void bufferUntilAboveTheMinimumIsRefused() throws Exception {
        checkOnStarted(128, c -> {
            assertEquals(BufferUntilResult.SIZE_ABOVE_MINIMUM, c.bufferUntil(BufferSize.of(256)));
            assertEquals(ReadBufferResized.RESIZED, c.setReadBufferMinimum(size(1)),
                    "the refused framing did not take effect");
        });
    }

    /**
     * Port of lori _TestBufferSizeAtMinimum: {@code bufferUntil} equal to the minimum is accepted
     * and takes effect (a minimum below it is then refused).
     */
    @Test
    void bufferUntilAtTheMinimumIsAccepted() throws Exception {
        checkOnStarted(256, c -> {
            assertEquals(BufferUntilResult.SET, c.bufferUntil(BufferSize.of(256)));
            assertEquals(ReadBufferResizeBelowBufferSize.BELOW_BUFFER_SIZE, c.setReadBufferMinimum(size(255)));
            assertEquals(BufferUntilResult.SET, c.bufferUntil(Streaming.STREAMING));
            assertEquals(ReadBufferResized.RESIZED, c.setReadBufferMinimum(size(255)));
        });
    }

    // ------------------------------------------------------------------ data across resizes (own)

    /**
     * Framed messages keep their bytes and order when {@code onReceived} resizes the buffer while
     * later messages, and part of one, are still buffered: up (from 64 to 100 bytes) and down to
     * exactly the bytes buffered. BELOW_USED one byte lower proves how much was buffered each time.
     */
    @Test
    void framesStayInOrderAcrossResizesMadeWhileBytesAreBuffered() throws Exception {
        int count = 50; // 6-byte frames: the first 64-byte read holds ten and 4 bytes of the eleventh
        List<String> results = new ArrayList<>();
        QueuedServer server = new QueuedServer(BufferSize.of(6), count) {
            @Override
            void message(TcpConnection c, int n, MemorySegment data) {
                if (n == 1) { // 58 bytes buffered
                    results.add(c.resizeReadBuffer(size(57)) + " " + c.resizeReadBuffer(size(100))
                            + " size " + c.readBufferSize() + " min " + c.readBufferMinimum());
                } else if (n == 5) { // 34 bytes buffered
                    results.add(c.resizeReadBuffer(size(33)) + " " + c.resizeReadBuffer(size(34))
                            + " size " + c.readBufferSize() + " min " + c.readBufferMinimum());
                }
            }
        };
        List<String> got = deliver(64, server, frames(count, 6));
        assertEquals(List.of("BELOW_USED RESIZED size 100 min 64", "BELOW_USED RESIZED size 34 min 34"), results);
        assertEquals(frameTexts(count, 6), got);
    }

    /**
     * A resize above the minimum lasts while the bytes it kept are delivered, and the buffer
     * shrinks back to the minimum once it is empty at the next read (lori: a resize above the
     * minimum is transient; raise the minimum to keep it).
     */
    @Test
    void resizeAboveTheMinimumShrinksBackOnceTheBufferEmpties() throws Exception {
        int count = 25; // 8-byte frames: each 64-byte read holds eight
        List<Integer> sizes = new ArrayList<>();
        List<Integer> minimums = new ArrayList<>();
        List<ReadBufferResizeResult> results = new ArrayList<>();
        QueuedServer server = new QueuedServer(BufferSize.of(8), count) {
            @Override
            void message(TcpConnection c, int n, MemorySegment data) {
                sizes.add(c.readBufferSize());
                minimums.add(c.readBufferMinimum());
                if (n == 1) {
                    results.add(c.resizeReadBuffer(size(256)));
                }
            }
        };
        List<String> got = deliver(64, server, frames(count, 8));
        assertEquals(List.of(ReadBufferResized.RESIZED), results);
        List<Integer> expected = new ArrayList<>();
        expected.add(64);
        for (int i = 2; i <= 8; i++) {
            expected.add(256); // the first read's frames, still in the resized buffer
        }
        for (int i = 9; i <= count; i++) {
            expected.add(64); // the buffer emptied before the second read: back to the minimum
        }
        assertEquals(expected, sizes);
        assertEquals(List.of(64), minimums.stream().distinct().toList());
        assertEquals(frameTexts(count, 8), got);
    }

    /**
     * The chunks a streaming connection receives show the allocation itself, not just the getter:
     * a resize above the minimum made while the buffer is empty is undone at the next read (64-byte
     * chunk), while raising the minimum inside {@code onReceived} grows the buffer for the next read
     * (512-byte chunk, then the 424 bytes left).
     */
    @Test
    void streamingChunksFollowTheAllocation() throws Exception {
        byte[] payload = frames(125, 8); // 1000 bytes
        List<Long> chunks = new ArrayList<>();
        List<String> results = new ArrayList<>();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CompletableFuture<Void> all = new CompletableFuture<>();
        QueuedServer server = new QueuedServer(Streaming.STREAMING, Integer.MAX_VALUE) {
            @Override
            void beforeUnmute(TcpConnection c) {
                results.add("before reading: " + c.resizeReadBuffer(size(512)) + " size " + c.readBufferSize());
            }

            @Override
            void message(TcpConnection c, int n, MemorySegment data) {
                chunks.add(data.byteSize());
                bytes.writeBytes(data.toArray(ValueLayout.JAVA_BYTE));
                if (n == 1) {
                    results.add("first chunk: " + c.setReadBufferMinimum(size(512)) + " size " + c.readBufferSize());
                }
                if (bytes.size() == payload.length) {
                    all.complete(null);
                }
            }
        };
        startServer(64, server, payload);
        awaitChecks(CompletableFuture.anyOf(all, server.done)); // done fails if a callback throws
        assertEquals(List.of("before reading: RESIZED size 512", "first chunk: RESIZED size 512"), results);
        assertEquals(List.of(64L, 512L, 424L), chunks);
        assertArrayEquals(payload, bytes.toByteArray());
    }

    // ------------------------------------------------------------------ the delivered slice (own)

    /**
     * A slice handed to {@code onReceived} stays readable, with its bytes, after that callback
     * reallocates the buffer twice (up, then down) and after it hard-closes the connection. Once its
     * callback has returned, a kept slice is freed and any access throws (the documented warning).
     */
    @Test
    void sliceOutlivesResizesAndCloseMadeInsideItsCallback() throws Exception {
        List<String> seen = new ArrayList<>();
        MemorySegment[] kept = new MemorySegment[1];
        QueuedServer server = new QueuedServer(BufferSize.of(8), 3) {
            @Override
            void message(TcpConnection c, int n, MemorySegment data) {
                switch (n) {
                    case 1 -> {
                        String resized = c.resizeReadBuffer(size(128)) + " " + c.resizeReadBuffer(size(32));
                        seen.add("1 after " + resized + ": " + Loopback.text(data));
                        kept[0] = data;
                    }
                    case 2 -> {
                        try {
                            seen.add("kept slice of 1 still reads " + Loopback.text(kept[0]));
                        } catch (IllegalStateException freed) {
                            seen.add("kept slice of 1 is freed");
                        }
                        seen.add("2: " + Loopback.text(data));
                    }
                    default -> {
                        c.hardClose();
                        seen.add("3 after hard close: " + Loopback.text(data));
                    }
                }
            }
        };
        deliver(64, server, frames(3, 8));
        List<String> frames = frameTexts(3, 8);
        assertEquals(List.of("1 after RESIZED RESIZED: " + frames.get(0), "kept slice of 1 is freed",
                "2: " + frames.get(1), "3 after hard close: " + frames.get(2)), seen);
    }

    /**
     * A slice handed to {@code onReceived} keeps its bytes when the callback calls
     * {@link TcpConnection#readAgain()}: the documented guarantee is "valid until this callback
     * returns", whatever the callback calls. Twelve more bytes are queued than the first read takes,
     * so a nested read loop would read them into the memory the slice views.
     */
    @Test
    void sliceKeepsItsBytesWhenItsCallbackCallsReadAgain() throws Exception {
        int count = 13; // 104 bytes: the first 64-byte read holds frames 1..8
        List<String> seen = new ArrayList<>();
        CompletableFuture<Void> firstReturned = new CompletableFuture<>();
        QueuedServer server = new QueuedServer(BufferSize.of(8), count) {
            @Override
            void message(TcpConnection c, int n, MemorySegment data) {
                if (n == 1) {
                    try {
                        c.readAgain();
                        seen.add("1 after readAgain: " + Loopback.text(data));
                        firstReturned.complete(null);
                    } catch (Throwable t) {
                        firstReturned.completeExceptionally(t);
                        throw t;
                    }
                }
            }
        };
        List<String> got = deliver(64, server, frames(count, 8));
        awaitChecks(firstReturned); // a nested read loop may deliver the last frame before this returns
        assertEquals(List.of("1 after readAgain: " + frameTexts(count, 8).get(0)), seen);
        assertEquals(frameTexts(count, 8), got, "each frame once, in order");
    }

    /** The slice is a read-only view: writing through it, or through its ByteBuffer view, is refused. */
    @Test
    void deliveredSliceIsReadOnly() throws Exception {
        List<String> seen = new ArrayList<>();
        QueuedServer server = new QueuedServer(BufferSize.of(8), 1) {
            @Override
            void message(TcpConnection c, int n, MemorySegment data) {
                seen.add("read-only " + data.isReadOnly()
                        + ", buffer view read-only " + data.asByteBuffer().isReadOnly());
                try {
                    data.set(ValueLayout.JAVA_BYTE, 0, (byte) 'X');
                    seen.add("write accepted");
                } catch (IllegalArgumentException refused) { // what the FFM API throws for a read-only segment
                    seen.add("write refused");
                }
                try {
                    data.asByteBuffer().put(0, (byte) 'X');
                    seen.add("buffer write accepted");
                } catch (ReadOnlyBufferException refused) {
                    seen.add("buffer write refused");
                }
                seen.add(Loopback.text(data));
            }
        };
        deliver(64, server, frames(1, 8));
        assertEquals(List.of("read-only true, buffer view read-only true", "write refused", "buffer write refused",
                frameTexts(1, 8).get(0)), seen);
    }

    // ------------------------------------------------------------------ helpers

    private static ReadBufferSize size(int bytes) {
        return ReadBufferSize.of(bytes);
    }

    /** Checks that run on the loop thread; a failed assertion is reported to the test thread. */
    @FunctionalInterface
    private interface Check {
        void run(TcpConnection c);
    }

    /**
     * Runs {@code check} in {@code onStarted} of a server connection with a read buffer of
     * {@code bufferBytes}, reached by a client that closes as soon as it connects (lori's
     * {@code _TestReadBufferTriggerClient}), and fails the test if the check failed.
     */
    private void checkOnStarted(int bufferBytes, Check check) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        int port = listen(size(bufferBytes), new ServerLifecycleReceiver() {
            @Override
            public void onStarted(TcpConnection c) {
                try {
                    check.run(c);
                    done.complete(null);
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
                c.close();
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) {
                done.completeExceptionally(new AssertionError("start failure " + reason));
            }
        });
        connect(port, new ClientLifecycleReceiver() {
            @Override
            public void onConnected(TcpConnection c) {
                c.close();
            }

            @Override
            public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                done.completeExceptionally(new AssertionError("connect failed: " + reason + " " + c.failureDetail()));
            }
        });
        awaitChecks(done);
    }

    /**
     * A server connection that sets its framing and mutes itself when it starts, so the client's
     * payload waits in its socket; the test unmutes it once all of it is there. Records each
     * message's text and passes it to {@link #message}; completes {@link #done} at message
     * {@code expected}, or exceptionally if a callback throws.
     */
    private abstract static class QueuedServer implements ServerLifecycleReceiver {
        final BufferUntil framing;
        final int expected;
        final List<String> texts = new ArrayList<>();
        final CompletableFuture<TcpConnection> started = new CompletableFuture<>();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private int n;

        QueuedServer(BufferUntil framing, int expected) {
            this.framing = framing;
            this.expected = expected;
        }

        /** Called for message {@code n} (from 1), after its text was recorded. */
        abstract void message(TcpConnection c, int n, MemorySegment data);

        /** Called on the loop thread just before the test unmutes the connection. */
        void beforeUnmute(TcpConnection c) { }

        @Override
        public void onStarted(TcpConnection c) {
            BufferUntilResult framed = c.bufferUntil(framing);
            if (framed != BufferUntilResult.SET) {
                done.completeExceptionally(new AssertionError("bufferUntil(" + framing + "): " + framed));
            }
            c.mute();
            started.complete(c);
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            n++;
            try {
                texts.add(Loopback.text(data));
                message(c, n, data);
            } catch (Throwable t) {
                done.completeExceptionally(t);
                throw t;
            }
            if (n == expected) {
                done.complete(null);
            }
        }

        @Override
        public void onStartFailure(TcpConnection c, StartFailure reason) {
            started.completeExceptionally(new AssertionError("start failure " + reason));
        }
    }

    /**
     * Starts {@code server} with a read buffer of {@code bufferBytes}, has a client send
     * {@code payload} in one send, and unmutes the server once all of it is in its socket.
     */
    private void startServer(int bufferBytes, QueuedServer server, byte[] payload) throws Exception {
        int port = listen(size(bufferBytes), server);
        connect(port, new ClientLifecycleReceiver() {
            @Override
            public void onConnected(TcpConnection c) {
                c.send(payload);
            }

            @Override
            public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                server.started.completeExceptionally(new AssertionError("connect failed: " + reason));
            }
        });
        TcpConnection c = Loopback.await(server.started);
        awaitQueued(c, payload.length);
        c.execute(() -> {
            server.beforeUnmute(c);
            c.unmute();
        });
    }

    /** {@link #startServer}, then {@return the texts of the {@code expected} messages, in delivery order} */
    private List<String> deliver(int bufferBytes, QueuedServer server, byte[] payload) throws Exception {
        startServer(bufferBytes, server, payload);
        awaitChecks(server.done);
        return server.texts;
    }

    /**
     * Waits until the muted connection's kernel socket holds {@code bytes} bytes: TCP_INFO's
     * {@code tcpi_bytes_received} counts bytes received, read by the application or not.
     */
    private static void awaitQueued(TcpConnection c, long bytes) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Loopback.WAIT_SECONDS);
        while (true) {
            CompletableFuture<Long> received = new CompletableFuture<>();
            c.execute(() -> {
                try {
                    received.complete(c.tcpInfo().orThrow().bytesReceived());
                } catch (Throwable t) {
                    received.completeExceptionally(t);
                }
            });
            long now = Loopback.await(received);
            if (now >= bytes) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                fail("only " + now + " of " + bytes + " bytes reached the socket within "
                        + Loopback.WAIT_SECONDS + " s");
            }
            Thread.onSpinWait();
        }
    }

    /** {@return {@code count} frames of {@code width} bytes: the frame number, zero-padded, then '|'} */
    private static byte[] frames(int count, int width) {
        return String.join("", frameTexts(count, width)).getBytes(StandardCharsets.US_ASCII);
    }

    private static List<String> frameTexts(int count, int width) {
        List<String> out = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            out.add(String.format("%0" + (width - 1) + "d|", i));
        }
        return out;
    }

    private int listen(ReadBufferSize size, ServerLifecycleReceiver receiver) throws Exception {
        CompletableFuture<Integer> port = new CompletableFuture<>();
        TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                port.complete(l.localAddress().getPort());
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                port.completeExceptionally(new AssertionError("listen failed: " + failure));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return TcpConnection.server(Loopback.SERVE, socket, receiver, size);
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        return Loopback.await(port);
    }

    private void connect(int port, ClientLifecycleReceiver receiver) {
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", port, receiver);
    }

    /** Waits for {@code future}; rethrows an assertion failed on the loop thread as itself. */
    private static void awaitChecks(CompletableFuture<?> future) throws Exception {
        try {
            future.get(Loopback.WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }
}
