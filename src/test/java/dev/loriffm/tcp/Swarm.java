package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tls.SslContext;
import dev.loriffm.tls.TestCertificates;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * A randomized swarm of echo connections in the spirit of lori's {@code stress-tests/tcp-swarm}:
 * clients on one group send seeded random streams to echo servers on another, over plaintext and
 * TLS listeners, with every knob the plans turn ({@link SwarmPlan}). Oracles: echo integrity
 * (checked byte by byte by each client), conservation (each side's {@link TokenLedger}), and after
 * every connection has finished, that what each side reports sent is what the other received.
 */
final class Swarm implements AutoCloseable {
    private final Queue<String> violations = new ConcurrentLinkedQueue<>();
    private final Map<Long, SwarmServer> servers = new ConcurrentHashMap<>();
    private final List<SwarmServer> allServers = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<SwarmClient> clients = new ArrayList<>();
    private final EventLoopGroup serverGroup;
    private final EventLoopGroup clientGroup;
    private final SslContext serverContext;
    private final SslContext clientContext;
    private final Loopback.Started plain;
    private final Loopback.Started tls;
    private final Object progress = new Object();
    private int clientsConnected;
    private int clientsFinished;
    private int serversAccepted;
    private int serversFinished;

    Swarm(int serverLoops, int clientLoops) throws Exception {
        serverGroup = EventLoopGroup.create(serverLoops);
        clientGroup = EventLoopGroup.create(clientLoops);
        serverContext = SslContext.server()
                .certificateChain(TestCertificates.serverCertificate(), TestCertificates.serverKey()).buildOrThrow();
        clientContext = SslContext.client().trustedCertificates(TestCertificates.caCertificate()).buildOrThrow();
        plain = Loopback.listen(serverGroup, socket -> accepted(new SwarmServer(this, false)));
        tls = Loopback.listenTls(serverGroup, serverContext, socket -> accepted(new SwarmServer(this, true)));
    }

    private SwarmServer accepted(SwarmServer server) {
        allServers.add(server);
        synchronized (progress) {
            serversAccepted++;
        }
        return server;
    }

    /**
     * Runs {@code connections} connections with seeds drawn from {@code seed}, at most
     * {@code concurrency} at once, {@code tlsPercent} of them over TLS, then waits (bounded) for
     * every client and server to finish. Violations are collected, not thrown.
     */
    Totals run(long seed, int connections, int concurrency, int tlsPercent) throws InterruptedException {
        SplittableRandom master = new SplittableRandom(seed);
        for (int i = 0; i < connections; i++) {
            long connectionSeed = master.nextLong();
            boolean overTls = master.nextInt(100) < tlsPercent;
            awaitBelow(concurrency);
            start(SwarmPlan.of(connectionSeed, overTls));
        }
        awaitAllFinished();
        return crossCheckAndForget();
    }

    /** Runs the one connection {@code connectionSeed} names (a replay of one swarm member). */
    Totals replay(long connectionSeed, boolean overTls) throws InterruptedException {
        start(SwarmPlan.of(connectionSeed, overTls));
        awaitAllFinished();
        return crossCheckAndForget();
    }

    private void start(SwarmPlan plan) {
        SwarmClient client = new SwarmClient(this, plan);
        synchronized (progress) {
            clients.add(client);
        }
        ClientOptions options = ClientOptions.DEFAULT.withIpVersion(IpVersion.IP4)
                .withReadBufferSize(ReadBufferSize.of(plan.clientReadBuffer()));
        if (plan.tls()) {
            TcpConnection.sslClient(Loopback.CONNECT, clientGroup.next(), "localhost", tls.address().getPort(),
                    clientContext, client, options);
        } else {
            TcpConnection.client(Loopback.CONNECT, clientGroup.next(), "127.0.0.1", plain.address().getPort(), client,
                    options);
        }
    }

    private void awaitBelow(int concurrency) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Loopback.WAIT_SECONDS * 4);
        synchronized (progress) {
            while (clients.size() - clientsFinished >= concurrency) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no swarm connection finished within " + Loopback.WAIT_SECONDS * 4
                            + " s\n" + stuck());
                }
                progress.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
            }
        }
    }

    private void awaitAllFinished() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Loopback.WAIT_SECONDS * 4);
        synchronized (progress) {
            // A plaintext client can be connected before its server side is accepted, so the
            // servers are counted only once every connected client has been accepted.
            while (clientsFinished < clients.size() || serversAccepted < clientsConnected
                    || serversFinished < serversAccepted) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("the swarm did not finish within " + Loopback.WAIT_SECONDS * 4 + " s\n"
                            + stuck());
                }
                progress.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
            }
        }
    }

    private String stuck() {
        StringBuilder out = new StringBuilder();
        synchronized (progress) {
            out.append("clients ").append(clientsFinished).append('/').append(clients.size()).append(" finished, servers ")
                    .append(serversFinished).append('/').append(serversAccepted).append(" (clients connected ")
                    .append(clientsConnected).append(")\n");
            clients.stream().filter(c -> !c.finished()).limit(10).forEach(c -> out.append(c).append('\n'));
        }
        synchronized (allServers) {
            allServers.stream().filter(s -> !s.finished()).limit(10).forEach(s -> out.append(s).append('\n'));
        }
        return out.toString();
    }

    /**
     * Compares each finished client with its server: what one side reports sent must have reached
     * the other (a send that failed part-way may have delivered some of its bytes too).
     *
     * @return the totals of the run
     */
    private Totals crossCheckAndForget() {
        Totals totals = crossCheck();
        synchronized (progress) {
            clients.clear();
            clientsConnected = clientsFinished = serversAccepted = serversFinished = 0;
        }
        allServers.clear();
        servers.clear();
        return totals;
    }

    private Totals crossCheck() {
        Totals totals = new Totals();
        int abortsOverTls = 0;
        synchronized (progress) {
            for (SwarmClient client : clients) {
                SwarmPlan plan = client.plan;
                totals.connections++;
                totals.clientSent += client.ledger.sentBytes;
                totals.echoed += client.received;
                if (plan.tls()) {
                    totals.tls++;
                }
                expect(client.ledger.settled(), client.describe() + ": tokens outstanding: " + client.ledger);
                SwarmServer server = servers.get(plan.seed());
                if (plan.ending() == SwarmPlan.Ending.CLIENT_ABORTS || plan.ending() == SwarmPlan.Ending.SERVER_ABORTS) {
                    abortsOverTls += plan.tls() && plan.ending() == SwarmPlan.Ending.CLIENT_ABORTS ? 1 : 0;
                    continue; // a reset discards what the kernels held: only conservation applies
                }
                if (server == null) {
                    violation(client.describe() + ": no server saw its preamble");
                    continue;
                }
                within(server.received, server.undeliveredAtMost(), client.ledger, client.describe() + ": server received");
                within(client.received, 0, server.ledger, client.describe() + ": client received");
                if (plan.ending() == SwarmPlan.Ending.ECHO_ALL || plan.ending() == SwarmPlan.Ending.CLIENT_CLOSES_EARLY) {
                    expect(client.ledger.failedCount == 0 && client.ledger.sentBytes == client.streamLength(),
                            client.describe() + ": the whole stream should be sent: " + client.ledger);
                }
                if (plan.ending() == SwarmPlan.Ending.ECHO_ALL) {
                    expect(client.received == client.streamLength() && server.ledger.failedCount == 0,
                            client.describe() + ": the whole stream should come back: received " + client.received
                                    + ", server " + server.ledger);
                }
            }
        }
        synchronized (allServers) {
            for (SwarmServer server : allServers) {
                expect(server.ledger.settled(), server.describe() + ": tokens outstanding: " + server.ledger);
                if (server.startFailed) {
                    totals.serverStartFailures++;
                }
            }
        }
        expect(totals.serverStartFailures <= abortsOverTls, totals.serverStartFailures
                + " TLS servers failed to start, more than the " + abortsOverTls + " TLS clients that aborted");
        return totals;
    }

    /**
     * Checks that {@code received} covers what {@code sender} reports sent, less at most
     * {@code held} bytes of an incomplete frame, and no more than it accepted.
     */
    private void within(long received, int held, TokenLedger sender, String what) {
        expect(received >= sender.sentBytes - held && received <= sender.sentBytes + sender.failedBytes,
                what + " " + received + " bytes (" + held + " may be held in a frame), but the peer reports " + sender);
    }

    /** What a run moved. */
    static final class Totals {
        int connections;
        int tls;
        long clientSent;
        long echoed;
        int serverStartFailures;

        void add(Totals other) {
            connections += other.connections;
            tls += other.tls;
            clientSent += other.clientSent;
            echoed += other.echoed;
            serverStartFailures += other.serverStartFailures;
        }

        @Override
        public String toString() {
            return connections + " connections (" + tls + " TLS), " + clientSent + " bytes sent, " + echoed
                    + " echoed back, " + serverStartFailures + " TLS servers saw their client abort the handshake";
        }
    }

    // ---------------------------------------------------------------- called by the receivers

    Queue<String> violations() {
        return violations;
    }

    void violation(String what) {
        violations.add(what);
    }

    void expect(boolean condition, String what) {
        if (!condition) {
            violations.add(what);
        }
    }

    void serverFor(long seed, SwarmServer server) {
        if (servers.putIfAbsent(seed, server) != null) {
            violation("two server connections read the preamble " + seed);
        }
    }

    void clientConnected() {
        synchronized (progress) {
            clientsConnected++;
        }
    }

    void clientFinished() {
        synchronized (progress) {
            clientsFinished++;
            progress.notifyAll();
        }
    }

    void serverFinished() {
        synchronized (progress) {
            serversFinished++;
            progress.notifyAll();
        }
    }

    /** {@return how many exceptions the loops of both groups caught (callbacks and the runtime's own)} */
    long loopFailures() throws Exception {
        return ConnectionFakes.callbackFailures(serverGroup) + ConnectionFakes.callbackFailures(clientGroup);
    }

    @Override
    public void close() {
        clientGroup.close();
        serverGroup.close();
        serverContext.close();
        clientContext.close();
    }
}
