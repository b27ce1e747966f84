package dev.loriffm.tcp;

import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The send path under kernel backpressure over TLS: the TLS tests of lori's
 * {@code _test_send.pony}. A JDK socket cannot speak TLS, so both ends are ours: the sender is our
 * TLS server (with lori's 16 KiB {@code SO_SNDBUF}), and the reader is our TLS client, muted until
 * the test (or the sender) lets it read, so the sender's socket fills. The client checks and
 * counts every decrypted byte; that count is the oracle for what the sender really delivered. A
 * TLS send's token completes when its last ciphertext byte is written, so a token reported sent
 * must have all of its plaintext decryptable by the peer, even after a hard close.
 *
 * <p>Adaptations. As in the plaintext port, {@code onUnthrottled} comes only once the queue is
 * empty, so at most one send is ever partly queued (lori also queues a second 256 KB send from
 * {@code _on_unthrottled} while the first is pending); the sender floods 256 KB sends until
 * {@code send} refuses with NOT_WRITEABLE instead, which proves the last one is still queued. The
 * reader keeps its default receive buffer (lori shrinks it to 4 KiB once connected): on Linux a
 * receive buffer shrunk after the handshake, below the window already advertised, makes the drain
 * crawl on retransmissions (about 12 s for 512 KiB on loopback, with plain JDK sockets too), and
 * our API, like lori's, sets socket options only on connected sockets.
 */
@ExtendWith(FdLeakCheck.class)
class TlsSendTest extends TlsFixture {
    /** lori's large payload. */
    private static final byte[] LARGE = filled(256_000);
    /** The three small sends lori makes first: the stream the reader expects starts with them. */
    private static final List<String> SMALL = List.of("t1", "t2", "t3");
    private static final int MAX_FLOOD_SENDS = 256;



    /**
     * Port of lori _TestSendSSLPerTokenCompletion: three small TLS sends, a flood that leaves the
     * last 256 KB send queued (the reader is muted; {@code onThrottled} unmutes it), and one more
     * from {@code onUnthrottled}: every token gets exactly one {@code onSent}, in ascending order,
     * none fails, and the reader decrypts every byte, in order.
     */
    @Test
    void everyTlsTokenCompletesOnceInOrderAcrossBackpressure() throws Exception {
        Reader reader = new Reader();
        Sender sender = new Sender() {
            private boolean unmuted;
            private boolean resent;

            @Override
            void go(TcpConnection c) {
                sendSmallThenFlood(c);
            }

            @Override
            public void onThrottled(TcpConnection c) {
                super.onThrottled(c);
                if (!unmuted) {
                    unmuted = true;
                    reader.unmute();
                }
            }

            @Override
            public void onUnthrottled(TcpConnection c) {
                super.onUnthrottled(c);
                if (!resent) {
                    resent = true;
                    record("resent " + (send(c, LARGE) instanceof SendToken));
                }
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                super.onSent(c, token);
                if (resent && token.id() == lastToken) {
                    c.close();
                }
            }
        };
        run(sender, reader);
        List<String> events = sender.until("closed");
        assertTrue(events.contains("resent true"), events::toString);
        Outcome outcome = Outcome.of(events);
        assertEquals(List.of(), outcome.failed());
        outcome.assertCleanSplit(sender.lastToken);
        assertEquals("closed after " + sender.acceptedBytes() + " intact bytes", reader.next());
    }

    /**
     * Port of lori _TestSendSSLLargeSingleSend: one 256 KiB TLS send, with small send buffers at
     * both ends (lori shrinks the receive buffers, see the class comment), reaches the wire in
     * pieces across writeable events and still arrives in full: the echo server returns all of it,
     * intact, and {@code onSent} comes before the last of the echo. The echo server mutes while its
     * own sends are backed up, so it never has to drop an echo.
     */
    @Test
    void oneLargeTlsSendIsDeliveredInFullAcrossWrites() throws Exception {
        int size = 262_144;
        int port = tlsListen(socket -> new ServerLifecycleReceiver() {
            @Override
            public void onStarted(TcpConnection c) {
                c.setSoSndbuf(4096);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (!(c.send(data.toArray(ValueLayout.JAVA_BYTE)) instanceof SendToken)) {
                    c.hardClose(); // a dropped echo: the client never gets its bytes back
                } else if (!c.isWriteable()) {
                    c.mute(); // until our echoes drain
                }
            }

            @Override
            public void onUnthrottled(TcpConnection c) {
                c.unmute();
            }

            @Override
            public void onStartFailure(TcpConnection c, StartFailure reason) {
            }
        });
        Recorder client = new Recorder() {
            private long received;
            private boolean intact = true;

            @Override
            public void onConnected(TcpConnection c) {
                c.setSoSndbuf(4096); // the send reaches the kernel in pieces
                record("send " + (c.send(filled(size)) instanceof SendToken));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                for (long i = 0; i < data.byteSize(); i++) {
                    intact &= data.get(ValueLayout.JAVA_BYTE, i) == 'x';
                }
                received += data.byteSize();
                if (received >= size) {
                    record("echoed " + received + ", intact " + intact);
                    c.close();
                }
            }
        };
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", port, clientContext, client);
        List<String> events = client.until("closed");
        assertTrue(events.contains("send true"), events::toString);
        int sent = events.indexOf("sent 1");
        int echoed = events.indexOf("echoed " + size + ", intact true");
        assertTrue(sent > 0 && echoed > sent, () -> "onSent of the send before its last echo: " + events);
        assertFalse(events.stream().anyMatch(e -> e.startsWith("send failed")), events::toString);
    }

    /**
     * Port of lori _TestSendSSLMidFlightDropBoundary: a hard close with a TLS send still queued
     * splits the tokens cleanly: a prefix gets {@code onSent} before {@code onClosed}, the queued
     * send {@code onSendFailed} after it, and no {@code onThrottled} is delivered after the close.
     * Every token reported sent was decryptable by the reader (its ciphertext was written); the
     * failed one never arrived in full.
     */
    @Test
    void hardCloseMidFlightSplitsTlsTokensIntoSentThenFailed() throws Exception {
        Reader reader = new Reader();
        Sender sender = new Sender() {
            @Override
            void go(TcpConnection c) {
                sendSmallThenFlood(c);
                c.hardClose();
            }
        };
        run(sender, reader);
        List<String> beforeClose = sender.until("closed");
        long last = sender.lastToken;
        assertEquals("send failed " + last, sender.next());
        assertEquals(List.of(), Outcome.of(beforeClose).failed(), "onSendFailed must follow onClosed");
        assertFalse(beforeClose.contains("throttled"), "no onThrottled after a hard close");
        List<String> all = new ArrayList<>(beforeClose);
        all.add("send failed " + last);
        Outcome.of(all).assertCleanSplit(last);
        reader.unmute();
        long decrypted = reader.closedAfter();
        assertTrue(decrypted >= sender.endOffset(last - 1), () -> "the reader decrypted " + decrypted
                + " bytes, but tokens 1.." + (last - 1) + " (" + sender.endOffset(last - 1) + " bytes) were sent");
        assertTrue(decrypted < sender.acceptedBytes(), () -> "the reader decrypted all " + decrypted
                + " bytes, yet token " + last + " was reported failed");
        Recorder.settle(sender.connection.join(), () -> { });
        assertTrue(sender.events.isEmpty(), () -> "unexpected " + sender.events);
    }

    /**
     * Port of lori _TestSendSSLGracefulCloseWithPending (the TLS side of lori#304): a graceful
     * close with TLS sends still queued writes their ciphertext, then close_notify, then FIN:
     * every token gets {@code onSent}, none fails, the reader decrypts every byte and both sides
     * close.
     */
    @Test
    void gracefulCloseWritesQueuedTlsSendsBeforeCloseNotify() throws Exception {
        Reader reader = new Reader();
        Sender sender = new Sender() {
            @Override
            void go(TcpConnection c) {
                sendSmallThenFlood(c);
                c.close();
                record("closing, writeable " + c.isWriteable() + ", closed " + c.isClosed());
            }
        };
        run(sender, reader);
        List<String> events = new ArrayList<>(sender.until("closing, writeable false, closed true"));
        reader.unmute();
        events.addAll(sender.until("closed"));
        Outcome outcome = Outcome.of(events);
        assertEquals(List.of(), outcome.failed());
        outcome.assertCleanSplit(sender.lastToken);
        assertEquals("closed after " + sender.acceptedBytes() + " intact bytes", reader.next());
    }

    /**
     * Port of lori _TestSendSSLHardCloseFromThrottled: a hard close from the {@code onThrottled}
     * that one large TLS send caused fails that send: it was accepted (its token came back), it
     * gets {@code onSendFailed} after {@code onClosed} and never {@code onSent}, and the reader
     * never decrypts all of it. Adapted: our {@code onThrottled} comes after the callback that
     * sent, not from inside {@code send}, so {@code send} returns before {@code onClosed}.
     */
    @Test
    void hardCloseFromOnThrottledFailsTheQueuedTlsSend() throws Exception {
        byte[] single = filled(4 << 20); // certainly more than the filled socket buffers hold
        Reader reader = new Reader(new byte[0]);
        Sender sender = new Sender() {
            @Override
            public void onStarted(TcpConnection c) {
                super.onStarted(c);
                c.bufferUntil(BufferSize.of("ready".length()));
            }

            @Override
            void go(TcpConnection c) {
                SendResult r = send(c, single);
                record("send returned " + r + ", closed " + c.isClosed());
            }

            @Override
            public void onThrottled(TcpConnection c) {
                super.onThrottled(c);
                c.hardClose();
            }
        };
        run(sender, reader);
        assertEquals(List.of("started", "received ready", "send returned SendToken[id=1], closed false",
                "throttled"), sender.until("closed"));
        assertEquals("send failed 1", sender.next());
        reader.unmute();
        long decrypted = reader.closedAfter();
        assertTrue(decrypted < single.length, () -> "the reader decrypted all " + decrypted + " bytes");
        Recorder.settle(sender.connection.join(), () -> { });
        assertTrue(sender.events.isEmpty(), () -> "unexpected " + sender.events);
    }

    // ------------------------------------------------------------------ helpers

    /**
     * The sending TLS server: records every callback ({@link Recorder}), remembers the size of every
     * accepted send by token id, and runs {@link #go} on the reader's first message ("ready"),
     * after shrinking its send buffer as lori does.
     */
    private abstract static class Sender extends Recorder {
        final CompletableFuture<TcpConnection> connection = new CompletableFuture<>();
        final Map<Long, Integer> sizes = new ConcurrentHashMap<>();
        volatile long lastToken;
        private boolean went;

        abstract void go(TcpConnection c);

        @Override
        public void onStarted(TcpConnection c) {
            connection.complete(c);
            super.onStarted(c);
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            super.onReceived(c, data);
            if (!went) {
                went = true;
                c.setSoSndbuf(16_384);
                go(c);
            }
        }

        SendResult send(TcpConnection c, byte[] data) {
            SendResult r = c.send(data);
            if (r instanceof SendToken token) {
                sizes.put(token.id(), data.length);
                lastToken = token.id();
            }
            return r;
        }

        /** lori's t1, t2, t3, then large sends until one is refused NOT_WRITEABLE (the last is queued). */
        void sendSmallThenFlood(TcpConnection c) {
            for (String small : SMALL) {
                if (!(send(c, small.getBytes()) instanceof SendToken)) {
                    throw new AssertionError("small send refused");
                }
            }
            for (int i = 0; i < MAX_FLOOD_SENDS; i++) {
                switch (send(c, LARGE)) {
                    case SendToken token -> { }
                    case SendError error -> {
                        if (error != SendError.NOT_WRITEABLE || lastToken <= SMALL.size()) {
                            throw new AssertionError("flood refused with " + error + " at token " + lastToken);
                        }
                        record("flooded to " + lastToken);
                        return;
                    }
                }
            }
            throw new AssertionError("no backpressure after " + MAX_FLOOD_SENDS + " large sends");
        }

        long acceptedBytes() {
            return sizes.values().stream().mapToLong(Integer::longValue).sum();
        }

        /** {@return the plaintext bytes of tokens 1..id} */
        long endOffset(long id) {
            long end = 0;
            for (long i = 1; i <= id; i++) {
                end += sizes.get(i);
            }
            return end;
        }
    }

    /**
     * The reading TLS client: mutes and sends "ready" once connected; checks every decrypted byte
     * against the stream the sender writes (a prefix, by default "t1t2t3", then 'x's) and records
     * {@code "closed after <n> intact bytes"} (or where the stream first differed).
     */
    private static final class Reader implements ClientLifecycleReceiver {
        private final byte[] prefix;
        private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        private final CompletableFuture<TcpConnection> connection = new CompletableFuture<>();
        private long received;
        private long firstBad = -1;

        Reader(byte[] prefix) {
            this.prefix = prefix;
        }

        Reader() {
            this(String.join("", SMALL).getBytes());
        }

        @Override
        public void onConnected(TcpConnection c) {
            c.mute();
            connection.complete(c);
            c.send("ready");
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            for (long i = 0; i < data.byteSize(); i++, received++) {
                byte expected = received < prefix.length ? prefix[(int) received] : (byte) 'x';
                if (firstBad < 0 && data.get(ValueLayout.JAVA_BYTE, i) != expected) {
                    firstBad = received;
                }
            }
        }

        @Override
        public void onClosed(TcpConnection c) {
            events.add(firstBad < 0 ? "closed after " + received + " intact bytes"
                    : "closed after " + received + " bytes, wrong from byte " + firstBad);
        }

        @Override
        public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
            events.add("failure " + reason + " (" + c.failureDetail() + ")");
        }

        String next() throws InterruptedException {
            return Loopback.poll(events);
        }

        /** Lets the reader read, from any thread. */
        void unmute() {
            TcpConnection c = connection.join();
            c.execute(c::unmute);
        }

        /** {@return the intact bytes decrypted before the reader closed} */
        long closedAfter() throws InterruptedException {
            String closed = next();
            assertTrue(closed.startsWith("closed after ") && closed.endsWith(" intact bytes"), closed);
            String count = closed.substring("closed after ".length(), closed.length() - " intact bytes".length());
            return Long.parseLong(count);
        }
    }

    /** The terminal callbacks seen, in order. */
    private record Outcome(List<Long> sent, List<Long> failed) {
        static Outcome of(List<String> events) {
            List<Long> sent = new ArrayList<>();
            List<Long> failed = new ArrayList<>();
            for (String e : events) {
                if (e.startsWith("sent ")) {
                    sent.add(Long.parseLong(e.substring("sent ".length())));
                } else if (e.startsWith("send failed ")) {
                    failed.add(Long.parseLong(e.substring("send failed ".length())));
                }
            }
            return new Outcome(sent, failed);
        }

        /** Every token 1..last got exactly one terminal callback: the sent ones first, in order. */
        void assertCleanSplit(long last) {
            List<Long> all = new ArrayList<>(sent);
            all.addAll(failed);
            List<Long> expected = new ArrayList<>();
            for (long i = 1; i <= last; i++) {
                expected.add(i);
            }
            assertEquals(expected, all, () -> "onSent " + sent + " then onSendFailed " + failed);
        }
    }

    /** Starts the sending server and connects the reading client to it. */
    private void run(Sender sender, Reader reader) throws Exception {
        int port = tlsListen(socket -> sender);
        TcpConnection.sslClient(Loopback.CONNECT, group.next(), "localhost", port, clientContext, reader);
    }

    private int tlsListen(Function<AcceptedSocket, ServerLifecycleReceiver> factory) throws Exception {
        CompletableFuture<InetSocketAddress> listening = new CompletableFuture<>();
        TcpListener.create(Loopback.LISTEN, group, "127.0.0.1", 0, new ListenerReceiver() {
            @Override
            public void onListening(TcpListener l) {
                listening.complete(l.localAddress());
            }

            @Override
            public void onListenFailure(TcpListener l, ListenFailure failure) {
                listening.completeExceptionally(new AssertionError("listen failed: " + failure));
            }

            @Override
            public TcpConnection onAccept(TcpListener l, AcceptedSocket socket) {
                return TcpConnection.sslServer(Loopback.SERVE, socket, serverContext, factory.apply(socket));
            }
        }, IpVersion.IP4, MaxSpawn.DEFAULT);
        return Loopback.await(listening).getPort();
    }

    private static byte[] filled(int size) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 'x');
        return bytes;
    }
}
