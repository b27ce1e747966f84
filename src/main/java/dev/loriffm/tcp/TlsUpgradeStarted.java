package dev.loriffm.tcp;

/** The TLS handshake has started; {@code onTlsReady} or {@code onTlsFailure} follows. */
public enum TlsUpgradeStarted implements StartTlsResult {
    /** The only value. */
    STARTED
}
