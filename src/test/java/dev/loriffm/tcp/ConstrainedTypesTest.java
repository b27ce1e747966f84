package dev.loriffm.tcp;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The validated value types (lori's {@code _test_constrained_types.pony}), through both doors:
 * {@code make(...)} returns {@link Validated} and never throws, {@code of(...)} and the record
 * constructors throw {@link IllegalArgumentException}. {@link ConnectionTimeout} diverges from
 * lori on purpose: lori's limit is {@code U64.max / 1e6} ms; ours is {@code Long.MAX_VALUE / 1e6}
 * ms, so the value in nanoseconds fits a {@code long}. No sockets, so no fd check.
 */
class ConstrainedTypesTest {

    private static <T> T valid(Validated<T> v) {
        assertInstanceOf(Validated.Valid.class, v, () -> "expected valid, got " + v);
        return v.orThrow();
    }

    private static void invalid(Validated<?> v) {
        Validated.Invalid<?> invalid = assertInstanceOf(Validated.Invalid.class, v, () -> "expected invalid: " + v);
        assertFalse(invalid.reason().isBlank(), "an invalid value says why");
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, v::orThrow);
        assertEquals(invalid.reason(), thrown.getMessage());
    }

    // ------------------------------------------------------------------ MaxSpawn

    /** Port of lori _TestMaxSpawnRejectsZero: a connection limit of 0 (or less) is invalid. */
    @Test
    void maxSpawnRejectsZero() {
        invalid(MaxSpawn.make(0));
        invalid(MaxSpawn.make(-1));
        assertThrows(IllegalArgumentException.class, () -> MaxSpawn.of(0));
        assertThrows(IllegalArgumentException.class, () -> new MaxSpawn(0));
    }

    /**
     * Port of lori _TestMaxSpawnAcceptsBoundary: 1 and lori's largest limit (U32 max) are valid;
     * one more than that is not.
     */
    @Test
    void maxSpawnAcceptsOneAndTheLargestLimit() {
        assertEquals(1, valid(MaxSpawn.make(1)).limit());
        assertEquals(0xFFFF_FFFFL, MaxSpawn.MAX_LIMIT);
        assertEquals(MaxSpawn.MAX_LIMIT, valid(MaxSpawn.make(MaxSpawn.MAX_LIMIT)).limit());
        assertEquals(1, MaxSpawn.of(1).limit());
        assertEquals(MaxSpawn.MAX_LIMIT, MaxSpawn.of(MaxSpawn.MAX_LIMIT).limit());
        invalid(MaxSpawn.make(MaxSpawn.MAX_LIMIT + 1));
        assertThrows(IllegalArgumentException.class, () -> MaxSpawn.of(MaxSpawn.MAX_LIMIT + 1));
    }

    /** Port of lori _TestDefaultMaxSpawn: the default limit is 100,000. */
    @Test
    void defaultMaxSpawnIsOneHundredThousand() {
        assertEquals(100_000, MaxSpawn.DEFAULT.limit());
        assertEquals(MaxSpawn.DEFAULT_LIMIT, MaxSpawn.DEFAULT.limit());
    }

    // ------------------------------------------------------------------ ReadBufferSize, BufferSize

    /** Port of lori _TestReadBufferSizeRejectsZero: a read buffer of 0 (or less) bytes is invalid. */
    @Test
    void readBufferSizeRejectsZero() {
        invalid(ReadBufferSize.make(0));
        invalid(ReadBufferSize.make(-1));
        assertThrows(IllegalArgumentException.class, () -> ReadBufferSize.of(0));
        assertThrows(IllegalArgumentException.class, () -> new ReadBufferSize(-1));
    }

    /**
     * Port of lori _TestReadBufferSizeAcceptsBoundary: 1 and the largest size are valid. Ours is
     * {@code Integer.MAX_VALUE} (lori's is USize max): one more is rejected by {@code make}.
     */
    @Test
    void readBufferSizeAcceptsOneAndTheLargestSize() {
        assertEquals(1, valid(ReadBufferSize.make(1)).bytes());
        assertEquals(Integer.MAX_VALUE, valid(ReadBufferSize.make(Integer.MAX_VALUE)).bytes());
        assertEquals(Integer.MAX_VALUE, ReadBufferSize.of(Integer.MAX_VALUE).bytes());
        invalid(ReadBufferSize.make(Integer.MAX_VALUE + 1L));
    }

    /** Port of lori _TestDefaultReadBufferSize: the default read buffer is 16,384 bytes. */
    @Test
    void defaultReadBufferSizeIs16KiB() {
        assertEquals(16384, ReadBufferSize.DEFAULT.bytes());
        assertEquals(ReadBufferSize.DEFAULT_BYTES, ReadBufferSize.DEFAULT.bytes());
        assertEquals(ReadBufferSize.DEFAULT, ClientOptions.DEFAULT.readBufferSize());
    }

    /** lori's MakeBufferSize: a frame of 0 bytes is invalid (use Streaming); 1 and the largest are valid. */
    @Test
    void bufferSizeRejectsZeroAndAcceptsOneToTheLargest() {
        invalid(BufferSize.make(0));
        invalid(BufferSize.make(-4));
        assertThrows(IllegalArgumentException.class, () -> BufferSize.of(0));
        assertThrows(IllegalArgumentException.class, () -> new BufferSize(-1));
        assertEquals(1, valid(BufferSize.make(1)).bytes());
        assertEquals(Integer.MAX_VALUE, valid(BufferSize.make(Integer.MAX_VALUE)).bytes());
        assertEquals(4, BufferSize.of(4).bytes());
        invalid(BufferSize.make(Integer.MAX_VALUE + 1L));
    }

    // ------------------------------------------------------------------ ConnectionTimeout

    /**
     * Port of lori _TestConnectionTimeoutValidationRejectsZero: 0 ms, negative and
     * sub-millisecond timeouts are invalid. ({@code DurationTypesTest} covers the timer durations.)
     */
    @Test
    void connectionTimeoutRejectsZero() {
        invalid(ConnectionTimeout.make(0));
        invalid(ConnectionTimeout.make(-1));
        invalid(ConnectionTimeout.make(Long.MIN_VALUE));
        assertThrows(IllegalArgumentException.class, () -> new ConnectionTimeout(0));
        assertThrows(IllegalArgumentException.class, () -> ConnectionTimeout.of(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> ConnectionTimeout.of(Duration.ofNanos(999_999)));
        assertThrows(IllegalArgumentException.class, () -> ConnectionTimeout.of(Duration.ofMillis(-1)));
    }

    /**
     * Port of lori _TestConnectionTimeoutValidationAcceptsBoundary: 1 ms and {@code MAX_MILLIS}
     * ({@code Long.MAX_VALUE / 1e6}, where lori has {@code U64.max / 1e6}) are valid,
     * {@code MAX_MILLIS + 1} is not, and the maximum in nanoseconds does not overflow.
     */
    @Test
    void connectionTimeoutAcceptsOneMillisecondAndTheMaximum() {
        long max = ConnectionTimeout.MAX_MILLIS;
        assertEquals(Long.MAX_VALUE / 1_000_000L, max);
        assertEquals(1, valid(ConnectionTimeout.make(1)).millis());
        assertEquals(1_000_000L, new ConnectionTimeout(1).nanos());
        ConnectionTimeout longest = valid(ConnectionTimeout.make(max));
        assertEquals(max, longest.millis());
        long nanos = longest.nanos();
        assertTrue(nanos > 0 && nanos / 1_000_000L == max, "no overflow: " + nanos);
        assertEquals(max, new ConnectionTimeout(max).millis());
        invalid(ConnectionTimeout.make(max + 1));
        invalid(ConnectionTimeout.make(Long.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> new ConnectionTimeout(max + 1));
    }

    /** {@code ConnectionTimeout.of(Duration)} keeps whole milliseconds and has the same bounds. */
    @Test
    void connectionTimeoutFromJavaTimeKeepsWholeMilliseconds() {
        long max = ConnectionTimeout.MAX_MILLIS;
        assertEquals(1, ConnectionTimeout.of(Duration.ofMillis(1)).millis());
        assertEquals(1, ConnectionTimeout.of(Duration.ofNanos(1_999_999)).millis());
        assertEquals(2500, ConnectionTimeout.of(Duration.ofMillis(2500)).millis());
        assertEquals(max, ConnectionTimeout.of(Duration.ofMillis(max)).millis());
        assertThrows(IllegalArgumentException.class, () -> ConnectionTimeout.of(Duration.ofMillis(max).plusNanos(1)));
        assertThrows(IllegalArgumentException.class, () -> ConnectionTimeout.of(Duration.ofSeconds(Long.MAX_VALUE)));
    }
}
