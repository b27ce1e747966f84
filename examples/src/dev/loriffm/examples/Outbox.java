package dev.loriffm.examples;

import dev.loriffm.tcp.SendError;
import dev.loriffm.tcp.SendToken;
import dev.loriffm.tcp.TcpConnection;

import java.util.ArrayDeque;
import java.util.List;

/**
 * Sends in order and holds what {@link TcpConnection#send} refuses with
 * {@link SendError#NOT_WRITEABLE} until the connection's {@code onUnthrottled} calls {@link #flush}.
 * The held buffers must not change until they are sent. Loop-confined: not thread-safe.
 */
final class Outbox {
    private final ArrayDeque<List<?>> held = new ArrayDeque<>();
    private long refusals;

    /**
     * Sends {@code buffers} as one send (one token), after anything held.
     *
     * @return whether everything, this included, has been accepted
     */
    boolean send(TcpConnection connection, List<?> buffers) {
        held.addLast(buffers);
        return flush(connection);
    }

    /**
     * Sends what is held, oldest first, until the connection refuses; call it from
     * {@code onUnthrottled}.
     *
     * @return whether nothing is held any more (a closed connection drops what was held)
     */
    boolean flush(TcpConnection connection) {
        while (!held.isEmpty()) {
            switch (connection.send(held.peekFirst())) {
                case SendToken accepted -> held.removeFirst();
                case SendError.NOT_WRITEABLE -> {
                    refusals++;
                    return false;
                }
                case SendError.NOT_CONNECTED -> held.clear();
            }
        }
        return true;
    }

    /** {@return how many times send() refused with NOT_WRITEABLE} */
    long refusals() {
        return refusals;
    }
}
