package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.openssl_h;
import dev.loriffm.testing.Project;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OpenSSL 3 through the generated bindings: load, version, SSL_CTX life cycle, ctrl macros, errors. */
class OpenSslTest {

    /** OpenSSL loads and reports the same library version as the {@code openssl} command. */
    @Test
    void initialisesAndReportsItsVersion() throws Exception {
        OpenSsl.Available ok = assertInstanceOf(OpenSsl.Available.class, OpenSsl.availability());
        assertTrue(ok.version().startsWith("OpenSSL 3."), ok.version());
        assertTrue(Long.compareUnsigned(ok.versionNumber(), OpenSsl.MINIMUM_VERSION_NUMBER) >= 0);
        Project.Run cli = Project.run(Project.root(), 60, List.of("openssl", "version"));
        assertEquals(0, cli.exitCode(), cli.output());
        // "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)" or just the first part.
        String line = cli.output().strip();
        String library = line.contains("(Library: ") ? line.substring(line.indexOf("(Library: ") + 10, line.length() - 1) : line;
        assertEquals(library, ok.version());
    }

    /** A context is created, configured through the rewritten ctrl macros, and freed. */
    @Test
    void contextLifeCycleAndCtrlMacros() {
        assertInstanceOf(OpenSsl.Available.class, OpenSsl.availability());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ctx = openssl_h.SSL_CTX_new(openssl_h.TLS_method());
            assertNotEquals(MemorySegment.NULL, ctx);
            MemorySegment ssl = MemorySegment.NULL;
            try {
                assertTrue(SslMacros.setMinProtoVersion(ctx, openssl_h.TLS1_2_VERSION()));
                assertTrue(SslMacros.setMaxProtoVersion(ctx, openssl_h.TLS1_3_VERSION()));
                assertEquals(openssl_h.TLS1_2_VERSION(), SslMacros.minProtoVersion(ctx));
                assertEquals(openssl_h.TLS1_3_VERSION(), SslMacros.maxProtoVersion(ctx));
                assertFalse(SslMacros.setMinProtoVersion(ctx, 0x7777), "unknown versions are refused");
                long mode = SslMacros.setMode(ctx, openssl_h.SSL_MODE_RELEASE_BUFFERS());
                assertTrue((mode & openssl_h.SSL_MODE_RELEASE_BUFFERS()) != 0);
                assertTrue(SslMacros.set1GroupsList(ctx, arena.allocateFrom("X25519:P-256")));
                assertFalse(SslMacros.set1GroupsList(ctx, arena.allocateFrom("no-such-group")));
                OpenSsl.drainErrors();

                ssl = openssl_h.SSL_new(ctx);
                assertNotEquals(MemorySegment.NULL, ssl);
                assertTrue(SslMacros.setTlsextHostName(ssl, arena.allocateFrom("example.test")));
                MemorySegment name = openssl_h.SSL_get_servername(ssl, openssl_h.TLSEXT_NAMETYPE_host_name());
                assertEquals("example.test", CStrings.read(name, 256));
            } finally {
                if (!ssl.equals(MemorySegment.NULL)) {
                    openssl_h.SSL_free(ssl);
                }
                openssl_h.SSL_CTX_free(ctx);
            }
        }
    }

    /** A missing certificate file is a system error with errno ENOENT and OpenSSL's text. */
    @Test
    void errorQueueIsDecodedIntoTypedErrors() {
        assertInstanceOf(OpenSsl.Available.class, OpenSsl.availability());
        OpenSsl.drainErrors();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ctx = openssl_h.SSL_CTX_new(openssl_h.TLS_method());
            try {
                int r = openssl_h.SSL_CTX_use_certificate_chain_file(ctx,
                        arena.allocateFrom("/nonexistent/lori-ffm/cert.pem"));
                assertEquals(0, r);
                List<OpenSsl.SslError> errors = OpenSsl.drainErrors();
                assertFalse(errors.isEmpty());
                OpenSsl.SslError system = errors.stream().filter(OpenSsl.SslError::system).findFirst()
                        .orElseThrow(() -> new AssertionError("no system error in " + errors));
                assertEquals(Errno.name(system.reason()), "ENOENT");
                assertEquals(openssl_h.ERR_LIB_SYS(), system.library());
                assertTrue(system.text().contains("No such file or directory"), system.text());
                assertTrue(OpenSsl.drainErrors().isEmpty(), "the queue was drained");
            } finally {
                openssl_h.SSL_CTX_free(ctx);
            }
        }
    }
}
