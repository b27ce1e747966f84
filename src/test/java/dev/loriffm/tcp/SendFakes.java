package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Errno;
import dev.loriffm.internal.sys.Fds;
import dev.loriffm.loop.EventLoopGroup;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fake backends for the send-path tests (lori's {@code _FBSend*} fakes), named for what they
 * script, and a way to start a server connection on one. Nothing here opens a socket.
 */
final class SendFakes {
    private SendFakes() { }

    /**
     * Accepts one fake socket and receives nothing (EAGAIN); every write takes {@link #take} of
     * the bytes offered, and what was taken is recorded. By default it takes everything
     * (lori's {@code _FBSendOkRecvRetry}).
     */
    static class SendOkRecvRetryBackend extends FakeBackend {
        private final AtomicBoolean acceptedOne = new AtomicBoolean();
        private final ByteArrayOutputStream written = new ByteArrayOutputStream();
        /** Write calls made, including refused ones. */
        final AtomicInteger writeCalls = new AtomicInteger();
        volatile int acceptedFd = -1;

        /** {@return how many of {@code offered} bytes this write takes, or {@code -errno}} */
        long take(long offered) {
            return offered;
        }

        /** {@return everything written so far, as text} */
        String writtenText() {
            synchronized (written) {
                return written.toString(StandardCharsets.UTF_8);
            }
        }

        @Override
        public int accept(Reactor loop, int fd) {
            if (acceptedOne.compareAndSet(false, true)) {
                acceptedFd = newFd();
                return acceptedFd;
            }
            return -Errno.EAGAIN;
        }

        @Override
        public long send(Reactor loop, int fd, MemorySegment data) {
            writeCalls.incrementAndGet();
            long r = take(data.byteSize());
            if (r > 0) {
                record(data.asSlice(0, r));
            }
            return r;
        }

        @Override
        public long sendIovecs(Reactor loop, int fd, int count) {
            writeCalls.incrementAndGet();
            long offered = 0;
            for (int i = 0; i < count; i++) {
                offered += Fds.iovecLength(loop.scratch(), i);
            }
            long r = take(offered);
            // The iovecs point at native memory this fake cannot read back; record placeholders.
            for (long i = 0; i < r; i++) {
                record(MemorySegment.ofArray(new byte[] {'?'}));
            }
            return r;
        }

        private void record(MemorySegment bytes) {
            synchronized (written) {
                written.writeBytes(bytes.toArray(ValueLayout.JAVA_BYTE));
            }
        }
    }

    /** Every write fails with ECONNRESET (lori's {@code _FBSendErrorRecvRetry}). */
    static class SendErrorRecvRetryBackend extends SendOkRecvRetryBackend {
        @Override
        long take(long offered) {
            return -Errno.ECONNRESET;
        }
    }

    /**
     * The first write reports EAGAIN (the kernel buffer is full), later ones take everything
     * (lori's {@code _FBSendStepRecvRetryFailed}).
     */
    static class SendRetryThenOkBackend extends SendOkRecvRetryBackend {
        private final AtomicBoolean first = new AtomicBoolean(true);

        @Override
        long take(long offered) {
            return first.getAndSet(false) ? -Errno.EAGAIN : offered;
        }
    }

    /** Takes at most {@code limit} bytes per write, then reports EAGAIN until the next write event. */
    static class TrickleBackend extends SendOkRecvRetryBackend {
        private final long limit;
        private final AtomicBoolean full = new AtomicBoolean();

        TrickleBackend(long limit) {
            this.limit = limit;
        }

        /** The kernel drained: the next write takes {@code limit} bytes again. */
        void drained() {
            full.set(false);
        }

        @Override
        long take(long offered) {
            if (full.getAndSet(true)) {
                return -Errno.EAGAIN;
            }
            return Math.min(limit, offered);
        }
    }

    /**
     * Starts a fake listener on {@code backend}, accepts one fake socket and wraps it in a server
     * connection for {@code receiver}; {@return that connection}
     */
    static TcpConnection serve(EventLoopGroup group, SendOkRecvRetryBackend backend, ServerLifecycleReceiver receiver)
            throws Exception {
        CompletableFuture<Void> listening = new CompletableFuture<>();
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpListener.create(backend, Loopback.LISTEN, group, "", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(null);
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                listening.completeExceptionally(new AssertionError("fake listen failed: " + failure));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                TcpConnection c = TcpConnection.server(Loopback.SERVE, socket, receiver);
                accepted.complete(c);
                return c;
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        Loopback.await(listening); // listening accepts at once: the one fake socket is waiting
        return Loopback.await(accepted);
    }
}
