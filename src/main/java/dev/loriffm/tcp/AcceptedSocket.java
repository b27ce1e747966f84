package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoop;

/**
 * A socket a {@link TcpListener} accepted, handed to {@link ListenerReceiver#onAccept}. It is owned
 * exactly once: either a {@link TcpConnection#server} takes it, or the listener closes it when
 * {@code onAccept} returns without doing so.
 *
 * <p>Loop-confined: use it inside {@code onAccept} only.
 */
public final class AcceptedSocket {
    private final int fd;
    private final EventLoop loop;
    private final TcpListener listener;
    private boolean claimed;

    AcceptedSocket(int fd, EventLoop loop, TcpListener listener) {
        this.fd = fd;
        this.loop = loop;
        this.listener = listener;
    }

    /** {@return the accepted file descriptor (for logging; the connection owns it)} */
    public int fd() {
        return fd;
    }

    /** {@return the loop the connection will run on (the listener spreads connections round-robin)} */
    public EventLoop loop() {
        return loop;
    }

    /** {@return the listener that accepted it} */
    public TcpListener listener() {
        return listener;
    }

    boolean isClaimed() {
        return claimed;
    }

    /** Takes ownership of the fd; fails if a connection already did. */
    int claim() {
        if (claimed) {
            throw new IllegalStateException("this accepted socket already belongs to a connection");
        }
        claimed = true;
        return fd;
    }
}
