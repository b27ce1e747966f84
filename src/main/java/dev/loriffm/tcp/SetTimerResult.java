package dev.loriffm.tcp;

/** What {@link TcpConnection#setTimer} returns: the {@link TimerToken}, or the {@link SetTimerError}. */
public sealed interface SetTimerResult permits TimerToken, SetTimerError { }
