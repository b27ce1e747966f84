package dev.loriffm.tcp;

import dev.loriffm.internal.sys.SockOpts;

/**
 * Socket option levels and names for the generic {@code getsockopt}/{@code setsockopt} methods of
 * {@link TcpConnection}, with this platform's values (lori's {@code OSSockOpt}). Every value comes
 * from the generated bindings of the system headers.
 *
 * <p>Thread-safe: constants.
 */
public final class OsSockOpt {
    /** {@code SOL_SOCKET}. */
    public static final int SOL_SOCKET = SockOpts.SOL_SOCKET;
    /** {@code IPPROTO_TCP}. */
    public static final int IPPROTO_TCP = SockOpts.IPPROTO_TCP;
    /** {@code IPPROTO_IP}. */
    public static final int IPPROTO_IP = SockOpts.IPPROTO_IP;
    /** {@code IPPROTO_IPV6}. */
    public static final int IPPROTO_IPV6 = SockOpts.IPPROTO_IPV6;
    /** {@code SO_RCVBUF}. */
    public static final int SO_RCVBUF = SockOpts.SO_RCVBUF;
    /** {@code SO_SNDBUF}. */
    public static final int SO_SNDBUF = SockOpts.SO_SNDBUF;
    /** {@code SO_KEEPALIVE}. */
    public static final int SO_KEEPALIVE = SockOpts.SO_KEEPALIVE;
    /** {@code SO_REUSEADDR}. */
    public static final int SO_REUSEADDR = SockOpts.SO_REUSEADDR;
    /** {@code SO_REUSEPORT}. */
    public static final int SO_REUSEPORT = SockOpts.SO_REUSEPORT;
    /** {@code SO_LINGER}. */
    public static final int SO_LINGER = SockOpts.SO_LINGER;
    /** {@code SO_PRIORITY}. */
    public static final int SO_PRIORITY = SockOpts.SO_PRIORITY;
    /** {@code SO_MARK}. */
    public static final int SO_MARK = SockOpts.SO_MARK;
    /** {@code SO_ERROR}. */
    public static final int SO_ERROR = SockOpts.SO_ERROR;
    /** {@code TCP_NODELAY}. */
    public static final int TCP_NODELAY = SockOpts.TCP_NODELAY;
    /** {@code TCP_MAXSEG}. */
    public static final int TCP_MAXSEG = SockOpts.TCP_MAXSEG;
    /** {@code TCP_CORK}. */
    public static final int TCP_CORK = SockOpts.TCP_CORK;
    /** {@code TCP_KEEPIDLE}. */
    public static final int TCP_KEEPIDLE = SockOpts.TCP_KEEPIDLE;
    /** {@code TCP_KEEPINTVL}. */
    public static final int TCP_KEEPINTVL = SockOpts.TCP_KEEPINTVL;
    /** {@code TCP_KEEPCNT}. */
    public static final int TCP_KEEPCNT = SockOpts.TCP_KEEPCNT;
    /** {@code TCP_QUICKACK}. */
    public static final int TCP_QUICKACK = SockOpts.TCP_QUICKACK;
    /** {@code TCP_CONGESTION}. */
    public static final int TCP_CONGESTION = SockOpts.TCP_CONGESTION;
    /** {@code TCP_USER_TIMEOUT}. */
    public static final int TCP_USER_TIMEOUT = SockOpts.TCP_USER_TIMEOUT;
    /** {@code TCP_NOTSENT_LOWAT}. */
    public static final int TCP_NOTSENT_LOWAT = SockOpts.TCP_NOTSENT_LOWAT;
    /** {@code TCP_INFO}. */
    public static final int TCP_INFO = SockOpts.TCP_INFO;
    /** {@code TCP_DEFER_ACCEPT}. */
    public static final int TCP_DEFER_ACCEPT = SockOpts.TCP_DEFER_ACCEPT;
    /** {@code TCP_FASTOPEN}. */
    public static final int TCP_FASTOPEN = SockOpts.TCP_FASTOPEN;
    /** {@code IP_TOS}. */
    public static final int IP_TOS = SockOpts.IP_TOS;
    /** {@code IP_TTL}. */
    public static final int IP_TTL = SockOpts.IP_TTL;
    /** {@code IPV6_TCLASS}. */
    public static final int IPV6_TCLASS = SockOpts.IPV6_TCLASS;
    /** {@code IPV6_UNICAST_HOPS}. */
    public static final int IPV6_UNICAST_HOPS = SockOpts.IPV6_UNICAST_HOPS;
    /** {@code IPV6_V6ONLY}. */
    public static final int IPV6_V6ONLY = SockOpts.IPV6_V6ONLY;

    private OsSockOpt() { }
}
