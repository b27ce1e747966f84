package dev.loriffm.tcp;

/** Why a server connection never started ({@code onStartFailure}). */
public enum StartFailure {
    /** The TLS session could not be created or its handshake failed. */
    SSL
}
