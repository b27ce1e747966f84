package dev.loriffm.tls;

import dev.loriffm.internal.sys.OpenSsl;
import dev.loriffm.internal.sys.SslContexts;
import dev.loriffm.internal.sys.SslErrorCauses;
import dev.loriffm.internal.tls.NativeSslContext;
import dev.loriffm.internal.tls.SslContextAccess;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.loriffm.tls.TestCertificates.PASSWORD;
import static dev.loriffm.tls.TestCertificates.pem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Building {@link SslContext}s: defaults, every input source, each typed error, and the native life cycle. */
@ExtendWith(FdLeakCheck.class)
class SslContextTest {
    private static final Path MISSING = Path.of("/nonexistent/lori-ffm/missing.pem");

    @BeforeAll
    static void openSslIsAvailable() {
        // Fail loudly, never skip: every TLS test needs OpenSSL 3.
        assertInstanceOf(OpenSsl.Available.class, OpenSsl.availability(), "OpenSSL 3 must be installed");
        TestCertificates.dir();
    }

    private static SslContextBuilder server() {
        return SslContext.server().certificateChain(TestCertificates.serverCertificate(), TestCertificates.serverKey());
    }

    private static <E extends SslContextError> E fails(Class<E> expected, SslContextBuilder builder) {
        SslContextResult result = builder.build();
        if (result instanceof SslContextResult.Built(SslContext context)) {
            context.close();
        }
        return assertInstanceOf(expected, result, () -> "expected " + expected.getSimpleName() + ", got " + result);
    }

    private static void assertOpenSslText(String text) {
        assertTrue(text.startsWith("error:"), () -> "OpenSSL's error text expected, got: " + text);
    }

    /** A client's defaults are the secure ones: verify peer and host name, TLS 1.2+, resumption on. */
    @Test
    void defaultClientVerifiesPeerAndHostName() {
        try (SslContext client = SslContext.client().buildOrThrow()) {
            assertTrue(client.isClient());
            assertTrue(client.verifyPeer());
            assertTrue(client.hostnameVerification());
            assertEquals(TlsVersion.TLS_1_2, client.minimumVersion());
            assertEquals(TlsVersion.TLS_1_3, client.maximumVersion());
            assertEquals(SslContextBuilder.DEFAULT_VERIFY_DEPTH, client.verifyDepth());
            assertTrue(client.sessionResumption());
            assertEquals(List.of(), client.alpn());
            assertEquals(Optional.empty(), client.ciphers());
            assertFalse(client.isClosed());
        }
    }

    /** A client stops verifying its peer only through the explicitly insecure call, which drops the host check too. */
    @Test
    void clientStopsVerifyingOnlyWhenToldExplicitly() {
        assertThrows(IllegalArgumentException.class, () -> SslContext.client().verifyPeer(false));
        try (SslContext insecure = SslContext.client().insecureNoVerification().buildOrThrow()) {
            assertFalse(insecure.verifyPeer());
            assertFalse(insecure.hostnameVerification());
            NativeSslContext nativeContext = SslContextAccess.of(insecure);
            assertFalse(nativeContext.verifyPeer());
            assertFalse(nativeContext.hostnameVerification());
        }
    }

    /** Server-only and client-only settings are programming errors on the other side. */
    @Test
    void settingsOfTheOtherSideAreRejectedAtOnce() {
        assertThrows(IllegalStateException.class, () -> SslContext.client().requireClientCertificate());
        assertThrows(IllegalStateException.class, () -> SslContext.server().hostnameVerification(true));
        assertThrows(IllegalArgumentException.class, () -> SslContext.client().verifyDepth(-1));
        assertThrows(NullPointerException.class, () -> SslContext.client().minimumVersion(null));
    }

