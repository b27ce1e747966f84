package dev.loriffm.tcp;

/**
 * The result of {@link TcpConnection#resizeReadBuffer}: {@link ReadBufferResized},
 * {@link ReadBufferResizeBelowBufferSize} or {@link ReadBufferResizeBelowUsed}.
 */
public sealed interface ReadBufferResizeResult
        permits ReadBufferResized, ReadBufferResizeBelowBufferSize, ReadBufferResizeBelowUsed { }
