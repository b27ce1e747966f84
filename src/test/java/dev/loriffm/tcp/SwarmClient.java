package dev.loriffm.tcp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The client side of one swarm connection: sends its plan's stream in random pieces (single
 * sends of heap slices, gathered sends of mixed buffer types that often exceed IOV_MAX, and
 * {@code sendCopy} of native memory freed at once), checks every echoed byte against the stream as
 * it arrives, and ends the connection as the plan says. Loop thread only.
 */
final class SwarmClient extends SwarmEnd implements ClientLifecycleReceiver {
    final SwarmPlan plan;
    private final byte[] stream;
    private final SplittableRandom random;
    long accepted;
    long received;
    boolean connected;
    boolean closed;
    boolean failed;
    private boolean closeCalled;
    private boolean mutedForTimer;
    private int messages;
    private final java.util.ArrayDeque<String> trace = new java.util.ArrayDeque<>();

    private void trace(String event) {
        if (trace.size() == 12) {
            trace.removeFirst();
        }
        trace.addLast(System.nanoTime() / 1_000_000 + " " + event);
    }

    SwarmClient(Swarm swarm, SwarmPlan plan) {
        super(swarm, "client " + plan.seed());
        this.plan = plan;
        this.stream = plan.stream();
        this.random = new SplittableRandom(plan.seed() + 1);
    }

    @Override
    void reportFinished() {
        swarm.clientFinished();
    }

    long streamLength() {
        return stream.length;
    }

    @Override
    public void onConnected(TcpConnection c) {
        connected = true;
        swarm.clientConnected();
        guard(c, () -> {
            if (plan.ending() == SwarmPlan.Ending.CLIENT_ABORTS && plan.abortAfter() == 0) {
                c.hardClose();
                return;
            }
            pump(c);
        });
    }

    @Override
    public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
        failed = true;
        swarm.violation(describe() + ": connection failed: " + reason + " (" + c.failureDetail() + ")");
        ended();
    }

    @Override
    public void onUnthrottled(TcpConnection c) {
        trace("unthrottled");
        guard(c, () -> pump(c));
    }

    /** Sends pieces of the stream until all of it is accepted or a send is refused. */
    private void pump(TcpConnection c) {
        while (accepted < stream.length && !closeCalled && !c.isClosed()) {
            int n = (int) Math.min(stream.length - accepted, 1 + random.nextInt(plan.maxChunk()));
            int at = (int) accepted;
            int dice = random.nextInt(100);
            SendResult result;
            if (dice < plan.gatherPercent()) {
                result = c.send(gather(at, n));
            } else if (dice < plan.gatherPercent() + plan.sendCopyPercent()) {
                try (Arena arena = Arena.ofConfined()) { // freed as soon as sendCopy returns
                    MemorySegment copy = arena.allocate(n);
                    MemorySegment.copy(stream, at, copy, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, n);
                    result = c.sendCopy(copy);
                }
            } else {
                result = c.send(MemorySegment.ofArray(stream).asSlice(at, n));
            }
            if (!ledger.record(result, n)) {
                if (result == SendError.NOT_WRITEABLE ? c.isWriteable() : c.isOpen()) {
                    swarm.violation(describe() + ": send refused with " + result + " on an open, writeable connection");
                }
                trace("refused " + result + " at " + accepted);
                return; // throttled: onUnthrottled resumes; closing: nothing more to send
            }
            accepted += n;
        }
        if (accepted == stream.length && plan.ending() == SwarmPlan.Ending.CLIENT_CLOSES_EARLY) {
            closeNow(c);
        }
    }

    /** {@return stream[at, at + n) as many buffers of mixed types, often more than IOV_MAX} */
    private List<Object> gather(int at, int n) {
        List<Object> parts = new ArrayList<>();
        int most = random.nextInt(3) == 0 ? 1 : 1 + random.nextInt(256);
        int end = at + n;
        while (at < end) {
            int len = Math.min(end - at, 1 + random.nextInt(most));
            parts.add(switch (random.nextInt(3)) {
                case 0 -> java.util.Arrays.copyOfRange(stream, at, at + len);
                case 1 -> ByteBuffer.wrap(stream, at, len);
                default -> MemorySegment.ofArray(stream).asSlice(at, len);
            });
            at += len;
        }
        return parts;
    }

    @Override
    public void onReceived(TcpConnection c, MemorySegment data) {
        guard(c, () -> {
            long n = data.byteSize();
            if (received + n > accepted) {
                swarm.violation(describe() + ": " + (received + n) + " bytes echoed but only " + accepted + " sent");
                c.hardClose();
                return;
            }
            long mismatch = data.mismatch(MemorySegment.ofArray(stream).asSlice(received, n));
            if (mismatch >= 0) {
                swarm.violation(describe() + ": echo differs from the stream at byte " + (received + mismatch));
                c.hardClose();
                return;
            }
            received += n;
            messages++;
            if (received == stream.length && plan.ending() != SwarmPlan.Ending.CLIENT_ABORTS) {
                closeNow(c); // also ends SERVER_CLOSES whose server would close only later than the stream
                return;
            }
            if (plan.ending() == SwarmPlan.Ending.CLIENT_ABORTS
                    && (received >= plan.abortAfter() || received == stream.length)) {
                c.hardClose();
                return;
            }
            if (plan.clientMuteEvery() > 0 && messages % plan.clientMuteEvery() == 0 && !mutedForTimer
                    && !closeCalled && c.setTimer(new TimerDuration(1 + random.nextInt(3))) instanceof TimerToken) {
                mutedForTimer = true;
                c.mute();
                trace("mute at " + received);
            }
            if (plan.clientYieldEvery() > 0 && messages % plan.clientYieldEvery() == 0) {
                c.yieldRead();
            }
        });
    }

    @Override
    public void onTimer(TcpConnection c, TimerToken token) {
        guard(c, () -> {
            mutedForTimer = false;
            c.unmute();
            trace("timer " + token.id() + " unmute");
        });
    }

    private void closeNow(TcpConnection c) {
        if (closeCalled) {
            return;
        }
        closeCalled = true;
        if (c.isMuted()) {
            c.unmute(); // close() on a muted connection is a hard close
        }
        c.close();
    }

    @Override
    public void onClosed(TcpConnection c) {
        closed = true;
        ended();
    }

    @Override
    String describe() {
        return "client " + plan.seed() + (plan.tls() ? " tls " : " ") + plan.ending();
    }

    @Override
    public String toString() {
        return describe() + ": stream " + stream.length + ", accepted " + accepted + ", received " + received
                + ", connected " + connected + ", closed " + closed + ", failed " + failed + ", closeCalled "
                + closeCalled + ", mutedForTimer " + mutedForTimer + ", " + ledger + "\n  " + plan + "\n  trace " + trace
                + " now " + System.nanoTime() / 1_000_000;
    }
}
