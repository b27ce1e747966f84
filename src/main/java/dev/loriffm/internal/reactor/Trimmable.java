package dev.loriffm.internal.reactor;

/**
 * Memory its owner can give back while idle, such as a connection's read buffer: the loop sweeps
 * the registered ones about once per {@link Reactor#SWEEP_PERIOD_NS} (see
 * {@link Reactor#trimWhenIdle}), so idle connections cost no buffer memory while busy ones keep
 * theirs and allocate nothing per message.
 */
@FunctionalInterface
public interface Trimmable {
    /**
     * Frees the memory if it was not used since the previous sweep. Called on the loop thread.
     *
     * @return true to stay registered (still holding memory), false once it holds none
     */
    boolean sweep();
}