    /** Client and server contexts build from PEM files, with every setting kept. */
    @Test
    void contextsBuildFromFiles() {
        try (SslContext server = server().trustedCertificates(TestCertificates.caCertificate())
                .requireClientCertificate().alpn(List.of("h2", "http/1.1")).groups("X25519:P-256")
                .ciphers("ECDHE+AESGCM").cipherSuites("TLS_AES_128_GCM_SHA256").verifyDepth(3).buildOrThrow();
             SslContext client = SslContext.client().trustedCertificates(TestCertificates.caCertificate())
                     .certificateChain(TestCertificates.clientCertificate(), TestCertificates.clientKey())
                     .alpn(List.of("http/1.1")).maximumVersion(TlsVersion.TLS_1_2).buildOrThrow()) {
            assertFalse(server.isClient());
            assertTrue(server.verifyPeer());
            assertTrue(server.requiresClientCertificate());
            assertFalse(server.hostnameVerification());
            assertEquals(List.of("h2", "http/1.1"), server.alpn());
            assertEquals(Optional.of("X25519:P-256"), server.groups());
            assertEquals(Optional.of("ECDHE+AESGCM"), server.ciphers());
            assertEquals(Optional.of("TLS_AES_128_GCM_SHA256"), server.cipherSuites());
            assertEquals(3, server.verifyDepth());
            assertEquals(TlsVersion.TLS_1_2, client.maximumVersion());
            assertEquals(List.of("http/1.1"), client.alpn());
        }
    }

    /** The same material given as PEM text builds the same way, trust included. */
    @Test
    void contextsBuildFromPemText() {
        String chain = pem(TestCertificates.serverCertificate()) + pem(TestCertificates.caCertificate());
        try (SslContext server = SslContext.server().certificateChainPem(chain, pem(TestCertificates.serverKey()))
                .buildOrThrow();
             SslContext client = SslContext.client().trustedCertificatesPem(pem(TestCertificates.caCertificate()))
                     .buildOrThrow()) {
            assertFalse(server.isClient());
            assertTrue(client.verifyPeer());
        }
    }

    /** An encrypted PKCS#8 key loads with its password, from a file and from PEM text. */
    @Test
    void encryptedKeyLoadsWithItsPassword() {
        Path cert = TestCertificates.serverCertificate();
        Path key = TestCertificates.encryptedServerKey();
        SslContext.server().certificateChain(cert, key, PASSWORD.toCharArray()).buildOrThrow().close();
        SslContext.server().certificateChainPem(pem(cert), pem(key), PASSWORD.toCharArray()).buildOrThrow().close();
    }

    /** Trust comes from a hashed directory or the system store as well as from files. */
    @Test
    void trustLoadsFromADirectoryAndTheSystemStore() {
        SslContext.client().trustedCertificates(TestCertificates.caDirectory()).buildOrThrow().close();
        SslContext.client().systemTrustStore().trustedCertificates(TestCertificates.caCertificate())
                .buildOrThrow().close();
    }

    /** A missing file is FileNotFound naming it, checked before OpenSSL opens anything. */
    @Test
    void missingFileIsFileNotFound() {
        Path key = TestCertificates.serverKey();
        var chain = fails(SslContextError.FileNotFound.class, SslContext.server().certificateChain(MISSING, key));
        assertEquals(MISSING, chain.path());
        assertEquals("No such file or directory", chain.text());
        var keyFile = fails(SslContextError.FileNotFound.class,
                SslContext.server().certificateChain(TestCertificates.serverCertificate(), MISSING));
        assertEquals(MISSING, keyFile.path());
        var trust = fails(SslContextError.FileNotFound.class, SslContext.client().trustedCertificates(MISSING));
        assertEquals(MISSING, trust.path());
        var directory = fails(SslContextError.FileNotFound.class,
                SslContext.server().certificateChain(TestCertificates.dir(), key));
        assertFalse(directory.text().isEmpty());
    }

    /** Had the file vanished after the check, OpenSSL's system error would be recognised as a file error. */
    @Test
    void openSslReportsAMissingFileAsASystemError() {
        MemorySegment ctx = SslContexts.create(false);
        try (Arena arena = Arena.ofConfined()) {
            List<OpenSsl.SslError> errors = SslContexts.useCertificateChainFile(ctx, arena, MISSING);
            assertTrue(SslErrorCauses.isFileError(errors), errors::toString);
            assertTrue(SslErrorCauses.text(errors).contains("No such file or directory"), errors::toString);
        } finally {
            SslContexts.free(ctx);
        }
    }

    /** A wrong password, or none for an encrypted key, is BadPassword with OpenSSL's text. */
    @Test
    void wrongOrMissingPasswordIsBadPassword() {
        Path cert = TestCertificates.serverCertificate();
        Path key = TestCertificates.encryptedServerKey();
        char[] wrong = "wrong".toCharArray();
        assertOpenSslText(fails(SslContextError.BadPassword.class,
                SslContext.server().certificateChain(cert, key, wrong)).text());
        assertOpenSslText(fails(SslContextError.BadPassword.class,
                SslContext.server().certificateChain(cert, key)).text());
        assertOpenSslText(fails(SslContextError.BadPassword.class,
                SslContext.server().certificateChainPem(pem(cert), pem(key), wrong)).text());
        assertOpenSslText(fails(SslContextError.BadPassword.class,
                SslContext.server().certificateChainPem(pem(cert), pem(key))).text());
    }

