package dev.loriffm.tcp;

import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.loriffm.tcp.ConnectionFakes.onLoop;
import static dev.loriffm.tcp.FakeBackend.READABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * STARTTLS: upgrading an open plaintext connection with {@code startTls} (lori's
 * {@code _test_start_tls.pony}), plus the CVE-2021-23222 guard: plaintext received before the
 * upgrade is never handled as if it had come over TLS. The negotiation is lori's: the client sends
 * "STARTTLS", the server answers "OK" and upgrades, the client upgrades on the "OK".
 */
@ExtendWith(FdLeakCheck.class)
class StartTlsTest extends TlsFixture {


    /** A {@link Recorder} that also records the TLS and timer callbacks; {@code onSent} is not recorded. */
    static class TlsRecorder extends Recorder {
        @Override
        public void onTlsReady(TcpConnection c) {
            record("tls ready " + c.tlsInfo().protocol());
        }

        @Override
        public void onTlsFailure(TcpConnection c, TlsFailure reason) {
            record("tls failure " + reason);
        }

        @Override
        public void onTimer(TcpConnection c, TimerToken token) {
            record("timer " + token);
        }

        @Override
        public void onSent(TcpConnection c, SendToken token) {
        }
    }

    /** lori's STARTTLS server: 8-byte frames; answers "STARTTLS" with "OK" and upgrades, "Ping" with "Pong". */
    private class StartTlsServer extends TlsRecorder {
        @Override
        public void onStarted(TcpConnection c) {
            c.bufferUntil(BufferSize.of(8));
            super.onStarted(c);
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            String text = Loopback.text(data);
            if (text.equals("STARTTLS")) {
                c.send("OK");
                record("upgrade " + c.startTls(serverContext, ""));
            } else {
                super.onReceived(c, data);
                if (text.equals("Ping")) {
                    c.send("Pong");
                }
            }
        }

        @Override
        public void onTlsReady(TcpConnection c) {
            super.onTlsReady(c);
            c.bufferUntil(BufferSize.of(4));
        }
    }

    /** lori's STARTTLS client: 2-byte frames; sends "STARTTLS" once connected and upgrades on "OK". */
    private class StartTlsClient extends TlsRecorder {
        private final String host;

        StartTlsClient(String host) {
            this.host = host;
        }

        @Override
        public void onConnected(TcpConnection c) {
            c.bufferUntil(BufferSize.of(2));
            super.onConnected(c);
            c.send("STARTTLS");
        }

        @Override
        public void onReceived(TcpConnection c, MemorySegment data) {
            if (Loopback.text(data).equals("OK")) {
                record("upgrade " + c.startTls(clientContext, host));
            } else {
                super.onReceived(c, data);
            }
        }
    }

    private TcpConnection connect(Loopback.Started server, ClientLifecycleReceiver client) {
        return TcpConnection.client(Loopback.CONNECT, group.next(), "127.0.0.1", server.address().getPort(), client);
    }

    /** A plaintext server that records but never answers. */
    private Loopback.Started doNothingServer() throws Exception {
        return Loopback.listen(group, socket -> new Recorder());
    }

    /**
     * Port of lori _TestStartTLSPingPong: after the plaintext negotiation both sides upgrade, then
     * "Ping" and "Pong" travel over TLS. A second {@code startTls} on the upgraded connection is
     * ALREADY_TLS.
     */
    @Test
    void pingPongAfterStartTls() throws Exception {
        StartTlsServer serverSide = new StartTlsServer();
        Loopback.Started server = Loopback.listen(group, socket -> serverSide);
        StartTlsClient client = new StartTlsClient("localhost") {
            @Override
            public void onTlsReady(TcpConnection c) {
                super.onTlsReady(c);
                record("again " + c.startTls(clientContext, "localhost"));
                c.bufferUntil(BufferSize.of(4));
                c.send("Ping");
            }
        };
        connect(server, client);
        assertEquals(List.of("connecting 1", "connected", "upgrade STARTED", "tls ready TLSv1.3",
                "again ALREADY_TLS"), client.until("received Pong"));
        assertEquals(List.of("started", "upgrade STARTED", "tls ready TLSv1.3"), serverSide.until("received Ping"));
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }

