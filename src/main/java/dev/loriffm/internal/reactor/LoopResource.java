package dev.loriffm.internal.reactor;

/**
 * Something a loop must release when it shuts down with the resource still open: a connection or
 * a listener. Called on the loop thread only.
 */
public interface LoopResource {
    /** Releases the resource as its hard close does, firing the callbacks a hard close fires. */
    void shutdown();
}
