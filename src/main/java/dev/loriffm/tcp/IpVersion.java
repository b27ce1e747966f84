package dev.loriffm.tcp;

/** Which IP versions a client connects over or a listener binds. */
public enum IpVersion {
    /** IPv4 only. */
    IP4,
    /** IPv6 only. */
    IP6,
    /** Both: clients try every address the name resolves to; listeners bind a dual-stack socket. */
    DUAL_STACK
}
