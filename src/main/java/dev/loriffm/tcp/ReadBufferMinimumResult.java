package dev.loriffm.tcp;

/**
 * The result of {@link TcpConnection#setReadBufferMinimum}: {@link ReadBufferResized} or
 * {@link ReadBufferResizeBelowBufferSize}.
 */
public sealed interface ReadBufferMinimumResult permits ReadBufferResized, ReadBufferResizeBelowBufferSize { }
