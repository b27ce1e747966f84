package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.SSL_CTX_alpn_select_cb_func;
import dev.loriffm.internal.bindings.openssl_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Application-Layer Protocol Negotiation (RFC 7301): the protocols a client offers, the server's
 * choice among them, and the protocol a connection agreed on.
 *
 * <p>The server's choice runs in one process-wide {@code SSL_CTX_alpn_select_cb_func} upcall that
 * captures nothing: its {@code arg} points at a native {@code [int length][wire list]} block owned
 * by the context's arena, which must outlive the {@code SSL_CTX} and every {@code SSL} made from
 * it.
 *
 * <p>Thread-safe: stateless; the upcall only reads immutable memory and may run on any thread
 * that drives a handshake.
 */
public final class SslAlpn {
    /** The longest protocol name the wire format can carry, in bytes. */
    public static final int MAX_NAME_BYTES = 255;
    /** The longest protocol list the wire format can carry, in bytes (a 16-bit length). */
    public static final int MAX_LIST_BYTES = 65535;

    private static final int NEGOTIATED = openssl_h.OPENSSL_NPN_NEGOTIATED();
    private static final int TLSEXT_ERR_OK = openssl_h.SSL_TLSEXT_ERR_OK();
    private static final int TLSEXT_ERR_NOACK = openssl_h.SSL_TLSEXT_ERR_NOACK();
    private static final int TLSEXT_ERR_ALERT_FATAL = openssl_h.SSL_TLSEXT_ERR_ALERT_FATAL();

    private SslAlpn() { }

    private static final class Callback {
        // One stub for the process: it captures nothing, so it never needs freeing.
        static final MemorySegment STUB = SSL_CTX_alpn_select_cb_func.allocate(SslAlpn::select, Arena.global());
    }

    /**
     * {@return the protocols in the wire format: each name's length as one byte, then the name}
     *
     * @param protocols names of 1..{@value #MAX_NAME_BYTES} UTF-8 bytes, at most
     *                  {@value #MAX_LIST_BYTES} bytes in all
     * @throws IllegalArgumentException if a name or the list is empty or too long
     */
    public static byte[] wireFormat(List<String> protocols) {
        if (protocols.isEmpty()) {
            throw new IllegalArgumentException("no ALPN protocol");
        }
        byte[][] names = new byte[protocols.size()][];
        int total = 0;
        for (int i = 0; i < names.length; i++) {
            names[i] = protocols.get(i).getBytes(StandardCharsets.UTF_8);
            if (names[i].length < 1 || names[i].length > MAX_NAME_BYTES) {
                throw new IllegalArgumentException("ALPN protocol of " + names[i].length + " bytes");
            }
            total += 1 + names[i].length;
        }
        if (total > MAX_LIST_BYTES) {
            throw new IllegalArgumentException("ALPN list of " + total + " bytes");
        }
        byte[] wire = new byte[total];
        int at = 0;
        for (byte[] name : names) {
            wire[at++] = (byte) name.length;
            System.arraycopy(name, 0, wire, at, name.length);
            at += name.length;
        }
        return wire;
    }

    /**
     * Client: offers {@code wire} (see {@link #wireFormat}) in every ClientHello, in its order.
     * OpenSSL copies the list.
     */
    public static List<OpenSsl.SslError> offer(MemorySegment ctx, Arena arena, byte[] wire) {
        MemorySegment protos = arena.allocateFrom(ValueLayout.JAVA_BYTE, wire);
        // Unlike most of the API, SSL_CTX_set_alpn_protos returns 0 on success.
        int r = openssl_h.SSL_CTX_set_alpn_protos(ctx, protos, wire.length);
        return r == 0 ? List.of() : SslContexts.failure("SSL_CTX_set_alpn_protos");
    }

    /**
     * Server: picks the first protocol of {@code wire} (server preference order) that the client
     * offered; with no overlap the handshake goes on without ALPN ({@code SSL_TLSEXT_ERR_NOACK}).
     *
     * @param contextArena owns the list; close it only after {@code SSL_CTX_free} and after every
     *                     {@code SSL} of this context is freed
     */
    public static void acceptInOrder(MemorySegment ctx, Arena contextArena, byte[] wire) {
        MemorySegment block = contextArena.allocate(Integer.BYTES + (long) wire.length);
        block.set(ValueLayout.JAVA_INT, 0, wire.length);
        MemorySegment.copy(wire, 0, block, ValueLayout.JAVA_BYTE, Integer.BYTES, wire.length);
        openssl_h.SSL_CTX_set_alpn_select_cb(ctx, Callback.STUB, block);
    }

    /**
     * The upcall. {@code SSL_select_next_proto} walks the server list first, so the server's order
     * wins, and on a match points {@code out} into that list, which outlives the call. Never
     * throws: an unexpected failure aborts the handshake with a fatal alert rather than the JVM.
     */
    @SuppressWarnings("restricted")
    private static int select(MemorySegment ssl, MemorySegment out, MemorySegment outlen, MemorySegment in,
                              int inlen, MemorySegment arg) {
        try {
            int length = arg.reinterpret(Integer.BYTES).get(ValueLayout.JAVA_INT, 0);
            MemorySegment server = arg.reinterpret(Integer.BYTES + (long) length).asSlice(Integer.BYTES);
            int r = openssl_h.SSL_select_next_proto(out, outlen, server, length, in, inlen);
            return r == NEGOTIATED ? TLSEXT_ERR_OK : TLSEXT_ERR_NOACK;
        } catch (Throwable t) {
            // An exception escaping an upcall kills the JVM.
            return TLSEXT_ERR_ALERT_FATAL;
        }
    }

    /** {@return the protocol the connection agreed on, or {@code null} if none was} */
    public static String selected(MemorySegment ssl) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            openssl_h.SSL_get0_alpn_selected(ssl, data, length);
            int n = length.get(ValueLayout.JAVA_INT, 0);
            MemorySegment name = data.get(ValueLayout.ADDRESS, 0);
            if (n == 0 || name.equals(MemorySegment.NULL)) {
                return null;
            }
            return new String(bytes(name, n), StandardCharsets.UTF_8);
        }
    }

    @SuppressWarnings("restricted")
    private static byte[] bytes(MemorySegment pointer, int length) {
        return pointer.reinterpret(length).toArray(ValueLayout.JAVA_BYTE);
    }
}
