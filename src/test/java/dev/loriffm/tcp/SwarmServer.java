package dev.loriffm.tcp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The server side of one swarm connection: reads the plan's seed, then echoes the stream back,
 * framed with {@code bufferUntil} or streaming, with the plan's read-buffer sizes, echo style,
 * mutes, yields and (for {@link SwarmPlan.Ending#SERVER_CLOSES}) its own graceful close. When a
 * send is refused because the connection is throttled it holds the bytes, mutes, and resumes on
 * {@code onUnthrottled}, as a real echo server must. Loop thread only.
 */
final class SwarmServer extends SwarmEnd implements ServerLifecycleReceiver {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    private enum Expect { PREAMBLE, HEADER, PAYLOAD, STREAM }

    private final boolean tls;
    SwarmPlan plan;
    long received;
    boolean closed;
    boolean startFailed;
    private Expect expect = Expect.PREAMBLE;
    private int expectedBytes = SwarmPlan.PREAMBLE;
    private int messages;
    private boolean mutedForBackpressure;
    private boolean mutedForTimer;
    private boolean closeRequested;
    private final ArrayDeque<byte[]> pending = new ArrayDeque<>();
    private SplittableRandom random;

    SwarmServer(Swarm swarm, boolean tls) {
        super(swarm, "server");
        this.tls = tls;
    }

    @Override
    void reportFinished() {
        swarm.serverFinished();
    }

    @Override
    public void onStarted(TcpConnection c) {
        guard(c, () -> swarm.expect(c.bufferUntil(BufferSize.of(SwarmPlan.PREAMBLE)) == BufferUntilResult.SET,
                "server: framing the preamble was refused"));
    }

    @Override
    public void onStartFailure(TcpConnection c, StartFailure reason) {
        startFailed = true; // only a client that aborts during the TLS handshake may cause this; checked at the end
        ended();
    }

    @Override
    public void onReceived(TcpConnection c, MemorySegment data) {
        guard(c, () -> received(c, data));
    }

    private void received(TcpConnection c, MemorySegment data) {
        long n = data.byteSize();
        received += n;
        if (expect != Expect.STREAM && n != expectedBytes) {
            swarm.violation(describe() + ": bufferUntil(" + expectedBytes + ") delivered " + n + " bytes");
            c.hardClose();
            return;
        }
        if (closeRequested) {
            return; // closing: data still arrives, but nothing more is echoed
        }
        switch (expect) {
            case PREAMBLE -> {
                plan = SwarmPlan.of(data.get(LONG, 0), tls);
                random = new SplittableRandom(plan.seed() + 2);
                swarm.serverFor(plan.seed(), this);
                swarm.expect(c.setReadBufferMinimum(ReadBufferSize.of(plan.serverReadMinimum()))
                        == ReadBufferResized.RESIZED, describe() + ": raising the read buffer minimum was refused");
                ReadBufferResizeResult resized = c.resizeReadBuffer(ReadBufferSize.of(plan.serverReadSize()));
                swarm.expect(resized == ReadBufferResized.RESIZED || resized instanceof ReadBufferResizeBelowUsed,
                        describe() + ": resize to " + plan.serverReadSize() + " gave " + resized);
                frame(c, plan.framed() ? Expect.HEADER : Expect.STREAM, 4);
            }
            case HEADER -> {
                int length = data.get(INT, 0);
                if (length > 0) {
                    frame(c, Expect.PAYLOAD, length);
                }
            }
            case PAYLOAD -> frame(c, Expect.HEADER, 4);
            case STREAM -> { }
        }
        echo(c, data);
        messages++;
        if (plan.ending() == SwarmPlan.Ending.SERVER_CLOSES && received >= plan.serverCloseAfter()) {
            closeNow(c);
            return;
        }
        if (plan.ending() == SwarmPlan.Ending.SERVER_ABORTS && received >= plan.serverCloseAfter()) {
            closeRequested = true;
            pending.clear();
            c.hardClose();
            return;
        }
        if (plan.serverMuteEvery() > 0 && messages % plan.serverMuteEvery() == 0 && !mutedForTimer
                && c.setTimer(new TimerDuration(1 + random.nextInt(3))) instanceof TimerToken) {
            mutedForTimer = true;
            c.mute();
        }
        if (plan.serverYieldEvery() > 0 && messages % plan.serverYieldEvery() == 0) {
            c.yieldRead();
        }
    }

    private void frame(TcpConnection c, Expect next, int bytes) {
        expect = next;
        expectedBytes = bytes;
        BufferUntil framing = next == Expect.STREAM ? Streaming.STREAMING : BufferSize.of(bytes);
        swarm.expect(c.bufferUntil(framing) == BufferUntilResult.SET,
                describe() + ": bufferUntil(" + bytes + ") refused with minimum " + c.readBufferMinimum());
    }

    private void echo(TcpConnection c, MemorySegment data) {
        if (!pending.isEmpty()) {
            pending.addLast(data.toArray(ValueLayout.JAVA_BYTE)); // keep order behind what waits
            return;
        }
        long n = data.byteSize();
        SendResult result = switch (plan.echoStyle()) {
            case COPY -> c.send(data.toArray(ValueLayout.JAVA_BYTE));
            case SEND_COPY -> c.sendCopy(data);
            case GATHER -> c.send(split(data));
        };
        if (!ledger.record(result, n)) {
            refused(c, result);
            pending.addLast(data.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** Cuts {@code data} into copies of random sizes, often more than IOV_MAX of them. */
    private List<byte[]> split(MemorySegment data) {
        List<byte[]> parts = new ArrayList<>();
        long at = 0;
        long size = data.byteSize();
        int most = random.nextInt(4) == 0 ? 1 : 1 + random.nextInt(64);
        while (at < size) {
            int n = (int) Math.min(size - at, 1 + random.nextInt(most));
            parts.add(data.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE));
            at += n;
            if (random.nextInt(16) == 0) {
                parts.add(new byte[0]); // empty parts are skipped
            }
        }
        return parts;
    }

    private void refused(TcpConnection c, SendResult result) {
        if (result != SendError.NOT_WRITEABLE) {
            swarm.violation(describe() + ": send refused with " + result + " while open");
            return;
        }
        if (c.isWriteable()) {
            swarm.violation(describe() + ": send refused as NOT_WRITEABLE but the connection says it is writeable");
        }
        if (!mutedForBackpressure) {
            mutedForBackpressure = true;
            c.mute();
        }
    }

    @Override
    public void onUnthrottled(TcpConnection c) {
        guard(c, () -> {
            while (!pending.isEmpty() && !closeRequested) {
                byte[] next = pending.peekFirst();
                SendResult result = c.send(next);
                if (!ledger.record(result, next.length)) {
                    refused(c, result);
                    return;
                }
                pending.removeFirst();
            }
            if (mutedForBackpressure) {
                mutedForBackpressure = false;
                unmuteIfFree(c);
            }
        });
    }

    @Override
    public void onTimer(TcpConnection c, TimerToken token) {
        guard(c, () -> {
            mutedForTimer = false;
            unmuteIfFree(c);
        });
    }

    private void unmuteIfFree(TcpConnection c) {
        if (!mutedForBackpressure && !mutedForTimer && !closeRequested) {
            c.unmute();
        }
    }

    /** A graceful close; a muted connection would be hard-closed, so it is unmuted first. */
    private void closeNow(TcpConnection c) {
        closeRequested = true;
        pending.clear(); // never accepted: no token to account for
        if (c.isMuted()) {
            c.unmute();
        }
        c.close();
    }

    @Override
    public void onClosed(TcpConnection c) {
        closed = true;
        ended();
    }

    /**
     * {@return how many received bytes may never have been delivered} A framed connection holds
     * an incomplete frame until the rest arrives, and one that closes first never delivers it.
     */
    int undeliveredAtMost() {
        return expect == Expect.STREAM ? 0 : expectedBytes - 1;
    }

    @Override
    String describe() {
        return "server " + (plan == null ? "(no preamble yet)" : Long.toString(plan.seed())) + (tls ? " tls" : "");
    }

    @Override
    public String toString() {
        return describe() + ": received " + received + ", expect " + expect + "(" + expectedBytes + "), closed "
                + closed + ", startFailed " + startFailed + ", closeRequested " + closeRequested + ", muted(bp "
                + mutedForBackpressure + ", timer " + mutedForTimer + "), pending " + pending.size() + ", " + ledger;
    }
}
