package dev.loriffm.internal.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the native memory the runtime holds: arenas it opened and not yet closed, and OpenSSL
 * sessions it created and not yet freed. Tests read the counts to prove that closing connections
 * and loops releases everything (DESIGN.md: "Every native resource is counted").
 *
 * <p>Thread-safe. Cheap: arenas are opened when a loop starts or a connection's buffer changes
 * size, never per message, and a {@link LongAdder} update does not contend.
 */
public final class NativeAccounting {
    private static final LongAdder ARENAS = new LongAdder();
    private static final LongAdder SSL_SESSIONS = new LongAdder();

    private NativeAccounting() { }

    /** {@return a new confined arena, counted until it is closed} */
    public static Arena confinedArena() {
        return new Counted(Arena.ofConfined());
    }

    /** {@return a new shared arena, counted until it is closed} */
    public static Arena sharedArena() {
        return new Counted(Arena.ofShared());
    }

    /** {@return the arenas opened by the runtime and not yet closed} */
    public static long liveArenas() {
        return ARENAS.sum();
    }

    /** {@return the OpenSSL sessions created by the runtime and not yet freed} */
    public static long liveSslSessions() {
        return SSL_SESSIONS.sum();
    }

    static void sslSessionCreated() {
        SSL_SESSIONS.increment();
    }

    static void sslSessionFreed() {
        SSL_SESSIONS.decrement();
    }

    /** An arena that counts itself live from creation until its first successful close. */
    private static final class Counted implements Arena {
        private final Arena arena;

        Counted(Arena arena) {
            this.arena = arena;
            ARENAS.increment();
        }

        @Override
        public MemorySegment allocate(long byteSize, long byteAlignment) {
            return arena.allocate(byteSize, byteAlignment);
        }

        @Override
        public MemorySegment.Scope scope() {
            return arena.scope();
        }

        @Override
        public void close() {
            arena.close(); // throws if already closed or on the wrong thread: then nothing was released
            ARENAS.decrement();
        }
    }
}
