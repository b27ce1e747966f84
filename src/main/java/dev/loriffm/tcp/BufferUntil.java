package dev.loriffm.tcp;

/**
 * How {@link TcpConnection#bufferUntil} frames received data: {@link BufferSize} delivers
 * messages of exactly that many bytes, {@link Streaming} delivers whatever has arrived.
 */
public sealed interface BufferUntil permits BufferSize, Streaming { }
