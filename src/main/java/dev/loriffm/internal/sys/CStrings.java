package dev.loriffm.internal.sys;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/** Reads NUL-terminated C strings from native memory with an explicit bound. Thread-safe: stateless. */
final class CStrings {
    private CStrings() { }

    /**
     * {@return the string at {@code pointer}, or {@code ""} for NULL}
     *
     * @param pointer  a zero-length pointer returned by a native call
     * @param maxBytes the most bytes the C API can return there; the string is cut at this bound
     *                 rather than reading past it
     */
    @SuppressWarnings("restricted")
    static String read(MemorySegment pointer, int maxBytes) {
        if (pointer.equals(MemorySegment.NULL)) {
            return "";
        }
        // The C API documents a bounded string; view exactly that bound, never an unbounded one.
        MemorySegment bounded = pointer.reinterpret(maxBytes);
        long end = 0;
        while (end < maxBytes && bounded.get(java.lang.foreign.ValueLayout.JAVA_BYTE, end) != 0) {
            end++;
        }
        return new String(bounded.asSlice(0, end).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                StandardCharsets.UTF_8);
    }
}
