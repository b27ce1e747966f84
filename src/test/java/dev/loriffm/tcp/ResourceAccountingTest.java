package dev.loriffm.tcp;

import dev.loriffm.internal.sys.NativeAccounting;
import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import dev.loriffm.testing.MallocAccounting;
import dev.loriffm.tls.SslContext;
import dev.loriffm.tls.TestCertificates;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * After 100,000 connection open/close cycles (one in ten over TLS), with the groups and contexts
 * that served them closed, the process holds exactly the file descriptors and threads it held
 * before (Java threads: loops and resolvers are gone), the runtime's count of open arenas and
 * OpenSSL sessions ({@code NativeAccounting}) is back where it was, and the native memory the JVM's Native Memory Tracking attributes to {@code Other} (every
 * FFM arena's allocation: read buffers, receive areas, scratch memory) is back to its count of
 * live allocations. OpenSSL's own allocations are outside NMT: what glibc's allocator holds
 * ({@link MallocAccounting}) less NMT's total of the JVM's mallocs covers them, and may grow only
 * by allocator slack. The test JVM runs with
 * {@code -XX:NativeMemoryTracking=summary} (pom.xml). {@code -Dloriffm.accounting.cycles=N}
 * changes the number of cycles.
 */
class ResourceAccountingTest {
    private static final int CYCLES = Integer.getInteger("loriffm.accounting.cycles", 100_000);
    private static final int TLS_EVERY = 10;
    private static final int IN_FLIGHT = 32;
    /**
     * Growth allowed in what malloc holds beyond the JVM's own allocations, for the whole run:
     * allocator slack, not a per-connection leak (an SSL object alone is kilobytes, so leaking one
     * per TLS cycle would be tens of MiB).
     */
    private static final long NON_JVM_MALLOC_BOUND_BYTES = 4L << 20;

    @BeforeAll
    static void warmUp() throws Exception {
        JdkPeer.warmUp();
        TestCertificates.dir();
    }

    @Test
    void aHundredThousandCyclesLeaveFdsThreadsAndNativeMemoryAsTheyWere() throws Exception {
        assertNull(runCycles(2_000), "warm-up"); // JIT, OpenSSL's lazy tables, the JDK's own first uses
        Snapshot before = Snapshot.take();
        String failure = runCycles(CYCLES);
        Snapshot after = Snapshot.take();
        assertNull(failure);
        Set<String> leaked = new TreeSet<>(after.fds);
        leaked.removeAll(before.fds);
        Set<String> gone = new TreeSet<>(before.fds);
        gone.removeAll(after.fds);
        assertEquals(before.fds.size(), after.fds.size(), "file descriptors after " + CYCLES + " cycles: new "
                + leaked + ", gone " + gone);
        assertEquals(Set.of(), leaked, "file descriptors opened and not closed over " + CYCLES + " cycles");
        assertEquals(before.threads, after.threads, "Java threads before and after");
        assertEquals(before.arenas, after.arenas, "arenas the runtime opened and did not close");
        assertEquals(before.sslSessions, after.sslSessions, "OpenSSL sessions the runtime did not free");
        assertEquals(before.otherAllocations, after.otherAllocations, "live FFM (NMT Other) allocations: "
                + before.otherKb + " KB before, " + after.otherKb + " KB after");
        long otherMallocGrowth = after.nonJvmMalloc - before.nonJvmMalloc;
        assertTrue(otherMallocGrowth < NON_JVM_MALLOC_BOUND_BYTES, "malloc'd memory outside the JVM's own "
                + "(OpenSSL's, libc's) grew by " + (otherMallocGrowth >> 10) + " KiB over " + CYCLES + " cycles");
        System.out.printf("resource accounting: %d cycles; fds %d, threads %d, NMT Other %d allocations "
                        + "(%d KB) before and after; malloc outside the JVM %+d KiB%n", CYCLES, before.fds.size(),
                before.threads.size(), after.otherAllocations, after.otherKb, otherMallocGrowth >> 10);
    }

