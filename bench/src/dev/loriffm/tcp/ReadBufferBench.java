package dev.loriffm.tcp;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * The read-buffer operations of a plaintext connection's read loop, in the order
 * {@code TcpConnection.readLoopOnce}/{@code receivePlaintext}/{@code deliver} calls them:
 * {@code window()} (the free tail handed to {@code recv}, which resets, compacts or shrinks the
 * buffer first), {@code filled(n)} (commit what the kernel wrote), {@code hasMessage()} +
 * {@code nextMessage()} (a read-only slice for {@code onReceived}), and the
 * {@code delivering(true/false)} bracket around the callback.
 *
 * <p>No socket is involved: {@code filled(n)} stands in for the kernel's copy, whose cost is not
 * the buffer's. Every delivered slice goes to a {@link Blackhole}, because in the real loop it
 * escapes into the application's callback; so the two segment objects {@code nextMessage} makes
 * ({@code asSlice} + {@code asReadOnly}) are really allocated here too (see {@code -prof gc}).
 *
 * <p>This class sits in {@code dev.loriffm.tcp} (under {@code bench/src}) only because
 * {@code ReadBuffer} is package-private; the benchmarks run on the class path, where the split
 * package is allowed. Times are ns per read cycle (one {@code window}/{@code filled} pair and the
 * deliveries it enables).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ReadBufferBench {
    /** Bytes per simulated read: a small request. */
    static final int CHUNK = 64;

    /** {@return a default-size read buffer ({@value ReadBufferSize#DEFAULT_BYTES} bytes), allocated} */
    static ReadBuffer defaultBuffer() {
        ReadBuffer b = new ReadBuffer(ReadBufferSize.DEFAULT_BYTES);
        b.allocate();
        return b;
    }

    // Each state builds its buffer in a single @Setup (no state inheritance, whose helper order
    // would have to be relied on). JMH runs it on the benchmark thread: the buffer's arena is
    // confined, as on the event loop.

    /** A streaming (unframed) default-size buffer, empty. */
    @State(Scope.Thread)
    public static class Streaming {
        ReadBuffer buffer;

        /** Allocates the buffer. */
        @Setup
        public void setUp() {
            buffer = defaultBuffer();
        }

        /** Frees the native memory. */
        @TearDown
        public void tearDown() {
            buffer.release();
        }
    }

    /** A default-size buffer framed with {@code bufferUntil(64)}; it starts empty, so 64-byte reads end on frames. */
    @State(Scope.Thread)
    public static class FramedAligned {
        ReadBuffer buffer;

        /** Allocates the buffer and sets the framing. */
        @Setup
        public void setUp() {
            buffer = defaultBuffer();
            if (!buffer.setUntil(CHUNK)) {
                throw new IllegalStateException("until above minimum");
            }
        }

        /** Frees the native memory. */
        @TearDown
        public void tearDown() {
            buffer.release();
        }
    }

    /**
     * A default-size buffer framed with {@code bufferUntil(64)} whose reads straddle frames: 32 bytes
     * are pre-buffered, so after each 64-byte read one frame is taken and 32 bytes stay behind, and
     * the next {@code window()} must move them to the front (one compaction per read).
     */
    @State(Scope.Thread)
    public static class FramedMisaligned {
        ReadBuffer buffer;

        /** Allocates the buffer, sets the framing and leaves half a frame buffered. */
        @Setup
        public void setUp() {
            buffer = defaultBuffer();
            if (!buffer.setUntil(CHUNK)) {
                throw new IllegalStateException("until above minimum");
            }
            buffer.window();
            buffer.filled(CHUNK / 2);
        }

        /** Frees the native memory. */
        @TearDown
        public void tearDown() {
            buffer.release();
        }
    }

    /**
     * A streaming buffer whose minimum is the default size and that holds 32 unprocessed bytes,
     * used to grow it with {@code resize} and let it shrink back.
     */
    @State(Scope.Thread)
    public static class Resizable {
        ReadBuffer buffer;

        /** Allocates the buffer and buffers 32 bytes, so the resize has something to carry over. */
        @Setup
        public void setUp() {
            buffer = defaultBuffer();
            buffer.window();
            buffer.filled(CHUNK / 2);
        }

        /** Frees the native memory. */
        @TearDown
        public void tearDown() {
            buffer.release();
        }
    }

    /** The delivery bracket of {@code TcpConnection.deliver}: the slice escapes into the "callback". */
    private static void deliver(ReadBuffer buffer, MemorySegment message, Blackhole bh) {
        buffer.delivering(true);
        try {
            bh.consume(message);
        } finally {
            buffer.delivering(false);
        }
    }

    /**
     * One streaming read cycle of a 64-byte message: {@code window()} on the emptied buffer (the
     * reset path: start/end back to 0, no copy), {@code filled(64)}, {@code hasMessage},
     * {@code nextMessage} (read-only slice of everything buffered), the delivery bracket, and the
     * final {@code hasMessage} that ends the delivery loop.
     */
    @Benchmark
    public void streamingReadAndDeliver(Streaming s, Blackhole bh) {
        ReadBuffer b = s.buffer;
        bh.consume(b.window());
        b.filled(CHUNK);
        while (b.hasMessage()) {
            deliver(b, b.nextMessage(), bh);
        }
    }

    /**
     * As {@link #streamingReadAndDeliver} with {@code bufferUntil(64)} and reads that end exactly
     * on a frame: the framed path without compaction.
     */
    @Benchmark
    public void framedAlignedReadAndDeliver(FramedAligned s, Blackhole bh) {
        ReadBuffer b = s.buffer;
        bh.consume(b.window());
        b.filled(CHUNK);
        while (b.hasMessage()) {
            deliver(b, b.nextMessage(), bh);
        }
    }

    /**
     * Framed 64-byte messages read 64 bytes at a time but half a frame out of phase: each cycle's
     * {@code window()} compacts 32 leftover bytes to the front (a {@code MemorySegment.copy}), then
     * one frame is delivered.
     */
    @Benchmark
    public void framedMisalignedReadAndDeliver(FramedMisaligned s, Blackhole bh) {
        ReadBuffer b = s.buffer;
        bh.consume(b.window());
        b.filled(CHUNK);
        while (b.hasMessage()) {
            deliver(b, b.nextMessage(), bh);
        }
    }

    /**
     * {@code window()} alone on an empty buffer at its minimum size: the fixed cost the read loop
     * pays before every {@code recv}, including the slice object it creates.
     */
    @Benchmark
    public MemorySegment windowOnEmpty(Streaming s) {
        return s.buffer.window();
    }

    /**
     * {@code nextMessage()} alone: {@code filled(64)} then take the slice, with no
     * {@code window()} in between. The buffer fills towards its end, so it is reset every 256
     * messages (16 KiB / 64) by a {@code window()} call, amortised into the figure.
     */
    @Benchmark
    public MemorySegment nextMessageSlice(Streaming s) {
        ReadBuffer b = s.buffer;
        if (b.freeTail() < CHUNK) {
            b.window();
        }
        b.filled(CHUNK);
        return b.nextMessage();
    }

    /**
     * The resize round trip an application causes with {@code resizeReadBuffer} from
     * {@code onReceived}: grow 16 KiB to 64 KiB while delivering (a new confined arena, a 64 KiB
     * allocation, a copy of the 32 buffered bytes, the old arena retired and closed when the
     * delivery bracket ends), consume the bytes, and let the next {@code window()} shrink back to
     * the 16 KiB minimum (a second reallocation). Then 32 bytes are buffered again for the next op.
     */
    @Benchmark
    public void resizeGrowAndShrinkBack(Resizable s, Blackhole bh) {
        ReadBuffer b = s.buffer;
        b.delivering(true);
        bh.consume(b.resize(64 * 1024));
        b.delivering(false);
        bh.consume(b.nextMessage());
        bh.consume(b.window()); // empty and above the minimum: shrinks back
        b.filled(CHUNK / 2);
    }
}