    /**
     * Port of lori _TestStartTLSPreconditions: {@code startTls} is NOT_CONNECTED once closing,
     * ALREADY_TLS while an upgrade runs, and NOT_READY while muted; a refusal changes nothing.
     */
    @Test
    void startTlsReportsEachUnmetPrecondition() throws Exception {
        Loopback.Started server = doNothingServer();
        Recorder notConnected = new TlsRecorder() {
            @Override
            public void onConnected(TcpConnection c) {
                c.close();
                record("after close " + c.startTls(clientContext, "localhost"));
            }
        };
        Recorder alreadyTls = new TlsRecorder() {
            @Override
            public void onConnected(TcpConnection c) {
                StartTlsResult first = c.startTls(clientContext, "localhost");
                record(first + " then " + c.startTls(clientContext, "localhost"));
            }
        };
        Recorder notReady = new TlsRecorder() {
            @Override
            public void onConnected(TcpConnection c) {
                c.mute();
                StartTlsResult muted = c.startTls(clientContext, "localhost");
                record("muted " + muted + ", still open " + c.isOpen() + ", writeable " + c.isWriteable());
            }
        };
        connect(server, notConnected);
        connect(server, alreadyTls);
        connect(server, notReady);
        assertEquals(List.of("connecting 1"), notConnected.until("after close NOT_CONNECTED"));
        assertEquals(List.of("connecting 1"), alreadyTls.until("STARTED then ALREADY_TLS"));
        assertEquals(List.of("connecting 1"), notReady.until("muted NOT_READY, still open true, writeable true"));
    }