    /** Another key of the same type fails when loaded; one of another type fails the final check. */
    @Test
    void keyOfAnotherCertificateIsAMismatch() {
        var sameType = fails(SslContextError.KeyDoesNotMatchCertificate.class, SslContext.server()
                .certificateChain(TestCertificates.serverCertificate(), TestCertificates.clientKey()));
        assertTrue(sameType.text().contains("key values mismatch"), sameType.text());
        var rsaCertEcKey = fails(SslContextError.KeyDoesNotMatchCertificate.class, SslContext.server()
                .certificateChain(TestCertificates.rsaCertificate(), TestCertificates.serverKey()));
        assertOpenSslText(rsaCertEcKey.text());
        var ecCertRsaKey = fails(SslContextError.KeyDoesNotMatchCertificate.class, SslContext.server()
                .certificateChainPem(pem(TestCertificates.serverCertificate()), pem(TestCertificates.rsaKey())));
        assertOpenSslText(ecCertRsaKey.text());
    }

    /** Input that is not PEM is InvalidPem naming which input, with OpenSSL's text. */
    @Test
    void garbageIsInvalidPem() {
        String garbage = "this is not PEM\n";
        String key = pem(TestCertificates.serverKey());
        var chain = fails(SslContextError.InvalidPem.class, SslContext.server().certificateChainPem(garbage, key));
        assertEquals("certificate chain", chain.what());
        assertTrue(chain.text().contains("no start line"), chain.text());
        var badKey = fails(SslContextError.InvalidPem.class,
                SslContext.server().certificateChainPem(pem(TestCertificates.serverCertificate()), garbage));
        assertEquals("private key", badKey.what());
        assertOpenSslText(badKey.text());
        var trust = fails(SslContextError.InvalidPem.class, SslContext.client().trustedCertificatesPem(garbage));
        assertEquals("trusted certificates", trust.what());
        assertOpenSslText(trust.text());
        var keyAsChain = fails(SslContextError.InvalidPem.class,
                SslContext.server().certificateChain(TestCertificates.serverKey(), TestCertificates.serverKey()));
        assertEquals("certificate chain", keyAsChain.what());
        var keyAsTrust = fails(SslContextError.InvalidPem.class,
                SslContext.client().trustedCertificates(TestCertificates.serverKey()));
        assertEquals("trusted certificates", keyAsTrust.what());
    }

    /** Cipher and suite lists that match nothing, and unknown groups, are named with OpenSSL's text. */
    @Test
    void unknownCiphersAndGroupsAreReported() {
        var ciphers = fails(SslContextError.UnknownCipher.class, server().ciphers("NO-SUCH-CIPHER"));
        assertEquals("NO-SUCH-CIPHER", ciphers.list());
        assertTrue(ciphers.text().contains("no cipher match"), ciphers.text());
        var suites = fails(SslContextError.UnknownCipher.class, SslContext.client().cipherSuites("TLS_NO_SUCH_SUITE"));
        assertEquals("TLS_NO_SUCH_SUITE", suites.list());
        assertTrue(suites.text().contains("no cipher match"), suites.text());
        var groups = fails(SslContextError.UnknownGroup.class, SslContext.client().groups("no-such-group"));
        assertOpenSslText(groups.text());
        fails(SslContextError.UnknownCipher.class, SslContext.client().ciphers(" "));
        fails(SslContextError.UnknownGroup.class, SslContext.client().groups(""));
    }

    /** ALPN lists must be non-empty with names of 1..255 bytes. */
    @Test
    void badAlpnNamesAreInvalidAlpn() {
        fails(SslContextError.InvalidAlpn.class, SslContext.client().alpn(List.of()));
        fails(SslContextError.InvalidAlpn.class, SslContext.client().alpn(List.of("h2", "")));
        var tooLong = fails(SslContextError.InvalidAlpn.class, server().alpn(List.of("x".repeat(256))));
        assertTrue(tooLong.reason().contains("256 bytes"), tooLong.reason());
        SslContext.client().alpn(List.of("y".repeat(255))).buildOrThrow().close();
    }

