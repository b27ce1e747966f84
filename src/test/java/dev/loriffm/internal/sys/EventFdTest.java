package dev.loriffm.internal.sys;

import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** eventfd and timerfd wake epoll; the packed epoll_event carries the full 64-bit data. */
@ExtendWith(FdLeakCheck.class)
class EventFdTest {

    /** A signal from another thread wakes an epoll_wait that would otherwise block for a long time. */
    @Test
    void eventFdSignalFromAnotherThreadWakesEpoll() throws Exception {
        try (NativeScratch scratch = new NativeScratch()) {
            int epfd = SysException.check("epoll_create1", Epoll.create(scratch));
            int efd = SysException.check("eventfd", EventFd.create(scratch));
            try {
                long data = 0x1234_5678_9ABC_DEF0L; // exercises all 64 bits of the unaligned data field
                SysException.check("epoll_ctl", Epoll.ctl(scratch, epfd, Epoll.CTL_ADD, efd, Epoll.EPOLLIN, data));
                assertEquals(-Errno.EAGAIN, EventFd.drain(scratch, efd), "no signal yet");
                Thread signaller = new Thread(() -> {
                    try (NativeScratch own = new NativeScratch()) {
                        SysException.check("eventfd write", EventFd.signal(own, efd));
                    }
                });
                signaller.start();
                MemorySegment events = Epoll.allocateEvents(scratch, 4);
                int n;
                do {
                    n = Epoll.await(scratch, epfd, events, 60_000);
                } while (n == -Errno.EINTR);
                signaller.join();
                assertEquals(1, n);
                assertEquals(data, Epoll.eventData(events, 0));
                assertEquals(Epoll.EPOLLIN, Epoll.eventMask(events, 0) & Epoll.EPOLLIN);
                assertEquals(1, EventFd.drain(scratch, efd));
                assertEquals(-Errno.EAGAIN, EventFd.drain(scratch, efd), "drained");
            } finally {
                assertEquals(0, Fds.close(scratch, efd));
                assertEquals(0, Fds.close(scratch, epfd));
            }
        }
    }

    /** A one-shot timerfd becomes readable and reports one expiry. */
    @Test
    void timerFdExpiresOnce() {
        try (NativeScratch scratch = new NativeScratch()) {
            int epfd = SysException.check("epoll_create1", Epoll.create(scratch));
            int tfd = SysException.check("timerfd_create", TimerFd.create(scratch));
            try {
                SysException.check("epoll_ctl", Epoll.ctl(scratch, epfd, Epoll.CTL_ADD, tfd, Epoll.EPOLLIN, 7));
                SysException.check("timerfd_settime", TimerFd.set(scratch, tfd, 1_000_000, 0));
                MemorySegment events = Epoll.allocateEvents(scratch, 4);
                int n;
                do {
                    n = Epoll.await(scratch, epfd, events, 60_000);
                } while (n == -Errno.EINTR);
                assertEquals(1, n);
                assertEquals(7, Epoll.eventData(events, 0));
                assertEquals(1, TimerFd.drain(scratch, tfd));
            } finally {
                assertEquals(0, Fds.close(scratch, tfd));
                assertEquals(0, Fds.close(scratch, epfd));
            }
        }
    }
}