    /**
     * Beyond lori's suite (its StartTLSSessionFailed): a client upgrading with a server context
     * gets SESSION_FAILED and stays a working plaintext connection.
     */
    @Test
    void startTlsWithAContextOfTheWrongSideFailsAndLeavesTheConnectionPlain() throws Exception {
        Recorder serverSide = new Recorder();
        Loopback.Started server = Loopback.listen(group, socket -> serverSide);
        Recorder client = new TlsRecorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("upgrade " + c.startTls(serverContext, "localhost") + ", open " + c.isOpen());
                record("send " + c.send("still plain"));
            }
        };
        connect(server, client);
        assertEquals(List.of("connecting 1", "upgrade SESSION_FAILED, open true"),
                client.until("send SendToken[id=1]"));
        assertEquals(List.of("started"), serverSide.until("received still plain"));
    }

    /**
     * Port of lori _TestStartTLSSendDuringUpgrade: during the upgrade {@code send} is refused with
     * NOT_CONNECTED and uses no token, so no {@code onSent}/{@code onSendFailed} ever follows.
     */
    @Test
    void sendDuringUpgradeIsRefusedAndUsesNoToken() throws Exception {
        Loopback.Started server = doNothingServer();
        Recorder client = new TlsRecorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("upgrade " + c.startTls(clientContext, "localhost"));
                record("send " + c.send("should fail"));
            }

            @Override
            public void onSent(TcpConnection c, SendToken token) {
                record("sent " + token.id());
            }
        };
        TcpConnection connection = connect(server, client);
        assertEquals(List.of("connecting 1", "upgrade STARTED"), client.until("send NOT_CONNECTED"));
        connection.execute(connection::hardClose);
        assertEquals(List.of("tls failure GENERAL_ERROR"), client.until("closed"));
        Recorder.settle(connection, () -> { });
        assertTrue(client.events.isEmpty(), () -> "unexpected " + client.events);
    }

    /**
     * Beyond lori's suite (its documented rule): {@code close()} during the upgrade is a hard close,
     * reported as {@code onTlsFailure(GENERAL_ERROR)} and then {@code onClosed}.
     */
    @Test
    void closeDuringUpgradeIsAHardCloseReportedAsTlsFailure() throws Exception {
        Loopback.Started server = doNothingServer();
        Recorder client = new TlsRecorder() {
            @Override
            public void onConnected(TcpConnection c) {
                record("upgrade " + c.startTls(clientContext, "localhost"));
                c.close();
                record("after close: closed " + c.isClosed());
            }
        };
        TcpConnection connection = connect(server, client);
        assertEquals(List.of("connecting 1", "upgrade STARTED", "tls failure GENERAL_ERROR"), client.until("closed"));
        assertEquals("after close: closed true", client.next());
        Recorder.settle(connection, () -> { });
        assertTrue(client.events.isEmpty(), () -> "unexpected " + client.events);
    }

    /** Port of lori _TestStartTLSIsWriteableDuringUpgrade: a connection upgrading to TLS is not writeable. */
    @Test
    void upgradingConnectionIsNotWriteable() throws Exception {
        Loopback.Started server = doNothingServer();
        Recorder client = new TlsRecorder() {
            @Override
            public void onConnected(TcpConnection c) {
                boolean before = c.isWriteable();
                StartTlsResult upgrade = c.startTls(clientContext, "localhost");
                record("writeable " + before + ", upgrade " + upgrade + ", writeable " + c.isWriteable());
            }
        };
        connect(server, client);
        assertEquals(List.of("connecting 1"), client.until("writeable true, upgrade STARTED, writeable false"));
    }

    /**
     * Port of lori _TestStartTLSHandshakeFailure: the server answers the ClientHello with garbage;
     * the upgrade fails with {@code onTlsFailure} and then {@code onClosed}, never {@code onTlsReady}.
     */
    @Test
    void garbageDuringTheUpgradeFailsItAndCloses() throws Exception {
        Loopback.Started server = Loopback.listen(group, socket -> new Recorder() {
            private boolean awaitingClientHello;

            @Override
            public void onStarted(TcpConnection c) {
                c.bufferUntil(BufferSize.of(8));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (awaitingClientHello) {
                    // The ClientHello arrived, so the client consumed "OK" and upgraded: answer
                    // with garbage (sent earlier, it would be unprocessed plaintext: NOT_READY).
                    awaitingClientHello = false;
                    c.send("XXXXXXXXXX");
                    c.close();
                } else if (Loopback.text(data).equals("STARTTLS")) {
                    c.send("OK");
                    awaitingClientHello = true;
                    c.bufferUntil(Streaming.STREAMING);
                }
            }
        });
        StartTlsClient client = new StartTlsClient("localhost");
        connect(server, client);
        assertEquals(List.of("connecting 1", "connected", "upgrade STARTED", "tls failure GENERAL_ERROR"),
                client.until("closed"));
    }

    /**
     * Port of lori _TestStartTLSAuthFailure: a client upgrading with a host name the server's
     * certificate does not name gets {@code onTlsFailure(AUTH_FAILED)}, then {@code onClosed}.
     */
    @Test
    void upgradeToAServerWithAnotherHostNameFailsAuthentication() throws Exception {
        Loopback.Started server = Loopback.listen(group, socket -> new StartTlsServer());
        StartTlsClient client = new StartTlsClient("not.localhost");
        connect(server, client);
        assertEquals(List.of("connecting 1", "connected", "upgrade STARTED", "tls failure AUTH_FAILED"),
                client.until("closed"));
    }

    /** Port of lori _TestSetTimerAfterTLSUpgrade: {@code setTimer} works after the upgrade and its token fires. */
    @Test
    void timerSetAfterTheUpgradeFiresWithItsToken() throws Exception {
        Loopback.Started server = Loopback.listen(group, socket -> new StartTlsServer());
        StartTlsClient client = new StartTlsClient("localhost") {
            @Override
            public void onTlsReady(TcpConnection c) {
                super.onTlsReady(c);
                record("timer set " + c.setTimer(new TimerDuration(10)));
            }
        };
        connect(server, client);
        assertEquals(List.of("connecting 1", "connected", "upgrade STARTED", "tls ready TLSv1.3"),
                client.until("timer set TimerToken[id=1]"));
        assertEquals("timer TimerToken[id=1]", client.next());
    }

    /**
     * Port of lori _TestStartTLSHardCloseOnTLSReady (lori#309/#310): a hard close inside
     * {@code onTlsReady}, which the handshake's completion calls, is safe and ends in {@code onClosed}.
     */
    @Test
    void hardCloseInsideOnTlsReadyIsSafe() throws Exception {
        Loopback.Started server = Loopback.listen(group, socket -> new StartTlsServer());
        StartTlsClient client = new StartTlsClient("localhost") {
            @Override
            public void onTlsReady(TcpConnection c) {
                super.onTlsReady(c);
                c.hardClose();
            }
        };
        TcpConnection connection = connect(server, client);
        assertEquals(List.of("connecting 1", "connected", "upgrade STARTED", "tls ready TLSv1.3"),
                client.until("closed"));
        Recorder.settle(connection, () -> { });
        assertTrue(client.events.isEmpty(), () -> "unexpected " + client.events);
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }

    // ------------------------------------------------------------------ CVE-2021-23222

    /**
     * CVE-2021-23222 guard (lori's {@code StartTLSNotReady}): bytes held because {@code bufferUntil}
     * waits for more are unprocessed plaintext, so {@code startTls} is NOT_READY; once they are
     * delivered the same connection can upgrade. A fake backend scripts the reads exactly.
     */
    @Test
    void startTlsIsRefusedWhileAPartialFrameIsHeld() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(1).script("abc");
        var log = new ConnectionFakes.Log() {
            @Override
            public void onStarted(TcpConnection c) {
                c.bufferUntil(BufferSize.of(8));
                super.onStarted(c);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                add("upgrade " + c.startTls(serverContext, ""));
            }
        };
        ConnectionFakes.serve(group, backend, log);
        log.expect("started");
        int fd = backend.accepted.getFirst();
        backend.fire(fd, READABLE); // "abc" is read and held: 3 of 8 bytes
        TcpConnection c = log.connection;
        assertEquals("NOT_READY, open true",
                onLoop(c.loop(), () -> c.startTls(serverContext, "") + ", open " + c.isOpen()));
        backend.script("defgh");
        backend.fire(fd, READABLE);
        log.expect("received abcdefgh", "upgrade STARTED");
    }

    /**
     * CVE-2021-23222 guard: a message whose read brought more bytes behind it cannot upgrade from
     * its {@code onReceived} (NOT_READY), nor while muted with those bytes held; after unmuting,
     * the last message's {@code onReceived} can.
     */
    @Test
    void startTlsIsRefusedWhileReceivedBytesWaitBehindTheMessage() throws Exception {
        var backend = new ConnectionFakes.ServingBackend(1).script("abcdefgh");
        var log = new ConnectionFakes.Log() {
            @Override
            public void onStarted(TcpConnection c) {
                c.bufferUntil(BufferSize.of(4));
                super.onStarted(c);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                super.onReceived(c, data);
                add("upgrade " + c.startTls(serverContext, ""));
                if (Loopback.text(data).equals("abcd")) {
                    c.mute();
                }
            }
        };
        ConnectionFakes.serve(group, backend, log);
        log.expect("started");
        backend.fire(backend.accepted.getFirst(), READABLE);
        log.expect("received abcd", "upgrade NOT_READY");
        TcpConnection c = log.connection;
        assertEquals("NOT_READY", onLoop(c.loop(), () -> c.startTls(serverContext, "").toString()));
        c.execute(c::unmute);
        log.expect("received efgh", "upgrade STARTED");
    }

    /**
     * CVE-2021-23222, server side: bytes a man in the middle appends to the plaintext "STARTTLS"
     * line (here sent by the client in the same write, before any handshake) must never be
     * delivered as if they came over TLS: the upgrade is refused (NOT_READY: the bytes are
     * buffered) or, if they arrive after it started, they break the handshake. A refused server
     * drops the connection. Our TLS client then completes the handshake if the server did start it,
     * so a missing guard would show as {@code onTlsReady} followed by the injected bytes.
     */
    @Test
    void plaintextInjectedAfterTheStartTlsLineIsNeverDeliveredOverTls() throws Exception {
        Recorder serverSide = new TlsRecorder() {
            @Override
            public void onStarted(TcpConnection c) {
                c.bufferUntil(BufferSize.of(10));
                super.onStarted(c);
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (!Loopback.text(data).equals("STARTTLS\r\n")) {
                    super.onReceived(c, data);
                    c.hardClose(); // injected bytes got through: end the test
                    return;
                }
                c.send("OK\r\n");
                StartTlsResult upgrade = c.startTls(serverContext, "");
                record("upgrade " + upgrade);
                if (upgrade != TlsUpgradeStarted.STARTED) {
                    c.hardClose();
                }
            }

            @Override
            public void onTlsReady(TcpConnection c) {
                super.onTlsReady(c);
                c.bufferUntil(Streaming.STREAMING); // a buggy guard would now deliver what it held
                c.execute(c::hardClose); // after this turn's deliveries
            }
        };
        Loopback.Started server = Loopback.listen(group, socket -> serverSide);
        Recorder client = new TlsRecorder() {
            @Override
            public void onConnected(TcpConnection c) {
                c.bufferUntil(BufferSize.of(4));
                c.send("STARTTLS\r\nINJECTED!!");
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (Loopback.text(data).equals("OK\r\n")) {
                    record("upgrade " + c.startTls(clientContext, "localhost"));
                }
            }
        };
        connect(server, client);
        List<String> events = serverSide.until("closed");
        assertCveGuardHeld(events);
        assertTrue(events.getFirst().equals("started"), events.toString());
    }

    /**
     * CVE-2021-23222, client side (libpq's case): bytes a man in the middle appends to the
     * server's plaintext "OK" (one write, before any handshake) are buffered behind the "OK"
     * message, so the client's {@code startTls} is NOT_READY and it drops the connection; bytes
     * that arrive only after the upgrade started break the handshake instead. The server does
     * upgrade, so a missing guard would show as {@code onTlsReady} followed by the injected bytes.
     */
    @Test
    void plaintextInjectedAfterTheOkReplyIsNeverDeliveredOverTls() throws Exception {
        Loopback.Started server = Loopback.listen(group, socket -> new TlsRecorder() {
            @Override
            public void onStarted(TcpConnection c) {
                c.bufferUntil(BufferSize.of(10));
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (Loopback.text(data).equals("STARTTLS\r\n")) {
                    c.send("OK\r\nINJECTED");
                    c.startTls(serverContext, "");
                }
            }
        });
        Recorder client = new TlsRecorder() {
            @Override
            public void onConnected(TcpConnection c) {
                c.bufferUntil(BufferSize.of(4));
                c.send("STARTTLS\r\n");
            }

            @Override
            public void onReceived(TcpConnection c, MemorySegment data) {
                if (!Loopback.text(data).equals("OK\r\n")) {
                    super.onReceived(c, data);
                    c.hardClose(); // injected bytes got through: end the test
                    return;
                }
                StartTlsResult upgrade = c.startTls(clientContext, "localhost");
                record("upgrade " + upgrade);
                if (upgrade != TlsUpgradeStarted.STARTED) {
                    c.hardClose();
                }
            }

            @Override
            public void onTlsReady(TcpConnection c) {
                super.onTlsReady(c);
                c.bufferUntil(Streaming.STREAMING); // a buggy guard would now deliver what it held
                c.execute(c::hardClose); // after this turn's deliveries
            }
        };
        connect(server, client);
        List<String> events = client.until("closed");
        assertCveGuardHeld(events);
        assertEquals("connecting 1", events.getFirst(), events.toString());
    }

    /**
     * The upgrade was refused, or started and then failed; it never completed and nothing else was
     * delivered (the honest peer sends nothing but the negotiation).
     */
    private static void assertCveGuardHeld(List<String> events) {
        boolean refused = events.contains("upgrade NOT_READY");
        boolean failed = events.contains("upgrade STARTED")
                && events.stream().anyMatch(e -> e.startsWith("tls failure "));
        assertTrue(refused || failed, "neither refused nor failed: " + events);
        assertFalse(events.stream().anyMatch(e -> e.startsWith("tls ready")), events.toString());
        assertFalse(events.stream().anyMatch(e -> e.startsWith("received")), events.toString());
    }
}
