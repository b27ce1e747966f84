package dev.loriffm.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bytes glibc's allocator holds for the process right now, over every arena, from
 * {@code malloc_info}: what the arenas took from the system, less their free chunks, plus
 * mmapped chunks. This sees allocations no JVM tool does, OpenSSL's above all; subtract the
 * JVM's own mallocs (NMT's total) to be left with everything else. Test support: it calls libc
 * directly because production code never needs it.
 */
public final class MallocAccounting {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle OPEN_MEMSTREAM = handle("open_memstream",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle MALLOC_INFO = handle("malloc_info",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle FCLOSE = handle("fclose",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle FREE = handle("free", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    /** Largest report read; malloc_info's XML is a few KiB per arena. */
    private static final long MAX_REPORT = 16L << 20;

    private MallocAccounting() { }

    /** {@return the bytes in use through malloc, over all arenas} */
    @SuppressWarnings("restricted") // the length is the one open_memstream reported, bounded above
    public static long bytesInUse() {
        String xml;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bufferPointer = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment sizePointer = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment stream = (MemorySegment) OPEN_MEMSTREAM.invokeExact(bufferPointer, sizePointer);
            if (stream.equals(MemorySegment.NULL)) {
                throw new IllegalStateException("open_memstream failed");
            }
            int info = (int) MALLOC_INFO.invokeExact(0, stream);
            int closed = (int) FCLOSE.invokeExact(stream); // publishes the buffer and its size
            MemorySegment buffer = bufferPointer.get(ValueLayout.ADDRESS, 0);
            long size = sizePointer.get(ValueLayout.JAVA_LONG, 0);
            try {
                if (info != 0 || closed != 0 || size < 0 || size > MAX_REPORT) {
                    throw new IllegalStateException("malloc_info failed (" + info + ", " + closed + ", " + size + ")");
                }
                xml = new String(buffer.reinterpret(size).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
            } finally {
                FREE.invokeExact(buffer);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        // The process-wide totals follow the last arena's </heap>.
        String totals = xml.substring(xml.lastIndexOf("</heap>"));
        return attribute(totals, "<system type=\"current\" size=\"(\\d+)\"")
                - attribute(totals, "<total type=\"fast\" count=\"\\d+\" size=\"(\\d+)\"")
                - attribute(totals, "<total type=\"rest\" count=\"\\d+\" size=\"(\\d+)\"")
                + attribute(totals, "<total type=\"mmap\" count=\"\\d+\" size=\"(\\d+)\"");
    }

    private static long attribute(String xml, String regex) {
        Matcher m = Pattern.compile(regex).matcher(xml);
        if (!m.find()) {
            throw new IllegalStateException("malloc_info has no " + regex + " in\n" + xml);
        }
        return Long.parseLong(m.group(1));
    }

    @SuppressWarnings("restricted") // libc's own signatures, spelled out above
    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new IllegalStateException("libc has no " + name)), descriptor);
    }
}
