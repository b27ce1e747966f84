package dev.loriffm.tcp;

/**
 * What {@link TcpConnection#send} returns: the {@link SendToken} of an accepted send, or the
 * {@link SendError} that refused it. Match it with an exhaustive {@code switch}.
 */
public sealed interface SendResult permits SendToken, SendError { }
