package dev.loriffm.tcp;

import dev.loriffm.internal.reactor.Reactor;
import dev.loriffm.internal.sys.NativeScratch;
import dev.loriffm.internal.sys.OpenSsl;
import dev.loriffm.internal.sys.SslSession;
import dev.loriffm.internal.tls.NativeSslContext;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A connection's TLS layer: its {@link SslSession} and the rules for moving bytes between socket,
 * session and write queue. The connection's read buffer then holds plaintext, framed by
 * {@code bufferUntil} as in plaintext.
 *
 * <p>Ciphertext is received into the loop's staging memory and handed to the session's memory BIO
 * at once (which copies it), so a connection holds no receive buffer of its own. Ciphertext to
 * send is written from the staging memory when nothing is queued ahead of it (see
 * {@code TcpConnection.queueTlsOutput}); otherwise it is drained into heap arrays held by the
 * write queue (a heap array needs no release). Plaintext sent
 * from heap memory is staged in the loop's native staging area, as OpenSSL needs native memory.
 *
 * <p>Loop-confined. {@link #close()} frees the session and the context reference once.
 */
final class TlsChannel {
    private static final int CIPHERTEXT_CHUNK = 17 * 1024; // a TLS record and its overhead

    private final SslSession session;
    private final NativeSslContext context;
    private final Reactor loop;
    // The first CIPHERTEXT_CHUNK bytes of the loop's staging memory: free whenever receive runs,
    // since every other user of the staging memory is done with it before it returns.
    private final MemorySegment ciphertextIn;
    private boolean closeNotifySent;
    private boolean closeNotifyReceived;
    private boolean closed;
    // Client: where to keep this session for resumption ("host:port"), or null.
    private String sessionKey;

    private TlsChannel(SslSession session, NativeSslContext context, Reactor loop) {
        this.session = session;
        this.context = context;
        this.loop = loop;
        this.ciphertextIn = loop.scratch().staging().asSlice(0, CIPHERTEXT_CHUNK);
    }

    /**
     * Creates the TLS layer of one connection on its loop thread.
     *
     * @param serverName the host to verify and send as SNI (clients), or null / empty for none
     * @param errors     receives OpenSSL's errors if the session cannot be created
     * @return the channel, or null if the context is closed or the session could not be created
     */
    static TlsChannel open(NativeSslContext context, Reactor loop, String serverName, List<OpenSsl.SslError> errors) {
        return open(context, loop, serverName, null, errors);
    }

    /**
     * As {@link #open(NativeSslContext, Reactor, String, List)}; a client with a {@code sessionKey}
     * ({@code "host:port"}) resumes the session it kept from its last connection to that server.
     */
    static TlsChannel open(NativeSslContext context, Reactor loop, String serverName, String sessionKey,
                           List<OpenSsl.SslError> errors) {
        if (!context.acquire()) {
            return null;
        }
        SslSession session = SslSession.create(context.sslCtx(), context.client(), errors);
        if (session == null) {
            context.release();
            return null;
        }
        if (context.client() && serverName != null && !serverName.isEmpty()
                && !session.serverName(serverName, context.hostnameVerification())) {
            errors.addAll(session.lastErrors());
            session.close();
            context.release();
            return null;
        }
        TlsChannel channel = new TlsChannel(session, context, loop);
        if (sessionKey != null && context.clientResumption()) {
            channel.sessionKey = sessionKey;
            context.offerSession(sessionKey, session);
        }
        return channel;
    }

    /** {@return 0 when the handshake is complete, else an {@link SslSession} code} */
    int handshake() {
        return session.handshake(loop.scratch());
    }

    /** Decrypts into {@code into}. {@return bytes, or an {@link SslSession} code} */
    long read(MemorySegment into) {
        return session.read(loop.scratch(), into);
    }

    /** {@return how many ciphertext bytes one {@link #receive} asks the socket for} */
    long receiveCapacity() {
        return ciphertextIn.byteSize();
    }

    /**
     * Reads ciphertext from the socket and hands it to the session.
     *
     * @return bytes read, 0 at end of stream, or {@code -errno}
     */

    long receive(TcpBackend backend, int fd) {
        long n = backend.receive(loop, fd, ciphertextIn);
        if (n > 0 && !closeNotifyReceived && session.feed(ciphertextIn.asSlice(0, n)) < 0) {
            return SslSession.FAILED;
        }
        return n;
    }

    /**
     * Encrypts {@code plaintext} (heap or native) into the session's output.
     *
     * @return false if the session refused it (nothing usable was queued)
     */
    boolean encrypt(MemorySegment plaintext) {
        if (plaintext.isNative()) {
            return writeAll(plaintext);
        }
        MemorySegment staging = loop.scratch().staging();
        long offset = 0;
        long size = plaintext.byteSize();
        while (offset < size) {
            long chunk = Math.min(staging.byteSize(), size - offset);
            MemorySegment.copy(plaintext, offset, staging, 0, chunk);
            if (!writeAll(staging.asSlice(0, chunk))) {
                return false;
            }
            offset += chunk;
        }
        return true;
    }

    /**
     * Encrypts several buffers as one stream (a gathered send). Small parts are copied together
     * into the loop's staging memory before encryption, because the session makes at least one
     * record per write: a thousand 1-byte parts written one by one would cost a thousand records
     * of 22+ bytes each on the wire, and the peer a thousand decryptions. Large native parts are
     * encrypted in place, after what was gathered before them.
     *
     * @return false if the session refused the data (nothing usable was queued)
     */
    boolean encrypt(MemorySegment[] parts) {
        if (parts.length == 1) {
            return encrypt(parts[0]);
        }
        MemorySegment staging = loop.scratch().staging();
        long capacity = staging.byteSize();
        long filled = 0;
        for (MemorySegment part : parts) {
            long size = part.byteSize();
            if (part.isNative() && size >= capacity / 4) {
                if (filled > 0 && !writeAll(staging.asSlice(0, filled))) {
                    return false;
                }
                filled = 0;
                if (!writeAll(part)) {
                    return false;
                }
                continue;
            }
            long offset = 0;
            while (offset < size) {
                long chunk = Math.min(capacity - filled, size - offset);
                MemorySegment.copy(part, offset, staging, filled, chunk);
                filled += chunk;
                offset += chunk;
                if (filled == capacity) {
                    if (!writeAll(staging)) {
                        return false;
                    }
                    filled = 0;
                }
            }
        }
        return filled == 0 || writeAll(staging.asSlice(0, filled));
    }

    /**
     * Writes all of {@code plaintext}: with {@code SSL_MODE_ENABLE_PARTIAL_WRITE} one call may take
     * only a record's worth, so keep going until the session has it all.
     */
    private boolean writeAll(MemorySegment plaintext) {
        NativeScratch scratch = loop.scratch();
        long offset = 0;
        long size = plaintext.byteSize();
        while (offset < size) {
            long n = session.write(scratch, offset == 0 ? plaintext : plaintext.asSlice(offset));
            if (n <= 0) {
                return false;
            }
            offset += n;
        }
        return true;
    }

    /**
     * Moves waiting ciphertext into the start of {@code area} (the loop's staging memory).
     *
     * @return the bytes moved, 0 if none waited
     */
    int drainInto(MemorySegment area) {
        return session.pendingOutput() > 0 ? session.drainOutput(area) : 0;
    }

    /** Moves the ciphertext the session produced into {@code writes}. {@return whether there was any} */
    boolean moveOutput(WriteQueue writes) {
        boolean any = false;
        long pending;
        while ((pending = session.pendingOutput()) > 0) {
            byte[] chunk = new byte[(int) Math.min(pending, 64 * 1024)];
            int n = session.drainOutput(MemorySegment.ofArray(chunk));
            if (n <= 0) {
                break;
            }
            writes.add(MemorySegment.ofArray(chunk).asSlice(0, n));
            any = true;
        }
        return any;
    }

    /** Queues close_notify once; {@return whether it was queued now} */
    boolean closeNotify() {
        if (closeNotifySent) {
            return false;
        }
        closeNotifySent = true;
        session.closeNotify(loop.scratch());
        return true;
    }

    /** The peer's close_notify arrived: later ciphertext is no longer decrypted. */
    void markCloseNotifyReceived() {
        closeNotifyReceived = true;
    }

    boolean closeNotifyReceived() {
        return closeNotifyReceived;
    }

    TlsInfo info() {
        dev.loriffm.internal.sys.SslPeerCertificates.Peer peer = session.peer();
        return new TlsInfo(session.protocol(), session.cipher(), session.alpn(), session.resumed(),
                peer.subject(), peer.altNames(), peer.chainSubjects());
    }

    /** {@return a description of the last failure: the verification result or OpenSSL's errors} */
    String failureText() {
        long verify = session.verifyResult();
        List<String> texts = new ArrayList<>();
        if (verify != 0) {
            texts.add("certificate verify failed: " + SslSession.verifyResultText(verify));
        }
        for (OpenSsl.SslError e : session.lastErrors()) {
            texts.add(e.text());
        }
        return String.join("; ", texts);
    }

    /** Frees the session and this connection's hold on the context. Idempotent. */
    void close() {
        if (!closed) {
            closed = true;
            if (sessionKey != null && closeNotifySent) {
                MemorySegment resumable = session.resumableSession();
                if (!resumable.equals(MemorySegment.NULL)) {
                    context.keepSession(sessionKey, resumable);
                }
            }
            session.close();
            context.release();
        }
    }
}
