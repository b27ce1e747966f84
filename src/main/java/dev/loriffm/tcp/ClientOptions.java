package dev.loriffm.tcp;

import java.util.Objects;

/**
 * The optional parameters of a client connection; {@link #DEFAULT} has lori's defaults.
 *
 * @param from              a local address to bind before connecting ({@code ""} for none), numeric
 * @param readBufferSize    the read buffer size
 * @param ipVersion         which address families to connect over
 * @param connectionTimeout how long connecting may take, or {@code null} for no limit
 * @param happyEyeballs     how the resolved addresses are tried
 */
public record ClientOptions(String from, ReadBufferSize readBufferSize, IpVersion ipVersion,
                            ConnectionTimeout connectionTimeout, HappyEyeballs happyEyeballs) {
    /** RFC 8305's recommended delay before starting the next connection attempt. */
    public static final long RFC8305_ATTEMPT_DELAY_MS = 250;

    /** No local bind, 16 KiB buffer, dual stack, no timeout, parallel attempts. */
    public static final ClientOptions DEFAULT = new ClientOptions("", ReadBufferSize.DEFAULT,
            IpVersion.DUAL_STACK, null, HappyEyeballs.PARALLEL);

    /** @throws NullPointerException if any parameter but {@code connectionTimeout} is null */
    public ClientOptions {
        Objects.requireNonNull(from, "from (use \"\" for no local bind)");
        Objects.requireNonNull(readBufferSize, "readBufferSize");
        Objects.requireNonNull(ipVersion, "ipVersion");
        Objects.requireNonNull(happyEyeballs, "happyEyeballs");
    }

    /** {@return a copy binding locally to {@code from} before connecting} */
    public ClientOptions withFrom(String from) {
        return new ClientOptions(from, readBufferSize, ipVersion, connectionTimeout, happyEyeballs);
    }

    /** {@return a copy with the read buffer size} */
    public ClientOptions withReadBufferSize(ReadBufferSize size) {
        return new ClientOptions(from, size, ipVersion, connectionTimeout, happyEyeballs);
    }

    /** {@return a copy connecting over {@code version}} */
    public ClientOptions withIpVersion(IpVersion version) {
        return new ClientOptions(from, readBufferSize, version, connectionTimeout, happyEyeballs);
    }

    /** {@return a copy with a connection timeout ({@code null} for none)} */
    public ClientOptions withConnectionTimeout(ConnectionTimeout timeout) {
        return new ClientOptions(from, readBufferSize, ipVersion, timeout, happyEyeballs);
    }

    /** {@return a copy trying addresses with {@code strategy}} */
    public ClientOptions withHappyEyeballs(HappyEyeballs strategy) {
        return new ClientOptions(from, readBufferSize, ipVersion, connectionTimeout, strategy);
    }
}
