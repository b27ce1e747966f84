package dev.loriffm.tls;

import dev.loriffm.internal.sys.OpenSsl;
import dev.loriffm.internal.sys.SslSession;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

import static dev.loriffm.tls.TestCertificates.pem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an {@link SslContext}'s settings do in a real handshake, between two {@code SSL} objects
 * over memory BIOs ({@link MemoryTlsPair}): ALPN choice, session resumption, peer and host name
 * verification, client certificates and protocol bounds.
 */
@ExtendWith(FdLeakCheck.class)
class SslHandshakeTest {

    @BeforeAll
    static void openSslIsAvailable() {
        assertInstanceOf(OpenSsl.Available.class, OpenSsl.availability(), "OpenSSL 3 must be installed");
        TestCertificates.dir();
    }

    private static SslContextBuilder server(Path certificate, Path key) {
        return SslContext.server().certificateChain(certificate, key);
    }

    private static SslContextBuilder server() {
        return server(TestCertificates.serverCertificate(), TestCertificates.serverKey());
    }

    private static SslContextBuilder client() {
        return SslContext.client().trustedCertificates(TestCertificates.caCertificate());
    }

    private static MemoryTlsPair.Outcome handshake(SslContextBuilder client, SslContextBuilder server, String host) {
        try (SslContext c = client.buildOrThrow(); SslContext s = server.buildOrThrow();
             MemoryTlsPair pair = new MemoryTlsPair(c, s, host)) {
            return pair.handshake();
        }
    }

    private static void assertClientRejects(MemoryTlsPair.Outcome outcome, String verifyText) {
        assertEquals(SslSession.AUTH_FAILED, outcome.client(), outcome::toString);
        assertEquals(verifyText, SslSession.verifyResultText(outcome.verifyResult()));
        assertTrue(outcome.clientErrors().stream().anyMatch(e -> e.text().contains("certificate verify failed")),
                outcome::toString);
    }

    /** A verifying client accepts the CA-issued server certificate under each name it carries. */
    @ParameterizedTest
    @ValueSource(strings = {"localhost", "127.0.0.1", "::1"})
    void verifyingClientAcceptsEachNameOfTheCertificate(String host) {
        MemoryTlsPair.Outcome outcome = handshake(client(), server(), host);
        assertTrue(outcome.succeeded(), outcome::toString);
        assertEquals(0, outcome.verifyResult());
    }

    /**
     * Material given as PEM text works end to end: a chain with an encrypted key, trust, and a
     * client certificate that the server requires.
     */
    @Test
    void contextsBuiltFromPemTextCompleteAHandshake() {
        String ca = pem(TestCertificates.caCertificate());
        SslContextBuilder server = SslContext.server().certificateChainPem(pem(TestCertificates.serverCertificate()),
                pem(TestCertificates.encryptedServerKey()), TestCertificates.PASSWORD.toCharArray())
                .trustedCertificatesPem(ca).requireClientCertificate();
        SslContextBuilder client = SslContext.client().trustedCertificatesPem(ca).certificateChainPem(
                pem(TestCertificates.clientCertificate()), pem(TestCertificates.clientKey()));
        MemoryTlsPair.Outcome outcome = handshake(client, server, "localhost");
        assertTrue(outcome.succeeded(), outcome::toString);
    }

    /** A certificate for another host fails verification, for a DNS name and for an IP address. */
    @Test
    void certificateForAnotherHostIsRejected() {
        assertClientRejects(handshake(client(), server(TestCertificates.wrongHostCertificate(),
                TestCertificates.wrongHostKey()), "localhost"), "hostname mismatch");
        assertClientRejects(handshake(client(), server(), "other.localhost"), "hostname mismatch");
        assertClientRejects(handshake(client(), server(), "127.0.0.2"), "IP address mismatch");
    }

    /** Without host name verification the same certificate is accepted: its chain still verifies. */
    @Test
    void hostNameCheckCanBeTurnedOffAlone() {
        MemoryTlsPair.Outcome outcome = handshake(client().hostnameVerification(false),
                server(TestCertificates.wrongHostCertificate(), TestCertificates.wrongHostKey()), "localhost");
        assertTrue(outcome.succeeded(), outcome::toString);
    }

    /** Expired and untrusted certificates fail verification. */
    @Test
    void expiredAndUntrustedCertificatesAreRejected() {
        assertClientRejects(handshake(client(), server(TestCertificates.expiredCertificate(),
                TestCertificates.expiredKey()), "localhost"), "certificate has expired");
        assertClientRejects(handshake(client(), server(TestCertificates.selfSignedCertificate(),
                TestCertificates.selfSignedKey()), "localhost"), "self-signed certificate");
    }

    /** A client given no trust source trusts the system store, which does not know the test CA. */
    @Test
    void defaultTrustIsTheSystemStore() {
        assertClientRejects(handshake(SslContext.client(), server(), "localhost"),
                "unable to get local issuer certificate");
    }

