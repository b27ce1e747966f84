package dev.loriffm.tcp;

/**
 * Identifies one accepted send. Exactly one of {@code onSent(token)} or {@code onSendFailed(token)}
 * follows, in a later loop turn. Ids are per connection, start at 1 and increase by one per
 * accepted send; a refused send uses no id. Tokens of different connections are not comparable.
 *
 * <p>Compare tokens with {@code equals} (or by {@link #id()}), never with {@code ==}: the token
 * {@code onSent} receives equals the one {@code send} returned but is not the same object. The
 * runtime keeps only the id, so that a send allocates nothing that escape analysis cannot remove.
 *
 * @param id the token's number within its connection
 */
public record SendToken(long id) implements SendResult { }
