package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tls.SslContext;
import dev.loriffm.tls.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * The fixture the TLS connection tests share: a two-loop group, a server context with the test
 * certificate for localhost, and a client context that trusts the test CA; all closed after each
 * test. Test classes extend it and add {@code @ExtendWith(FdLeakCheck.class)}.
 */
abstract class TlsFixture {
    EventLoopGroup group;
    SslContext serverContext;
    SslContext clientContext;

    @BeforeAll
    static void warmUpSocketsAndCertificates() throws Exception {
        JdkPeer.warmUp(); // the JDK's first socket use opens one for the life of the process
        TestCertificates.dir();
    }

    @BeforeEach
    void startGroupAndContexts() {
        group = EventLoopGroup.create(2);
        serverContext = SslContext.server()
                .certificateChain(TestCertificates.serverCertificate(), TestCertificates.serverKey())
                .buildOrThrow();
        clientContext = SslContext.client().trustedCertificates(TestCertificates.caCertificate()).buildOrThrow();
    }

    @AfterEach
    void closeGroupAndContexts() {
        group.close();
        serverContext.close();
        clientContext.close();
    }
}
