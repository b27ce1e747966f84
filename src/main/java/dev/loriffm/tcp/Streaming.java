package dev.loriffm.tcp;

/** Deliver received data as it arrives, without framing (the default). */
public enum Streaming implements BufferUntil {
    /** The only value. */
    STREAMING
}
