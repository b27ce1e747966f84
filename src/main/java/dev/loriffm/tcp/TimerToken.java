package dev.loriffm.tcp;

/**
 * Identifies one user timer of a connection ({@link TcpConnection#setTimer}); {@code onTimer}
 * receives it. Ids are per connection, start at 1 and increase by one per timer set.
 *
 * @param id the token's number within its connection
 */
public record TimerToken(long id) implements SetTimerResult { }
