package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import dev.loriffm.testing.Project;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults loopback cannot show, made in a network namespace the test creates: a veth pair between
 * this namespace ({@value #HOST4}, {@value #HOST6}) and a private one ({@value #PEER4},
 * {@value #PEER6}) where {@code socat} echoes on port {@value #PORT}. Shown: a connect to an
 * address whose replies are dropped ends in the connection timeout; a stream stays intact over a
 * link that delays, drops and reorders packets ({@code tc netem}) and over a rate-limited link
 * that drops what overflows its queue ({@code tc tbf}) and over a link that nftables, in the peer's
 * namespace, makes drop, duplicate and reorder packets (for kernels without netem); and Happy
 * Eyeballs connects over IPv4 when the IPv6 path is a black hole.
 *
 * <p>Setup and teardown are the test's own: everything is removed in {@code @AfterAll} even when a
 * test fails, and the class is skipped, with the reason printed, where the namespace cannot be
 * created (no {@code CAP_NET_ADMIN}, no {@code ip}), {@code socat} is missing, or the addresses are
 * already in use. A test needing a qdisc the kernel lacks (netem is a module many kernels omit), or
 * {@code nft} where it is not installed or its rules cannot be added, is skipped likewise.
 */
@ExtendWith(FdLeakCheck.class)
class NetemFaultTest {
    private static final String HOST4 = "10.213.7.1";
    private static final String PEER4 = "10.213.7.2";
    /** A second peer address whose replies the namespace routes into a black hole. */
    private static final String BLACKHOLED4 = "10.213.7.3";
    private static final String HOST6 = "fd42:213:7::1";
    private static final String PEER6 = "fd42:213:7::2";
    private static final int PORT = 7000;
    private static final long PID = ProcessHandle.current().pid();
    private static final String NS = "lorifm-" + PID;
    private static final String HOST_IF = "lfh" + PID % 1_000_000;
    private static final String PEER_IF = "lfp" + PID % 1_000_000;
    private static final String HE_NAME = "lorifm-he-" + PID + ".test";
    private static final Path HOSTS = Path.of("/etc/hosts");

    private static boolean namespaceCreated;
    private static Process echo;
    private static byte[] originalHosts;
    private EventLoopGroup group;

    private static Project.Run run(String... command) throws IOException, InterruptedException {
        return Project.run(Path.of("/"), 30, List.of(command));
    }

    /** Runs a setup command; on failure, skips the class with the command's own words. */
    private static void setUp(String... command) throws IOException, InterruptedException {
        Project.Run r = run(command);
        if (r.exitCode() != 0) {
            skip(String.join(" ", command) + " failed (" + r.exitCode() + "): " + r.output().strip());
        }
    }

    /** {@return whether {@code command} runs and exits with 0} (false also when it is not installed) */
    private static boolean works(String... command) throws InterruptedException {
        try {
            return run(command).exitCode() == 0;
        } catch (IOException notInstalled) {
            return false;
        }
    }

    private static void skip(String reason) {
        System.out.println("NetemFaultTest skipped: " + reason);
        Assumptions.abort(reason);
    }

    private static void inNs(String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", NS));
        full.addAll(Arrays.asList(command));
        setUp(full.toArray(String[]::new));
    }

    @BeforeAll
    static void createNamespace() throws Exception {
        JdkPeer.warmUp();
        Project.Run addresses = run("ip", "-o", "addr");
        if (addresses.exitCode() != 0) {
            skip("'ip' does not work here: " + addresses.output().strip());
        }
        if (addresses.output().contains("10.213.7.") || addresses.output().contains("fd42:213:7:")) {
            skip("10.213.7.0/29 or fd42:213:7::/64 is already in use on this machine");
        }
        if (!works("socat", "-V")) {
            skip("socat is not installed");
        }
        setUp("ip", "netns", "add", NS);
        namespaceCreated = true;
        setUp("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", PEER_IF);
        setUp("ip", "link", "set", PEER_IF, "netns", NS);
        setUp("ip", "addr", "add", HOST4 + "/29", "dev", HOST_IF);
        setUp("ip", "-6", "addr", "add", HOST6 + "/64", "dev", HOST_IF, "nodad");
        setUp("ip", "link", "set", HOST_IF, "up");
        inNs("ip", "link", "set", "lo", "up");
        inNs("ip", "addr", "add", PEER4 + "/29", "dev", PEER_IF);
        inNs("ip", "addr", "add", BLACKHOLED4 + "/29", "dev", PEER_IF);
        inNs("ip", "-6", "addr", "add", PEER6 + "/64", "dev", PEER_IF, "nodad");
        inNs("ip", "link", "set", PEER_IF, "up");
        // Replies from BLACKHOLED4 go nowhere: a SYN to it is never answered, not even refused.
        inNs("ip", "rule", "add", "from", BLACKHOLED4, "table", "213");
        inNs("ip", "route", "add", "blackhole", "default", "table", "213");
        // The IPv6 path is a black hole: nothing the peer sends back to us over IPv6 leaves.
        inNs("ip", "-6", "route", "add", "blackhole", HOST6 + "/128");
        // -b 4096: socat echoes through one pipe, and a write of more than a page into a pipe that
        // poll() reported writable can block; socat, single-threaded, then never drains the pipe
        // again. Losses make that happen (its TCP writes stall while reads go on): with the default
        // 8192 the echo hung for good. A write of at most a page always fits in the free slot.
        echo = new ProcessBuilder("ip", "netns", "exec", NS, "socat", "-b", "4096",
                "TCP6-LISTEN:" + PORT + ",ipv6only=0,fork,reuseaddr", "PIPE")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        awaitEchoListening();
    }

    /** Polls, with a bound, until the echo server accepts a connection over IPv4. */
    private static void awaitEchoListening() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Loopback.WAIT_SECONDS);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(PEER4, PORT), 1000);
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline || !echo.isAlive()) {
                    throw new AssertionError("socat in " + NS + " did not start listening", notYet);
                }
                Thread.sleep(20); // polling a condition with a bound
            }
        }
    }

    @AfterAll
    static void removeNamespace() throws Exception {
        restoreHosts();
        if (!namespaceCreated) {
            return;
        }
        // Only processes this test started inside its own namespace (socat and its forks), by pid.
        Project.Run pids = run("ip", "netns", "pids", NS);
        for (String pid : pids.output().strip().split("\\s+")) {
            if (!pid.isEmpty()) {
                ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        if (echo != null) {
            echo.destroyForcibly();
            echo.waitFor(Loopback.WAIT_SECONDS, TimeUnit.SECONDS);
        }
        run("ip", "link", "del", HOST_IF); // also removes its peer in the namespace
        Project.Run deleted = run("ip", "netns", "del", NS);
        assertEquals(0, deleted.exitCode(), "namespace removed: " + deleted.output());
        assertTrue(!run("ip", "netns", "list").output().contains(NS), "no namespace of ours is left");
    }

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /**
     * A connect to an address that never answers (its replies are routed into a black hole, so
     * not even a RST comes back) ends in the connection timeout, with the attempt's socket closed.
     */
    @Test
    void connectToABlackholedAddressEndsInTheConnectionTimeout() throws Exception {
        Recorder client = new Recorder();
        TcpConnection.client(Loopback.CONNECT, group.next(), BLACKHOLED4, PORT, client,
                ClientOptions.DEFAULT.withConnectionTimeout(new ConnectionTimeout(500)));
        assertEquals("connecting 1", client.next());
        String failure = client.next();
        assertTrue(failure.startsWith("failure " + ConnectionFailure.TIMEOUT), failure);
    }

    /**
     * Sends {@code payload} to the echo server over {@code host} and {@return what came back}, once
     * every send has been reported sent, in the order the sends were made.
     */
    private byte[] echo(String host, byte[] payload) throws Exception {
        CompletableFuture<byte[]> echoed = new CompletableFuture<>();
        TcpConnection.client(Loopback.CONNECT, group.next(), host, PORT, new ClientLifecycleReceiver() {
            private final byte[] received = new byte[payload.length];
            private final List<SendToken> issued = new ArrayList<>();
            private final List<SendToken> completed = new ArrayList<>();
            private int offset;
            private int sent;

            @Override
            public void onConnected(TcpConnection c) {
                pump(c);
            }

            @Override
            public void onUnthrottled(TcpConnection c) {
                pump(c);
            }

            private void pump(TcpConnection c) {
                while (sent < payload.length) {
                    int n = Math.min(64 * 1024, payload.length - sent);
                    if (!(c.send(Arrays.copyOfRange(payload, sent, sent + n)) instanceof SendToken token)) {
                        return;
                    }
                    issued.add(token);
                    sent += n;
                }
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                completed.add(token);
                finishIfDone(c);
            }

            @Override
            public void onSendFailed(TcpConnection c, SendToken token) {
                echoed.completeExceptionally(new AssertionError("send " + token + " failed"));
            }

            private void finishIfDone(TcpConnection c) {
                if (offset == payload.length && sent == payload.length && completed.size() == issued.size()) {
                    if (completed.equals(issued)) {
                        echoed.complete(received);
                    } else {
                        echoed.completeExceptionally(new AssertionError("sends completed out of order"));
                    }
                    c.close();
                }
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                int n = (int) Math.min(data.byteSize(), payload.length - offset);
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, received, offset, n);
                offset += n;
                finishIfDone(c);
            }

            @Override
            public void onClosed(TcpConnection c) {
                echoed.completeExceptionally(new AssertionError("closed after " + offset + " bytes, "
                        + completed.size() + " of " + issued.size() + " sends completed"));
            }

            @Override
            public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                echoed.completeExceptionally(new AssertionError("failed: " + reason + " " + c.failureDetail()));
            }
        });
        return echoed.get(Loopback.WAIT_SECONDS, TimeUnit.SECONDS);
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new Random(n).nextBytes(bytes);
        return bytes;
    }

    /** Installs {@code qdisc} on both ends of the link, runs {@code body}, and removes it again. */
    private static void withQdisc(List<String> qdisc, ThrowingRunnable body) throws Exception {
        List<String> host = new ArrayList<>(List.of("tc", "qdisc", "add", "dev", HOST_IF, "root"));
        host.addAll(qdisc);
        Project.Run r = run(host.toArray(String[]::new));
        Assumptions.assumeTrue(r.exitCode() == 0, () -> {
            String reason = String.join(" ", host) + " failed: " + r.output().strip();
            System.out.println("NetemFaultTest: skipped, " + reason);
            return reason;
        });
        try {
            List<String> peer = new ArrayList<>(List.of("ip", "netns", "exec", NS, "tc", "qdisc", "add", "dev",
                    PEER_IF, "root"));
            peer.addAll(qdisc);
            Project.Run p = run(peer.toArray(String[]::new));
            assertEquals(0, p.exitCode(), p.output());
            body.run();
        } finally {
            run("tc", "qdisc", "del", "dev", HOST_IF, "root");
            run("ip", "netns", "exec", NS, "tc", "qdisc", "del", "dev", PEER_IF, "root");
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** 1 MiB echoed intact over a link that delays (20 ± 10 ms), drops 5 % and reorders 25 % of packets, both ways. */
    @Test
    void echoStaysIntactOverADelayingLossyReorderingLink() throws Exception {
        byte[] payload = randomBytes(1 << 20);
        withQdisc(List.of("netem", "delay", "20ms", "10ms", "loss", "5%", "reorder", "25%"),
                () -> assertArrayEquals(payload, echo(PEER4, payload)));
    }

    /**
     * 2 MiB echoed intact over a 40 Mbit/s link whose small queue drops what overflows it, so TCP
     * keeps losing and retransmitting segments (runs where netem does not exist).
     */
    @Test
    void echoStaysIntactOverARateLimitedLinkThatDropsItsOverflow() throws Exception {
        byte[] payload = randomBytes(2 << 20);
        withQdisc(List.of("tbf", "rate", "40mbit", "burst", "16kb", "latency", "5ms"), () -> {
            assertArrayEquals(payload, echo(PEER4, payload));
            long dropped = droppedBy(run("tc", "-s", "qdisc", "show", "dev", HOST_IF).output())
                    + droppedBy(run("ip", "netns", "exec", NS, "tc", "-s", "qdisc", "show", "dev", PEER_IF).output());
            assertTrue(dropped > 0, "the link dropped packets, so TCP had to retransmit");
        });
    }

    /** {@return the packets a qdisc reports dropped, from {@code tc -s qdisc show} output} */
    private static long droppedBy(String stats) {
        Matcher m = Pattern.compile("dropped (\\d+)").matcher(stats);
        long dropped = 0;
        while (m.find()) {
            dropped += Long.parseLong(m.group(1));
        }
        return dropped;
    }

    /**
     * 4 MiB echoed intact and in order, with every send reported sent, over a link that nftables in
     * the peer's namespace makes lossy, duplicating and reordering, with what a kernel without netem
     * has: 5 % of the TCP packets we send to the peer are dropped as they arrive; of those the peer
     * sends us, 3 % are sent twice, 5 % are lost on their way out and 5 % take a slow path (an HTB
     * class limited to 4 Mbit/s) while the rest pass them. Each of those rules, and the slow path,
     * is shown to have acted on packets of this echo.
     */
    @Test
    void echoStaysIntactOverALinkThatNftablesMakesDropDuplicateAndReorderPackets() throws Exception {
        byte[] payload = randomBytes(4 << 20);
        withNftablesFaults(() -> {
            assertArrayEquals(payload, echo(PEER4, payload));
            Map<String, Long> counted = nftCounters();
            for (String counter : List.of("lost_to_peer", "lost_from_peer", "duplicated", "slowed")) {
                assertTrue(counted.getOrDefault(counter, 0L) > 0, "the rule counting " + counter
                        + " acted on this echo's packets: " + counted);
            }
            String slowPath = run("ip", "netns", "exec", NS, "tc", "-s", "class", "show", "dev", PEER_IF,
                    "classid", "1:20").output();
            Matcher m = Pattern.compile("Sent \\d+ bytes (\\d+) pkt \\(dropped \\d+, overlimits (\\d+)")
                    .matcher(slowPath);
            assertTrue(m.find(), slowPath);
            System.out.println("NetemFaultTest: nftables counted " + counted + "; the slow path sent "
                    + m.group(1) + " packets and went over its rate " + m.group(2) + " times");
            assertTrue(Long.parseLong(m.group(1)) > 0, "packets went through the slow path: " + slowPath);
            // Over its rate, the class held packets back while those behind them went out unshaped.
            assertTrue(Long.parseLong(m.group(2)) > 0, "the slow path held packets back: " + slowPath);
        });
    }

    /**
     * Sets up the faults of the nftables test on the peer's end of the link, runs {@code body}, and
     * removes them again, also when {@code body} fails. Both ends send one TCP segment per packet
     * (gso_max_segs 1) so that a rule acts on one segment, not on a 64 KiB burst a veth passes whole.
     * The loss of what the peer sends is made by forwarding it to the namespace's loopback, whose
     * stack discards a frame addressed to another host: to the peer's TCP the packet left, as on a
     * real link (a drop verdict on output or egress would instead tell it the send failed).
     */
    private static void withNftablesFaults(ThrowingRunnable body) throws Exception {
        if (!works("nft", "--version")) {
            skip("nft is not installed (Debian package nftables)");
        }
        int hostSegs = gsoMaxSegs(run("ip", "-d", "link", "show", "dev", HOST_IF).output());
        int peerSegs = gsoMaxSegs(run("ip", "netns", "exec", NS, "ip", "-d", "link", "show", "dev", PEER_IF).output());
        try {
            setUp("ip", "link", "set", "dev", HOST_IF, "gso_max_segs", "1");
            inNs("ip", "link", "set", "dev", PEER_IF, "gso_max_segs", "1");
            inNs("nft", """
                    table netdev lossy {
                        counter lost_to_peer { }
                        counter lost_from_peer { }
                        counter duplicated { }
                        counter slowed { }
                        chain to_peer {
                            type filter hook ingress device "%1$s" priority 0;
                            meta l4proto tcp numgen random mod 100 < 5 counter name "lost_to_peer" drop
                        }
                        chain from_peer {
                            type filter hook egress device "%1$s" priority 0;
                            meta l4proto tcp numgen random mod 100 < 3 counter name "duplicated" dup to "%1$s"
                            meta l4proto tcp numgen random mod 100 < 5 counter name "slowed" meta priority set 1:20
                            meta l4proto tcp numgen random mod 100 < 5 counter name "lost_from_peer" fwd to "lo"
                        }
                    }
                    """.formatted(PEER_IF));
            // The slow path: packets whose priority names class 1:20 wait for its 4 Mbit/s; all
            // others (no default class) pass the qdisc directly.
            inNs("tc", "qdisc", "add", "dev", PEER_IF, "root", "handle", "1:", "htb");
            inNs("tc", "class", "add", "dev", PEER_IF, "parent", "1:", "classid", "1:20", "htb",
                    "rate", "4mbit", "burst", "1600", "cburst", "1600", "quantum", "1514");
            body.run();
        } finally {
            run("ip", "netns", "exec", NS, "nft", "delete", "table", "netdev", "lossy");
            run("ip", "netns", "exec", NS, "tc", "qdisc", "del", "dev", PEER_IF, "root");
            run("ip", "link", "set", "dev", HOST_IF, "gso_max_segs", Integer.toString(hostSegs));
            run("ip", "netns", "exec", NS, "ip", "link", "set", "dev", PEER_IF, "gso_max_segs",
                    Integer.toString(peerSegs));
        }
    }

    /** {@return a link's gso_max_segs, from {@code ip -d link show} output} */
    private static int gsoMaxSegs(String link) {
        Matcher m = Pattern.compile("gso_max_segs (\\d+)").matcher(link);
        assertTrue(m.find(), link);
        return Integer.parseInt(m.group(1));
    }

    /** {@return the packet counts of the named counters of the nftables test's table} */
    private static Map<String, Long> nftCounters() throws Exception {
        Project.Run listed = run("ip", "netns", "exec", NS, "nft", "list", "counters", "table", "netdev", "lossy");
        assertEquals(0, listed.exitCode(), listed.output());
        Matcher m = Pattern.compile("counter (\\w+) \\{\\s*packets (\\d+)").matcher(listed.output());
        Map<String, Long> counted = new HashMap<>();
        while (m.find()) {
            counted.put(m.group(1), Long.parseLong(m.group(2)));
        }
        return counted;
    }

    /**
     * Happy Eyeballs with a black-holed IPv6 path: a name with both an IPv6 and an IPv4 address
     * (an entry this test adds to /etc/hosts and removes, restoring the file byte for byte) gets
     * two attempts, and the connection is made over IPv4 and carries data, while over IPv6 alone
     * it times out.
     */
    @Test
    void happyEyeballsConnectsOverIpv4WhenIpv6IsBlackholed() throws Exception {
        originalHosts = Files.readAllBytes(HOSTS);
        try {
            String entries = (originalHosts.length > 0 && originalHosts[originalHosts.length - 1] != '\n' ? "\n" : "")
                    + PEER6 + " " + HE_NAME + "\n" + PEER4 + " " + HE_NAME + "\n";
            Files.write(HOSTS, concat(originalHosts, entries.getBytes()));
            Recorder client = new Recorder() {
                @Override
                public void onConnected(TcpConnection c) {
                    record("connected to " + c.remoteAddress().getAddress().getHostAddress());
                    c.send("over v4");
                }
            };
            TcpConnection.client(Loopback.CONNECT, group.next(), HE_NAME, PORT, client);
            assertEquals("connecting 2", client.next(), "one attempt per address family");
            assertEquals("connected to " + PEER4, client.next());
            assertEquals(List.of("sent 1"), client.until("received over v4"));
            // The IPv6 path really is a black hole: over IPv6 alone the same name never connects.
            Recorder v6 = new Recorder();
            TcpConnection.client(Loopback.CONNECT, group.next(), HE_NAME, PORT, v6, ClientOptions.DEFAULT
                    .withIpVersion(IpVersion.IP6).withConnectionTimeout(new ConnectionTimeout(500)));
            assertEquals("connecting 1", v6.next());
            String failure = v6.next();
            assertTrue(failure.startsWith("failure " + ConnectionFailure.TIMEOUT), failure);
        } finally {
            restoreHosts();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static void restoreHosts() throws IOException {
        if (originalHosts != null) {
            Files.write(HOSTS, originalHosts);
            assertArrayEquals(originalHosts, Files.readAllBytes(HOSTS), "/etc/hosts restored exactly");
            originalHosts = null;
        }
    }
}
