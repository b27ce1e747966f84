package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The zero-copy receive contract of {@code onReceived} ({@link LifecycleReceiver#onReceived}):
 * the segment is a read-only view of the connection's native read buffer holding exactly the
 * message, valid until the callback returns (even if the callback closes the connection); after a
 * hard close frees the buffer, a slice kept past its callback throws
 * {@link IllegalStateException}; a copy made in the callback keeps its bytes.
 */
@ExtendWith(FdLeakCheck.class)
class ReceiveBufferTest {
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** {@return what touching {@code data} does: its text, or the exception's simple class name} */
    static String access(MemorySegment data) {
        try {
            return Loopback.text(data);
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName();
        }
    }

    /** A server that frames at {@code frame} bytes and hands each message to {@link #received}. */
    abstract static class FramedServer extends Recorder {
        private final int frame;

        FramedServer(int frame) {
            this.frame = frame;
        }

        @Override
        public void onStarted(TcpConnection c) {
            c.bufferUntil(BufferSize.of(frame));
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            received(c, data);
        }

        abstract void received(TcpConnection c, MemorySegment data);

        @Override
        public void onSent(TcpConnection c, SendToken token) {
            // Replies are not part of these checks.
        }
    }

    private Recorder clientSending(String... messages) {
        return new Recorder() {
            private int next;

            @Override
            public void onConnected(TcpConnection c) {
                c.send(messages[next++]);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                // The server asks for the next message, so each one arrives in its own read.
                if (next < messages.length) {
                    c.send(messages[next++]);
                }
            }
        };
    }

    private void connect(Loopback.Started server, Recorder client) {
        TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(), client);
    }

    /** The data is a read-only native view of exactly the message; writing to it is refused. */
    @Test
    void receivedDataIsAReadOnlyNativeViewOfExactlyTheMessage() throws Exception {
        FramedServer server = new FramedServer(11) {
            @Override
            void received(TcpConnection c, MemorySegment data) {
                record("size " + data.byteSize() + ", read-only " + data.isReadOnly() + ", native "
                        + data.isNative() + ", text " + Loopback.text(data));
                try {
                    data.set(ValueLayout.JAVA_BYTE, 0, (byte) 'J');
                    record("write allowed");
                } catch (IllegalArgumentException refused) {
                    record("write refused");
                }
                record("buffer view read-only " + data.asByteBuffer().isReadOnly());
                record("after the refused write: " + Loopback.text(data));
            }
        };
        Loopback.Started listener = Loopback.listen(group, socket -> server);
        connect(listener, clientSending("hello world"));
        assertEquals(List.of("size 11, read-only true, native true, text hello world", "write refused",
                "buffer view read-only true", "after the refused write: hello world"),
                List.of(server.next(), server.next(), server.next(), server.next()));
    }

    /**
     * A hard close inside {@code onReceived} leaves the data readable until the callback returns
     * (also from {@code onClosed}, which runs inside it); afterwards the freed slice throws
     * {@link IllegalStateException} instead of showing stale or foreign bytes.
     */
    @Test
    void sliceKeptPastAHardCloseInItsCallbackThrowsIllegalStateException() throws Exception {
        FramedServer server = new FramedServer(5) {
            private MemorySegment kept;

            @Override
            void received(TcpConnection c, MemorySegment data) {
                kept = data;
                c.hardClose();
                record("after hardClose, in the callback: " + access(data));
                c.execute(() -> record("after the callback: " + access(kept)));
            }

            @Override
            public void onClosed(TcpConnection c) {
                record("in onClosed: " + access(kept));
            }
        };
        Loopback.Started listener = Loopback.listen(group, socket -> server);
        connect(listener, clientSending("hello"));
        assertEquals(List.of("in onClosed: hello", "after hardClose, in the callback: hello",
                "after the callback: IllegalStateException"), List.of(server.next(), server.next(), server.next()));
    }

    /**
     * A slice kept from an earlier callback throws {@link IllegalStateException} once a later hard
     * close frees the buffer; a copy made in the callback (either documented way) keeps its bytes
     * through later reads and the close.
     */
    @Test
    void copiesOutliveTheBufferAndAKeptSliceThrowsAfterHardClose() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            FramedServer server = new FramedServer(4) {
                private MemorySegment kept;
                private byte[] copied;
                private MemorySegment nativeCopy;

                @Override
                void received(TcpConnection c, MemorySegment data) {
                    if (kept == null) {
                        kept = data;
                        copied = data.toArray(ValueLayout.JAVA_BYTE);
                        nativeCopy = arena.allocate(data.byteSize()).copyFrom(data);
                        c.send("next");
                        return;
                    }
                    record("second message " + Loopback.text(data));
                    c.hardClose();
                    c.execute(() -> {
                        record("kept slice: " + access(kept));
                        record("copies: " + new String(copied) + " " + Loopback.text(nativeCopy));
                    });
                }
            };
            Loopback.Started listener = Loopback.listen(group, socket -> server);
            connect(listener, clientSending("AAAA", "BBBB"));
            assertEquals(List.of("second message BBBB", "closed", "kept slice: IllegalStateException",
                    "copies: AAAA AAAA"), List.of(server.next(), server.next(), server.next(), server.next()));
        }
    }
}
