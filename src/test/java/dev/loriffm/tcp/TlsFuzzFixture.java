package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.NativeScratch;
import dev.loriffm.internal.tls.NativeSslContext;
import dev.loriffm.internal.tls.SslContextAccess;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tls.SslContext;
import dev.loriffm.tls.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;

/**
 * What the TLS fuzz targets share: one loop, a server context with the test certificate for
 * localhost, a client context trusting the test CA, and native memory for an OpenSSL client
 * session driven on the loop thread; all made once per class.
 */
abstract class TlsFuzzFixture {
    static EventLoopGroup group;
    static Reactor loop;
    static SslContext serverContext;
    static SslContext clientContext;
    static NativeScratch clientScratch; // the client session's, on the loop thread
    static Arena arena;
    static MemorySegment clientBuffer;

    @BeforeAll
    static void startLoopAndContexts() throws Exception {
        group = EventLoopGroup.create(1);
        loop = (Reactor) group.next();
        serverContext = SslContext.server()
                .certificateChain(TestCertificates.serverCertificate(), TestCertificates.serverKey())
                .buildOrThrow();
        clientContext = SslContext.client().trustedCertificates(TestCertificates.caCertificate()).buildOrThrow();
        clientScratch = ConnectionFakes.onLoop(loop, NativeScratch::new);
        arena = Arena.ofShared();
        clientBuffer = arena.allocate(64 * 1024);
    }

    @AfterAll
    static void stopLoopAndContexts() throws Exception {
        ConnectionFakes.onLoop(loop, () -> {
            clientScratch.close();
            return null;
        });
        group.close();
        serverContext.close();
        clientContext.close();
        arena.close();
    }

    /** {@return how many connections hold {@code context} now} */
    static int users(SslContext context) {
        NativeSslContext tls = SslContextAccess.of(context);
        try {
            Field users = NativeSslContext.class.getDeclaredField("users");
            users.setAccessible(true);
            synchronized (tls) {
                return users.getInt(tls);
            }
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
