package dev.loriffm.internal.sys;

import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** errno travels from the C library through {@code captureCallState} into {@code -errno} results. */
@ExtendWith(FdLeakCheck.class)
class ErrnoCaptureTest {

    /** {@code close(-1)} sets EBADF, which {@code sys} reports as {@code -EBADF}. */
    @Test
    void closeOfAnInvalidFdReportsEbadf() {
        try (NativeScratch scratch = new NativeScratch()) {
            assertEquals(-Errno.EBADF, Fds.close(scratch, -1));
            assertEquals(Errno.EBADF, scratch.errno());
        }
    }

    /** errno is read from the capture segment of the call that failed, not left over from another. */
    @Test
    void eachCallCapturesItsOwnErrno() {
        try (NativeScratch scratch = new NativeScratch()) {
            assertEquals(-Errno.EBADF, Fds.close(scratch, -1));
            int epfd = SysException.check("epoll_create1", Epoll.create(scratch));
            // EPOLL_CTL_DEL of an fd never added fails with ENOENT, a different errno.
            int r = Epoll.ctl(scratch, epfd, Epoll.CTL_DEL, 0, 0, 0);
            assertEquals("ENOENT", Errno.name(-r));
            assertEquals(0, Fds.close(scratch, epfd));
        }
    }

    /** Names and messages come from the bindings and strerror. */
    @Test
    void errnoValuesHaveNamesAndMessages() {
        assertEquals("EBADF (Bad file descriptor)", Errno.describe(Errno.EBADF));
        assertEquals("ECONNREFUSED", Errno.name(Errno.ECONNREFUSED));
        assertEquals("EAGAIN", Errno.name(Errno.EAGAIN));
        assertEquals("errno 100000", Errno.name(100000));
    }

    /** Setup failures become exceptions naming the call and the errno. */
    @Test
    void checkThrowsANamedException() {
        SysException e = assertThrows(SysException.class, () -> SysException.check("close", -Errno.EBADF));
        assertEquals("close failed: EBADF (Bad file descriptor)", e.getMessage());
        assertEquals(Errno.EBADF, e.errno());
        assertEquals(7, SysException.check("read", 7));
    }

    /** The scratch is confined: another thread cannot use it (fails fast, no corruption). */
    @Test
    void scratchIsConfinedToItsThread() throws Exception {
        try (NativeScratch scratch = new NativeScratch()) {
            Throwable[] seen = new Throwable[1];
            Thread other = new Thread(() -> {
                try {
                    Fds.close(scratch, -1);
                } catch (Throwable t) {
                    seen[0] = t;
                }
            });
            other.start();
            other.join();
            assertTrue(seen[0] instanceof WrongThreadException, "got " + seen[0]);
        }
    }
}