    /** A minimum version above the maximum is an empty range. */
    @Test
    void minimumAboveMaximumIsUnsupportedVersion() {
        var error = fails(SslContextError.UnsupportedVersion.class,
                SslContext.client().minimumVersion(TlsVersion.TLS_1_3).maximumVersion(TlsVersion.TLS_1_2));
        assertEquals(TlsVersion.TLS_1_3, error.minimum());
        assertEquals(TlsVersion.TLS_1_2, error.maximum());
        SslContext.client().minimumVersion(TlsVersion.TLS_1_0).buildOrThrow().close();
    }

    /** A server needs a certificate, and trust if it verifies clients. */
    @Test
    void incompleteServerConfigurationIsReported() {
        fails(SslContextError.IncompleteConfiguration.class, SslContext.server());
        fails(SslContextError.IncompleteConfiguration.class, server().requireClientCertificate());
        fails(SslContextError.IncompleteConfiguration.class, server().verifyPeer(true));
    }

    /** buildOrThrow carries the typed error in its exception. */
    @Test
    void buildOrThrowCarriesTheError() {
        SslContextException e = assertThrows(SslContextException.class,
                () -> SslContext.client().trustedCertificates(MISSING).buildOrThrow());
        SslContextError.FileNotFound error = assertInstanceOf(SslContextError.FileNotFound.class, e.error());
        assertEquals(error.message(), e.getMessage());
    }

    /** close() is idempotent and frees the native context only once its last user released it. */
    @Test
    void closeWaitsForTheLastUserAndIsIdempotent() {
        SslContext context = server().buildOrThrow();
        NativeSslContext nativeContext = SslContextAccess.of(context);
        assertSame(nativeContext, SslContextAccess.of(context));
        assertTrue(nativeContext.acquire());
        assertTrue(nativeContext.acquire());
        context.close();
        assertTrue(context.isClosed());
        assertFalse(nativeContext.isFreed(), "two users remain");
        assertFalse(nativeContext.acquire(), "a closed context admits no new user");
        nativeContext.release();
        context.close();
        assertFalse(nativeContext.isFreed(), "one user remains");
        nativeContext.release();
        assertTrue(nativeContext.isFreed());
        context.close();
        assertThrows(IllegalStateException.class, nativeContext::release);
    }

    /** Users on many threads acquire and release while the context closes: it is freed once they are all gone. */
    @Test
    void concurrentUsersKeepTheContextAliveUntilTheLastRelease() throws InterruptedException {
        SslContext context = server().buildOrThrow();
        NativeSslContext nativeContext = SslContextAccess.of(context);
        assertTrue(nativeContext.acquire(), "the test's own use");
        List<Thread> users = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            users.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10_000 && nativeContext.acquire(); i++) {
                    nativeContext.release();
                }
            }));
        }
        context.close();
        for (Thread user : users) {
            user.join();
        }
        assertFalse(nativeContext.isFreed(), "the test's own use remains");
        assertEquals(1, nativeContext.users());
        nativeContext.release();
        assertTrue(nativeContext.isFreed());
        assertEquals(0, nativeContext.users());
    }

    /** Building and closing many contexts, every kind of input included, leaves no descriptor open. */
    @Test
    void buildAndCloseCyclesLeakNoFileDescriptors() {
        for (int i = 0; i < 200; i++) {
            switch (i % 4) {
                case 0 -> buildAndClose(server().trustedCertificates(TestCertificates.caCertificate())
                        .requireClientCertificate().alpn(List.of("h2")));
                case 1 -> buildAndClose(SslContext.client().trustedCertificates(TestCertificates.caDirectory())
                        .certificateChain(TestCertificates.clientCertificate(), TestCertificates.clientKey()));
                case 2 -> fails(SslContextError.BadPassword.class, SslContext.server().certificateChain(
                        TestCertificates.serverCertificate(), TestCertificates.encryptedServerKey(),
                        "x".toCharArray()));
                default -> fails(SslContextError.KeyDoesNotMatchCertificate.class, SslContext.server()
                        .certificateChain(TestCertificates.rsaCertificate(), TestCertificates.serverKey()));
            }
        }
    }

    private static void buildAndClose(SslContextBuilder builder) {
        SslContext context = builder.buildOrThrow();
        NativeSslContext nativeContext = SslContextAccess.of(context);
        context.close();
        assertTrue(nativeContext.isFreed(), "an unused context is freed by close()");
    }
}
