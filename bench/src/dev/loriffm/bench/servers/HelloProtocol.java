package dev.loriffm.bench.servers;

import java.nio.charset.StandardCharsets;

/**
 * The application logic every benchmark server shares, so that the transport is what differs:
 * minimal HTTP/1.1 request framing (count {@code \r\n\r\n} terminators across reads) and one fixed
 * response per request. Each server feeds the bytes of one read to a per-connection {@link Heads}
 * and writes {@code count} copies of {@link #RESPONSE} with one flush for the whole batch.
 */
public final class HelloProtocol {
    /** The whole response to one request; never modified. */
    public static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\n"
            + "Hello, World!").getBytes(StandardCharsets.US_ASCII);

    private HelloProtocol() { }

    /**
     * Counts request heads in a byte stream. The partial match carries over between reads, so a
     * terminator split across two reads still counts once. One per connection; not thread-safe.
     */
    public static final class Heads {
        // How many bytes of \r\n\r\n the stream has matched so far (0..3).
        private int matched;

        /** Feeds one byte; {@return true if it completed a request head} */
        public boolean feed(byte b) {
            int m = matched;
            boolean done = false;
            if (b == (m == 0 || m == 2 ? '\r' : '\n')) {
                if (++m == 4) {
                    done = true;
                    m = 0;
                }
            } else {
                m = b == '\r' ? 1 : 0; // a mismatched byte can still start the next terminator
            }
            matched = m;
            return done;
        }
    }
}
