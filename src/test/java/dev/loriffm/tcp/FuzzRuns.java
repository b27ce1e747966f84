package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.tls.NativeSslContext;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the fuzz targets share: a server connection on a {@link FuzzSocket} with no listener
 * behind it, and the wait for one fuzz input's run on the loop. Each input's program runs as loop
 * tasks, so the connection sees its steps in one deterministic order.
 *
 * <p>Thread-safe (static helpers).
 */
final class FuzzRuns {
    /** Loop turns a drained connection may take to deliver what it holds before a target calls it stuck. */
    static final int SETTLE_TURNS = 10_000;

    private FuzzRuns() { }

    /** A server connection on {@code socket}, started on {@code loop}; plaintext if {@code tls} is null. */
    static TcpConnection server(FuzzSocket socket, Reactor loop, ServerLifecycleReceiver receiver,
                                ReadBufferSize size, NativeSslContext tls) {
        return TcpConnection.server(socket, Loopback.SERVE, new AcceptedSocket(socket.fd, loop, null), receiver, size,
                tls);
    }

    /**
     * Waits for one input's run and fails with everything the oracle saw if it found a violation or
     * did not finish within {@link Loopback#WAIT_SECONDS} (a connection that stops delivering).
     */
    static void await(CompletableFuture<?> done, List<String> violations, Object describe) throws Exception {
        try {
            done.get(Loopback.WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the run did not finish: " + describe + "; violations " + violations, e);
        } catch (ExecutionException e) {
            throw new AssertionError("the run failed: " + describe + "; violations " + violations, e.getCause());
        }
        if (!violations.isEmpty()) {
            throw new AssertionError(violations + " in " + describe);
        }
    }
}
