package dev.loriffm.internal.sys;

import java.io.Serial;

/**
 * A system call failed where no failure was expected (setup, or an invariant broken), named by the
 * call and its errno: {@code epoll_create1 failed: EMFILE (Too many open files)}.
 *
 * <p>Expected outcomes (EAGAIN, ECONNREFUSED, ...) are never thrown: {@code sys} calls return them
 * as {@code -errno}. Immutable, so thread-safe.
 */
public final class SysException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    /**
     * @param call  the failing call, e.g. {@code "epoll_create1"}
     * @param errno the positive errno value
     */
    public SysException(String call, int errno) {
        super(call + " failed: " + Errno.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    /** {@return the name of the failing call} */
    public String call() {
        return call;
    }

    /** {@return the positive errno value} */
    public int errno() {
        return errno;
    }

    /**
     * {@return {@code result} if it is not negative}
     *
     * @throws SysException if {@code result} is {@code -errno}
     */
    public static int check(String call, int result) {
        if (result < 0) {
            throw new SysException(call, -result);
        }
        return result;
    }
}
