package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.net_h;
import dev.loriffm.internal.bindings.sockaddr;
import dev.loriffm.internal.bindings.sockaddr_in;
import dev.loriffm.internal.bindings.sockaddr_in6;
import dev.loriffm.internal.bindings.sockaddr_storage;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/**
 * Converts between {@link InetSocketAddress} and {@code struct sockaddr_in}/{@code sockaddr_in6}.
 * Ports are stored in network byte order through big-endian views of the generated field layouts.
 *
 * <p>Thread-safe: stateless.
 */
public final class SocketAddresses {
    static final int AF_INET = net_h.AF_INET();
    static final int AF_INET6 = net_h.AF_INET6();
    private static final ValueLayout.OfShort IN_PORT =
            sockaddr_in.sin_port$layout().withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort IN6_PORT =
            sockaddr_in6.sin6_port$layout().withOrder(ByteOrder.BIG_ENDIAN);

    private SocketAddresses() { }

    /**
     * Writes {@code address} into {@code storage} (at least {@code sockaddr_storage} bytes).
     *
     * @return the length to pass as {@code socklen_t}
     * @throws IllegalArgumentException if the address is unresolved
     */
    public static int write(InetSocketAddress address, MemorySegment storage) {
        InetAddress ip = address.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address " + address);
        }
        storage.asSlice(0, sockaddr_storage.sizeof()).fill((byte) 0);
        if (ip instanceof Inet4Address) {
            sockaddr_in.sin_family(storage, (short) AF_INET);
            storage.set(IN_PORT, sockaddr_in.sin_port$offset(), (short) address.getPort());
            MemorySegment.copy(MemorySegment.ofArray(ip.getAddress()), 0, storage,
                    sockaddr_in.sin_addr$offset(), 4);
            return (int) sockaddr_in.sizeof();
        }
        Inet6Address ip6 = (Inet6Address) ip;
        sockaddr_in6.sin6_family(storage, (short) AF_INET6);
        storage.set(IN6_PORT, sockaddr_in6.sin6_port$offset(), (short) address.getPort());
        MemorySegment.copy(MemorySegment.ofArray(ip6.getAddress()), 0, storage,
                sockaddr_in6.sin6_addr$offset(), 16);
        sockaddr_in6.sin6_scope_id(storage, ip6.getScopeId());
        return (int) sockaddr_in6.sizeof();
    }

    /**
     * {@return the address in {@code storage}, or null if its family is neither AF_INET nor AF_INET6}
     *
     * @param length the {@code socklen_t} the kernel reported
     */
    public static InetSocketAddress read(MemorySegment storage, int length) {
        int family = sockaddr.sa_family(storage) & 0xFFFF;
        try {
            if (family == AF_INET && length >= sockaddr_in.sizeof()) {
                byte[] ip = storage.asSlice(sockaddr_in.sin_addr$offset(), 4).toArray(ValueLayout.JAVA_BYTE);
                int port = storage.get(IN_PORT, sockaddr_in.sin_port$offset()) & 0xFFFF;
                return new InetSocketAddress(InetAddress.getByAddress(ip), port);
            }
            if (family == AF_INET6 && length >= sockaddr_in6.sizeof()) {
                byte[] ip = storage.asSlice(sockaddr_in6.sin6_addr$offset(), 16).toArray(ValueLayout.JAVA_BYTE);
                int port = storage.get(IN6_PORT, sockaddr_in6.sin6_port$offset()) & 0xFFFF;
                int scope = sockaddr_in6.sin6_scope_id(storage);
                return new InetSocketAddress(Inet6Address.getByAddress(null, ip, scope), port);
            }
        } catch (UnknownHostException e) {
            // Only thrown for a wrong address length, which the sizes above rule out.
            throw new IllegalStateException(e);
        }
        return null;
    }
}