    /**
     * Runs {@code cycles} connections, each: connect, the client sends one byte, the server answers
     * one byte and closes, the client sees the close. Closes everything it opened.
     *
     * @return null, or what went wrong
     */
    private static String runCycles(int cycles) throws Exception {
        AtomicReference<String> failure = new AtomicReference<>();
        Semaphore slots = new Semaphore(IN_FLIGHT);
        AtomicInteger done = new AtomicInteger();
        try (EventLoopGroup servers = EventLoopGroup.create(2);
             EventLoopGroup clients = EventLoopGroup.create(2);
             SslContext serverContext = SslContext.server()
                     .certificateChain(TestCertificates.serverCertificate(), TestCertificates.serverKey())
                     .buildOrThrow();
             SslContext clientContext = SslContext.client().trustedCertificates(TestCertificates.caCertificate())
                     .buildOrThrow()) {
            ServerLifecycleReceiver answer = new ServerLifecycleReceiver() {
                @Override
                public void onReceived(TcpConnection c, MemorySegment data) {
                    c.send("y");
                    c.close();
                }

                @Override
                public void onStartFailure(TcpConnection c, StartFailure reason) {
                    failure.compareAndSet(null, "server start failure " + reason + ": " + c.failureDetail());
                }
            };
            Loopback.Started plain = Loopback.listen(servers, socket -> answer);
            Loopback.Started tls = Loopback.listenTls(servers, serverContext, socket -> answer);
            ClientLifecycleReceiver ask = new ClientLifecycleReceiver() {
                @Override
                public void onConnected(TcpConnection c) {
                    c.send("x");
                }

                @Override
                public void onReceived(TcpConnection c, MemorySegment data) {
                    if (data.byteSize() != 1 || data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) != 'y') {
                        failure.compareAndSet(null, "client received " + Loopback.text(data));
                    }
                }

                @Override
                public void onClosed(TcpConnection c) {
                    done.incrementAndGet();
                    slots.release();
                }

                @Override
                public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                    failure.compareAndSet(null, "connection failure " + reason + ": " + c.failureDetail());
                    done.incrementAndGet();
                    slots.release();
                }
            };
            int port = plain.address().getPort();
            int tlsPort = tls.address().getPort();
            for (int i = 0; i < cycles && failure.get() == null; i++) {
                if (!slots.tryAcquire(Loopback.WAIT_SECONDS, TimeUnit.SECONDS)) {
                    return "no cycle finished within " + Loopback.WAIT_SECONDS + " s after " + done.get();
                }
                if (i % TLS_EVERY == 0) {
                    TcpConnection.sslClient(Loopback.CONNECT, clients.next(), "localhost", tlsPort, clientContext, ask,
                            ClientOptions.DEFAULT.withIpVersion(IpVersion.IP4));
                } else {
                    TcpConnection.client(Loopback.CONNECT, clients.next(), "127.0.0.1", port, ask);
                }
            }
            if (!slots.tryAcquire(IN_FLIGHT, Loopback.WAIT_SECONDS * 2, TimeUnit.SECONDS)) {
                return "the last cycles did not finish: " + done.get() + " of " + cycles;
            }
            return failure.get();
        }
    }

    /** What the process holds at one moment. */
    private record Snapshot(Set<String> fds, List<String> threads, long arenas, long sslSessions,
                            long otherAllocations, long otherKb, long nonJvmMalloc) {
        private static final Pattern OTHER = Pattern.compile("malloc=(\\d+)KB tag=Other #(\\d+)");
        private static final Pattern JVM_MALLOC = Pattern.compile("malloc: (\\d+)KB #");

        static Snapshot take() throws Exception {
            System.gc(); // closes nothing (arenas are explicit) but settles the committed heap a little
            String nmt = nativeMemorySummary();
            Matcher other = OTHER.matcher(nmt);
            assertTrue(other.find(), () -> "Native Memory Tracking is off or has no Other category "
                    + "(the test JVM needs -XX:NativeMemoryTracking=summary):\n" + nmt);
            Matcher jvmMalloc = JVM_MALLOC.matcher(nmt);
            assertTrue(jvmMalloc.find(), () -> "no malloc total in the NMT summary:\n" + nmt);
            long nonJvmMalloc = MallocAccounting.bytesInUse() - (Long.parseLong(jvmMalloc.group(1)) << 10);
            return new Snapshot(nonTransientFds(), javaThreads(), NativeAccounting.liveArenas(),
                    NativeAccounting.liveSslSessions(), Long.parseLong(other.group(2)),
                    Long.parseLong(other.group(1)), nonJvmMalloc);
        }

        /** {@return this JVM's NMT summary, from the DiagnosticCommand MBean (jcmd's VM.native_memory)} */
        private static String nativeMemorySummary() throws Exception {
            return (String) java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(
                    new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
        }

        /** Open fds, less those reading {@code /proc} (the listing's own). */
        private static Set<String> nonTransientFds() {
            Set<String> fds = new TreeSet<>(FdLeakCheck.openFds());
            fds.removeIf(fd -> fd.contains(" -> /proc/"));
            return fds;
        }

        /**
         * {@return the names of the live Java threads, sorted} The JVM's own native threads (GC
         * workers, JIT compilers) come and go with load, so the process's task count is no oracle.
         */
        private static List<String> javaThreads() {
            return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted().toList();
        }
    }
}
