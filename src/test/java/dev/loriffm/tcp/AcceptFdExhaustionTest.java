package dev.loriffm.tcp;

import dev.loriffm.testing.Project;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * EMFILE on accept, for real: a child JVM runs {@link FdLimitedEchoServer} under
 * {@code ulimit -n} {@value #FD_LIMIT}, and this test connects more clients than it has
 * descriptors for. The kernel completes every connection into the listener's backlog; the child's
 * {@code accept} fails with EMFILE once its descriptors are gone. The listener must survive that
 * (no listener failure, no close, the child stays up, it logs the error and retries without
 * spinning: lori#206), and once the clients close, the connections it did accept close, the
 * descriptors come back, and it accepts every connection still queued and new ones, which it
 * serves. At exit the child has exactly the descriptors it had before its loop group existed.
 */
class AcceptFdExhaustionTest {
    private static final int FD_LIMIT = 64;
    /** More than FD_LIMIT: some must wait in the backlog while accept fails. */
    private static final int CLIENTS = 100;

    /** A child process's output lines, read on a background thread. */
    private static BlockingQueue<String> lines(InputStream stream, String name) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon(true).name(name).start(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(read failed: " + e + ")");
            }
        });
        return lines;
    }

    /** Takes lines until one contains {@code prefix}; {@return it} All lines seen go to {@code seen}. */
    private static String awaitLine(BlockingQueue<String> lines, String prefix, List<String> seen)
            throws InterruptedException {
        while (true) {
            String line = Loopback.poll(lines);
            seen.add(line);
            if (line.contains(prefix)) {
                return line;
            }
        }
    }

    private static long count(List<String> lines, String line) {
        return lines.stream().filter(line::equals).count();
    }

    /**
     * Packs the runtime and this package's test classes into jars in {@code dir}; {@return the
     * class path} The child must load classes from jars, as a deployed server does: a jar stays
     * open, while a class directory needs a free descriptor per class loaded, which a process out
     * of descriptors does not have.
     */
    private static String jars(Path dir) {
        Path root = Project.root();
        ToolProvider jar = ToolProvider.findFirst("jar").orElseThrow();
        Path lib = dir.resolve("lori-ffm.jar");
        Path tests = dir.resolve("tcp-tests.jar");
        assertEquals(0, jar.run(System.out, System.err, "--create", "--file", lib.toString(),
                "-C", root.resolve("target/classes").toString(), "."));
        assertEquals(0, jar.run(System.out, System.err, "--create", "--file", tests.toString(),
                "-C", root.resolve("target/test-classes").toString(), "dev/loriffm/tcp"));
        return lib + ":" + tests;
    }

    /** Where the child loads its classes from. */
    enum ClassPath { JARS, CLASS_DIRECTORIES }

    @ParameterizedTest
    @EnumSource(ClassPath.class)
    void listenerSurvivesEmfileAndAcceptsAgainWhenDescriptorsFreeUp(ClassPath from, @TempDir Path dir)
            throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path root = Project.root();
        String classpath = from == ClassPath.JARS ? jars(dir)
                : root.resolve("target/classes") + ":" + root.resolve("target/test-classes");
        List<String> command = List.of("bash", "-c", "ulimit -n " + FD_LIMIT + " && exec \"$@\"", "bash",
                java, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-cp", classpath, FdLimitedEchoServer.class.getName());
        Process child = new ProcessBuilder(command).start();
        List<String> out = new ArrayList<>();
        List<String> err = new ArrayList<>();
        BlockingQueue<String> stdout = lines(child.getInputStream(), "child-stdout");
        BlockingQueue<String> stderr = lines(child.getErrorStream(), "child-stderr");
        List<SocketChannel> clients = new ArrayList<>();
        try (OutputStream _ = child.getOutputStream()) { // closing it tells the child to exit
            String listening = awaitLine(stdout, "listening ", out);
            InetSocketAddress address = new InetSocketAddress("127.0.0.1",
                    Integer.parseInt(listening.substring("listening ".length())));

            for (int i = 0; i < CLIENTS; i++) {
                clients.add(SocketChannel.open(address)); // completes in the kernel's backlog
            }
            if (from == ClassPath.JARS) {
                String failure = awaitLine(stderr, "accept failed", err);
                assertTrue(failure.contains("EMFILE"), failure);
            } else {
                // Typically the warning itself fails to load a class; either way, accept failed.
                while (!awaitLine(stderr, "", err).matches(".*(accept failed|NoClassDefFoundError).*")) {
                    // other lines of the same report
                }
            }
            assertTrue(child.isAlive(), "the child survived EMFILE");

            for (SocketChannel client : clients) {
                client.close();
            }
            clients.clear();
            // Every connection is accepted in the end, even those queued while accept failed,
            // and each one closes (the clients are gone).
            while (count(out, "started") < CLIENTS || count(out, "closed") < CLIENTS) {
                out.add(Loopback.poll(stdout));
            }
            // And a new one is served.
            try (SocketChannel client = SocketChannel.open(address)) {
                client.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
                ByteBuffer reply = ByteBuffer.allocate(4);
                while (reply.hasRemaining() && client.read(reply) >= 0) {
                    // read the echo
                }
                assertEquals("ping", new String(reply.array(), StandardCharsets.US_ASCII));
            }
            while (count(out, "closed") < CLIENTS + 1) {
                out.add(Loopback.poll(stdout));
            }
        } finally {
            for (SocketChannel client : clients) {
                client.close();
            }
        }
        // stdin is closed: the child closes its group and exits.
        assertTrue(child.waitFor(Loopback.WAIT_SECONDS, TimeUnit.SECONDS), "the child exits when stdin closes");
        String fds = awaitLine(stdout, "fds ", out);
        assertEquals(0, child.exitValue(), () -> "child stdout " + out + "\nstderr " + err + stderr);
        List<String> serving = out.subList(0, out.indexOf("stopping"));
        assertTrue(serving.stream().noneMatch(l -> l.startsWith("listener") || l.startsWith("start failure")),
                () -> "nothing fatal while serving: " + out);
        String[] parts = fds.split(" ");
        assertEquals(parts[1], parts[2], "the child's descriptors before its group and after: " + fds);
        child.getInputStream().close();
        child.getErrorStream().close();
    }
}
