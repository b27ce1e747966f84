package dev.loriffm.tcp;

import java.util.SplittableRandom;

/**
 * Everything the swarm chooses at random for one connection, derived from one seed so that a
 * failing connection can be replayed alone. Both sides derive the same plan: the client sends the
 * seed as the first eight bytes of its stream, and the server rebuilds the plan from them.
 *
 * <p>The client's stream is that seed followed by records, each a 4-byte big-endian payload length
 * and the payload; a framed server reads it with {@code bufferUntil}, a streaming one does not look.
 */
record SwarmPlan(long seed, boolean tls, Ending ending, int recordCount, int maxPayload,
                 // client
                 int clientReadBuffer, int maxChunk, int gatherPercent, int sendCopyPercent, int clientMuteEvery,
                 int clientYieldEvery, long abortAfter,
                 // server
                 boolean framed, int serverReadMinimum, int serverReadSize, EchoStyle echoStyle, int serverMuteEvery,
                 int serverYieldEvery, long serverCloseAfter) {

    /** The preamble: the plan's seed. */
    static final int PREAMBLE = 8;
    /** Sends of more buffers than this exceed IOV_MAX and need several {@code sendmsg} calls. */
    static final int IOV_MAX = 1024;

    /** How the connection ends. */
    enum Ending {
        /** The client gets every byte back, then closes gracefully. */
        ECHO_ALL,
        /** The client closes gracefully as soon as its last send is accepted; echoes keep arriving. */
        CLIENT_CLOSES_EARLY,
        /** The client hard-closes after receiving {@code abortAfter} bytes. */
        CLIENT_ABORTS,
        /** The server closes gracefully after receiving {@code serverCloseAfter} bytes. */
        SERVER_CLOSES,
        /** The server hard-closes after receiving {@code serverCloseAfter} bytes. */
        SERVER_ABORTS
    }

    /** How the server sends back what it received. */
    enum EchoStyle {
        /** {@code send(byte[])} of a copy. */
        COPY,
        /** {@code sendCopy} of the received slice itself. */
        SEND_COPY,
        /** {@code send(List)} of many small copies, often more than IOV_MAX of them. */
        GATHER
    }

    static SwarmPlan of(long seed, boolean tls) {
        SplittableRandom r = new SplittableRandom(seed);
        Ending ending = Ending.values()[r.nextInt(Ending.values().length)];
        int maxPayload = pick(r, 16, 1024, 16 * 1024, 64 * 1024);
        int recordCount = 1 + r.nextInt(r.nextInt(4) == 0 ? 400 : 40);
        int clientReadBuffer = pick(r, 1 + r.nextInt(64), 512, 4096, 16 * 1024, 64 * 1024);
        int maxChunk = pick(r, 1 + r.nextInt(16), 1500, 16 * 1024, 256 * 1024);
        int gatherPercent = pick(r, 0, 10, 50);
        int sendCopyPercent = pick(r, 0, 30);
        if (maxChunk < 16 || clientReadBuffer < 512) {
            // Tiny sends or reads are thousands of calls (and TLS records) per kilobyte, and a
            // mute per few messages then throttles them to kilobytes a second: keep such streams short.
            recordCount = Math.min(recordCount, 20);
            maxPayload = Math.min(maxPayload, 1024);
        }
        int clientMuteEvery = pick(r, 0, 0, 8 + r.nextInt(40));
        int clientYieldEvery = pick(r, 0, 0, 1 + r.nextInt(5));
        boolean framed = r.nextBoolean();
        int serverReadMinimum = framed ? Math.max(maxPayload, PREAMBLE) + r.nextInt(1024)
                : pick(r, PREAMBLE + r.nextInt(64), 4096, 16 * 1024);
        int serverReadSize = serverReadMinimum + pick(r, 0, r.nextInt(64 * 1024));
        EchoStyle echoStyle = EchoStyle.values()[r.nextInt(EchoStyle.values().length)];
        int serverMuteEvery = pick(r, 0, 0, 8 + r.nextInt(40));
        int serverYieldEvery = pick(r, 0, 0, 1 + r.nextInt(5));
        // Drawn after everything else so that adding a draw above does not shift them.
        long abortAfter = r.nextLong(PREAMBLE + (long) recordCount * (4 + maxPayload / 2) + 1);
        long serverCloseAfter = r.nextLong(PREAMBLE + (long) recordCount * (4 + maxPayload / 2) + 1);
        return new SwarmPlan(seed, tls, ending, recordCount, maxPayload, clientReadBuffer, maxChunk, gatherPercent,
                sendCopyPercent, clientMuteEvery, clientYieldEvery, abortAfter, framed, serverReadMinimum,
                serverReadSize, echoStyle, serverMuteEvery, serverYieldEvery, serverCloseAfter);
    }

    /** {@return the client's whole stream: the seed, then the records} */
    byte[] stream() {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        int[] sizes = new int[recordCount];
        int total = PREAMBLE;
        for (int i = 0; i < recordCount; i++) {
            // Mostly small records with a tail of large ones, and some empty ones.
            int size = switch (r.nextInt(8)) {
                case 0 -> 0;
                case 1, 2, 3 -> r.nextInt(Math.min(64, maxPayload) + 1);
                case 4, 5 -> r.nextInt(Math.min(4096, maxPayload) + 1);
                default -> r.nextInt(maxPayload + 1);
            };
            sizes[i] = size;
            total += 4 + size;
        }
        byte[] stream = new byte[total];
        putLong(stream, 0, seed);
        int at = PREAMBLE;
        for (int size : sizes) {
            putInt(stream, at, size);
            at += 4;
            for (int i = 0; i < size; i++) {
                stream[at++] = (byte) r.nextInt();
            }
        }
        return stream;
    }

    static long readLong(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[at + i] & 0xFF);
        }
        return v;
    }

    static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    private static int pick(SplittableRandom r, int... choices) {
        return choices[r.nextInt(choices.length)];
    }
}
