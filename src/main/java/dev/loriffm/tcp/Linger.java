package dev.loriffm.tcp;

/**
 * {@code SO_LINGER}: whether {@code close} waits up to {@code seconds} for unsent data (on, with
 * 0 seconds: the connection is reset instead of closed gracefully).
 *
 * @param on      whether lingering is enabled
 * @param seconds the linger time
 */
public record Linger(boolean on, int seconds) { }
