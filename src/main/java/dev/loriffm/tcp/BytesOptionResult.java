package dev.loriffm.tcp;

/**
 * The result of {@link TcpConnection#getsockopt}: {@code errno} 0 and the bytes the kernel wrote
 * (exactly as many as it reported), or a non-zero {@code errno} (1 when not open) and no bytes.
 *
 * @param errno 0 on success
 * @param value the option's bytes; empty on failure
 */
public record BytesOptionResult(int errno, byte[] value) {
    /** {@return whether the read succeeded} */
    public boolean ok() {
        return errno == 0;
    }
}
