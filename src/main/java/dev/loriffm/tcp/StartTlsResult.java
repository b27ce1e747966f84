package dev.loriffm.tcp;

/** What {@link TcpConnection#startTls} returns: {@link TlsUpgradeStarted} or a {@link StartTlsError}. */
public sealed interface StartTlsResult permits TlsUpgradeStarted, StartTlsError { }
