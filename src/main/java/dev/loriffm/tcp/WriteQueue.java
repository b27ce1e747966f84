package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.Fds;
import dev.loriffm.internal.sys.NativeScratch;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes accepted by {@code send} and not yet handed to the kernel, and the tokens waiting for
 * them (lori's {@code _PendingWrites} plus the token FIFO). The only code that changes the queue,
 * the offset into its first buffer and the byte counters, so they cannot drift apart.
 *
 * <p>Buffers are held by reference (no copy at {@code send}); heap buffers are staged into the
 * loop's native staging area only when several are gathered into one {@code sendmsg}.
 * Loop-confined: not thread-safe.
 */
final class WriteQueue {
    // Unsent buffers in send order; never holds an empty buffer.
    // Small initial capacities: every idle connection carries this queue (10,000 idle connections
    // must cost no more than Netty's); the arrays double when a burst needs more.
    private final ArrayDeque<MemorySegment> buffers = new ArrayDeque<>(3);
    // Bytes of buffers.peekFirst() already written.
    private long headOffset;
    // Bytes accepted / written since the queue was last empty; a token completes once
    // written >= its completion offset.
    private long accepted;
    private long written;
    // FIFO of token ids and their completion offsets, as a ring of parallel arrays. Ids, not
    // SendToken objects: the queue then allocates nothing per send (see TcpConnection.accept).
    private long[] tokens = new long[4];
    private long[] offsets = new long[4];
    private int tokenHead;
    private int tokenCount;

    /** Appends a buffer (empty ones are skipped). */
    void add(MemorySegment buffer) {
        long size = buffer.byteSize();
        if (size > 0) {
            buffers.addLast(buffer);
            accepted += size;
        }
    }

    /**
     * If the queue still holds {@code data} (the buffer last added: the kernel did not take all of
     * it), replaces it with a heap copy of its unwritten bytes, so the caller may reuse it.
     */
    void detach(MemorySegment data) {
        if (buffers.isEmpty() || buffers.peekLast() != data) {
            return;
        }
        buffers.pollLast();
        MemorySegment unwritten = buffers.isEmpty() && headOffset > 0 ? data.asSlice(headOffset) : data;
        if (buffers.isEmpty()) {
            headOffset = 0;
        }
        buffers.addLast(MemorySegment.ofArray(unwritten.toArray(ValueLayout.JAVA_BYTE)));
    }

    /** Records token {@code id} (positive) as complete once every byte added so far is written. */
    void addToken(long id) {
        if (tokenCount == tokens.length) {
            grow();
        }
        int slot = (tokenHead + tokenCount) & (tokens.length - 1);
        tokens[slot] = id;
        offsets[slot] = accepted;
        tokenCount++;
    }

    private void grow() {
        int n = tokens.length;
        long[] t = new long[n * 2];
        long[] o = new long[n * 2];
        for (int i = 0; i < tokenCount; i++) {
            t[i] = tokens[(tokenHead + i) & (n - 1)];
            o[i] = offsets[(tokenHead + i) & (n - 1)];
        }
        tokens = t;
        offsets = o;
        tokenHead = 0;
    }

    /** {@return the bytes accepted and not yet written} */
    long queuedBytes() {
        return accepted - written;
    }

    /** {@return whether no bytes wait to be written} */
    boolean hasNoBytes() {
        return buffers.isEmpty();
    }

    /**
     * {@return the id of the oldest token whose bytes are all written (removed), or 0 if none}
     * When the last token completes with no bytes left, the counters restart from zero.
     */
    long pollCompleted() {
        if (tokenCount == 0 || offsets[tokenHead] > written) {
            return 0;
        }
        long token = tokens[tokenHead];
        tokenHead = (tokenHead + 1) & (tokens.length - 1);
        tokenCount--;
        if (tokenCount == 0 && buffers.isEmpty()) {
            accepted = 0;
            written = 0;
        }
        return token;
    }

    /** Removes every buffer and returns the tokens that did not complete, in order. */
    List<SendToken> clear() {
        List<SendToken> unsent = new ArrayList<>(tokenCount);
        for (int i = 0; i < tokenCount; i++) {
            int slot = (tokenHead + i) & (tokens.length - 1);
            unsent.add(new SendToken(tokens[slot]));
        }
        tokenHead = 0;
        tokenCount = 0;
        buffers.clear();
        headOffset = 0;
        accepted = 0;
        written = 0;
        return unsent;
    }

    /** The outcome of one write attempt. */
    static final class Attempt {
        /** Bytes offered to the kernel. */
        long offered;
        /** Bytes written, or {@code -errno}. */
        long result;
    }

    /**
     * Writes as much of the queue as one system call takes: {@code send} for a single buffer
     * (heap buffers go straight in), otherwise {@code sendmsg} over up to {@code IOV_MAX} iovecs.
     * Updates the queue by what was written.
     */
    void writeOnce(TcpBackend backend, Reactor loop, int fd, Attempt attempt) {
        MemorySegment first = buffers.peekFirst();
        long result;
        if (buffers.size() == 1) {
            MemorySegment rest = headOffset == 0 ? first : first.asSlice(headOffset);
            attempt.offered = rest.byteSize();
            result = backend.send(loop, fd, rest);
        } else {
            NativeScratch scratch = loop.scratch();
            MemorySegment staging = scratch.staging();
            long staged = 0;
            long offered = 0;
            int count = 0;
            boolean firstBuffer = true;
            for (MemorySegment buffer : buffers) {
                if (count == NativeScratch.IOV_MAX) {
                    break;
                }
                MemorySegment part = firstBuffer && headOffset > 0 ? buffer.asSlice(headOffset) : buffer;
                firstBuffer = false;
                if (part.isNative()) {
                    Fds.setIovec(scratch, count++, part);
                    offered += part.byteSize();
                    continue;
                }
                long room = staging.byteSize() - staged;
                if (room == 0) {
                    break;
                }
                long take = Math.min(room, part.byteSize());
                MemorySegment slot = staging.asSlice(staged, take);
                MemorySegment.copy(part, 0, slot, 0, take);
                Fds.setIovec(scratch, count++, slot);
                staged += take;
                offered += take;
                if (take < part.byteSize()) {
                    break;
                }
            }
            attempt.offered = offered;
            result = backend.sendIovecs(loop, fd, count);
        }
        attempt.result = result;
        if (result > 0) {
            consume(result);
        }
    }

    private void consume(long n) {
        written += n;
        long left = n;
        while (left > 0) {
            MemorySegment first = buffers.peekFirst();
            long remaining = first.byteSize() - headOffset;
            if (left >= remaining) {
                buffers.pollFirst();
                headOffset = 0;
                left -= remaining;
            } else {
                headOffset += left;
                left = 0;
            }
        }
    }
}
