package dev.loriffm.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fails a test that leaves more file descriptors open than it found, listing what leaked.
 * Use with {@code @ExtendWith(FdLeakCheck.class)}; test methods must not run concurrently.
 */
public final class FdLeakCheck implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(FdLeakCheck.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put("fds", openFds());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        @SuppressWarnings("unchecked")
        Set<String> before = (Set<String>) context.getStore(NS).get("fds", Set.class);
        Set<String> leaked = new TreeSet<>(openFds());
        leaked.removeAll(before);
        if (!leaked.isEmpty()) {
            fail("file descriptors leaked: " + leaked + describeSockets(leaked));
        }
    }

    /** For leaked sockets, the matching /proc/net/tcp{,6} rows (addresses, state), to say what leaked. */
    private static String describeSockets(Set<String> leaked) {
        StringBuilder out = new StringBuilder();
        for (String fd : leaked) {
            int open = fd.indexOf("socket:[");
            if (open < 0) {
                continue;
            }
            String inode = fd.substring(open + 8, fd.length() - 1);
            for (String table : new String[] {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
                try {
                    for (String row : Files.readAllLines(Path.of(table))) {
                        String[] cols = row.trim().split("\\s+");
                        if (cols.length > 9 && cols[9].equals(inode)) {
                            out.append("\n  ").append(table).append(": local ").append(cols[1])
                                    .append(" remote ").append(cols[2]).append(" state ").append(cols[3]);
                        }
                    }
                } catch (IOException e) {
                    out.append("\n  (").append(table).append(" unreadable)");
                }
            }
        }
        return out.toString();
    }

    /** {@return every open fd of this process as "N -> target"} */
    public static Set<String> openFds() {
        Set<String> fds = new TreeSet<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
            for (Path entry : entries.toList()) {
                try {
                    fds.add(entry.getFileName() + " -> " + Files.readSymbolicLink(entry));
                } catch (IOException gone) {
                    // The fd that listed the directory closes while we read it; it is not a leak.
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return fds;
    }
}