    /** The explicitly insecure client accepts a certificate nobody trusts. */
    @Test
    void insecureClientAcceptsAnyCertificate() {
        MemoryTlsPair.Outcome outcome = handshake(SslContext.client().insecureNoVerification(),
                server(TestCertificates.selfSignedCertificate(), TestCertificates.selfSignedKey()), "localhost");
        assertTrue(outcome.succeeded(), outcome::toString);
    }

    /** A server requiring a client certificate fails a client without one and accepts a client with one. */
    @Test
    void requiredClientCertificateIsEnforced() {
        SslContextBuilder server = server().trustedCertificates(TestCertificates.caCertificate())
                .requireClientCertificate();
        MemoryTlsPair.Outcome without = handshake(client(), server, "localhost");
        assertTrue(MemoryTlsPair.isFailure(without.server()), without::toString);
        assertTrue(without.serverErrors().stream()
                .anyMatch(e -> e.text().contains("peer did not return a certificate")), without::toString);
        MemoryTlsPair.Outcome with = handshake(client().certificateChain(TestCertificates.clientCertificate(),
                TestCertificates.clientKey()), server, "localhost");
        assertTrue(with.succeeded(), with::toString);
    }

    /** The server picks the first of its own protocols that the client offers, whatever the client's order. */
    @Test
    void alpnPicksTheServersFirstChoiceAmongTheClientsOffer() {
        try (SslContext c = client().alpn(List.of("h2", "http/1.1")).buildOrThrow();
             SslContext s = server().alpn(List.of("http/1.1", "h2")).buildOrThrow();
             MemoryTlsPair pair = new MemoryTlsPair(c, s, "localhost")) {
            assertTrue(pair.handshake().succeeded());
            assertEquals("http/1.1", pair.clientAlpn());
            assertEquals("http/1.1", pair.serverAlpn());
        }
    }

    /** With no protocol in common the handshake goes on without ALPN. */
    @Test
    void alpnWithoutOverlapContinuesWithoutAProtocol() {
        try (SslContext c = client().alpn(List.of("spdy/3")).buildOrThrow();
             SslContext s = server().alpn(List.of("h2")).buildOrThrow();
             MemoryTlsPair pair = new MemoryTlsPair(c, s, "localhost")) {
            assertTrue(pair.handshake().succeeded());
            assertNull(pair.clientAlpn());
            assertNull(pair.serverAlpn());
        }
    }

    /** A session saved from one connection is resumed by the next, for TLS 1.2 and 1.3. */
    @ParameterizedTest
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void sessionsAreResumed(TlsVersion version) {
        try (SslContext c = client().maximumVersion(version).buildOrThrow();
             SslContext s = server().buildOrThrow()) {
            MemorySegment session = firstSession(c, s);
            assertNotEquals(MemorySegment.NULL, session, "a resumable session");
            try (MemoryTlsPair second = new MemoryTlsPair(c, s, "localhost")) {
                second.resume(session);
                assertTrue(second.handshake().succeeded());
                assertEquals(version.protocolName(), second.version());
                assertTrue(second.clientResumed(), "client resumed");
                assertTrue(second.serverResumed(), "server resumed");
            } finally {
                SslSession.freeSession(session);
            }
        }
    }

    /**
     * With resumption off a server issues nothing to resume: no TLS 1.3 ticket, and for TLS 1.2
     * neither a ticket nor a session id, so the client's session is not resumable.
     */
    @ParameterizedTest
    @EnumSource(value = TlsVersion.class, names = {"TLS_1_2", "TLS_1_3"})
    void serverWithoutResumptionIssuesNothingToResume(TlsVersion version) {
        try (SslContext c = client().maximumVersion(version).buildOrThrow();
             SslContext s = server().sessionResumption(false).buildOrThrow()) {
            assertFalse(s.sessionResumption());
            assertEquals(MemorySegment.NULL, firstSession(c, s));
        }
    }

    private static MemorySegment firstSession(SslContext c, SslContext s) {
        try (MemoryTlsPair first = new MemoryTlsPair(c, s, "localhost")) {
            assertTrue(first.handshake().succeeded());
            assertFalse(first.clientResumed());
            first.clientReadsPostHandshakeMessages();
            return first.clientSession();
        }
    }

    /** The version bounds decide what is negotiated, and disjoint bounds fail. */
    @Test
    void versionBoundsLimitTheNegotiation() {
        try (SslContext c = client().buildOrThrow(); SslContext s = server().buildOrThrow();
             MemoryTlsPair pair = new MemoryTlsPair(c, s, "localhost")) {
            assertTrue(pair.handshake().succeeded());
            assertEquals("TLSv1.3", pair.version());
        }
        try (SslContext c = client().maximumVersion(TlsVersion.TLS_1_2).buildOrThrow();
             SslContext s = server().buildOrThrow();
             MemoryTlsPair pair = new MemoryTlsPair(c, s, "localhost")) {
            assertTrue(pair.handshake().succeeded());
            assertEquals("TLSv1.2", pair.version());
        }
        MemoryTlsPair.Outcome disjoint = handshake(client().maximumVersion(TlsVersion.TLS_1_2),
                server().minimumVersion(TlsVersion.TLS_1_3), "localhost");
        assertFalse(disjoint.succeeded(), disjoint::toString);
    }
}
