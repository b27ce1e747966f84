package dev.loriffm.tcp;

/** How a client tries the addresses a host name resolves to. */
public enum HappyEyeballs {
    /**
     * lori's behaviour (the default): connect to every address at once, in parallel; the first to
     * connect wins and the others are closed.
     */
    PARALLEL,
    /**
     * RFC 8305: order the addresses alternating families (IPv6 first), start one attempt, and start
     * the next after {@value ClientOptions#RFC8305_ATTEMPT_DELAY_MS} ms or as soon as an attempt
     * fails; the first to connect wins.
     */
    RFC8305
}
