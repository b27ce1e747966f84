package dev.loriffm.internal.sys;

import dev.loriffm.internal.bindings.BindingsManifest;
import dev.loriffm.internal.bindings.addrinfo;
import dev.loriffm.internal.bindings.net_h;
import dev.loriffm.internal.bindings.sockaddr_storage;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Name resolution with {@code getaddrinfo}: TCP addresses for a host and port.
 *
 * <p><b>Blocking:</b> never call it on an event-loop thread. Thread-safe: each call uses its own
 * confined arena and frees everything it was given before returning.
 */
public final class Dns {
    /** Which address families to ask for. */
    public enum Family {
        /** IPv4 and IPv6. */
        ANY(net_h.AF_UNSPEC()),
        /** IPv4 only. */
        IP4(net_h.AF_INET()),
        /** IPv6 only. */
        IP6(net_h.AF_INET6());

        final int af;

        Family(int af) {
            this.af = af;
        }
    }

    /** The outcome of {@link #resolve}. */
    public sealed interface Resolution permits Resolved, Failed { }

    /**
     * The host resolved.
     *
     * @param addresses every distinct address in the resolver's order; never empty
     */
    public record Resolved(List<InetSocketAddress> addresses) implements Resolution {
        /** Copies the list. */
        public Resolved {
            addresses = List.copyOf(addresses);
        }
    }

    /**
     * The host did not resolve.
     *
     * @param code    the {@code EAI_*} code getaddrinfo returned (negative on glibc)
     * @param name    the code's symbolic name, e.g. {@code "EAI_NONAME"}
     * @param message {@code gai_strerror(code)}, with the errno description added for {@code EAI_SYSTEM}
     */
    public record Failed(int code, String name, String message) implements Resolution { }

    // An addrinfo list longer than this is treated as corrupt rather than walked forever.
    private static final int MAX_RESULTS = 1024;
    private static final Map<Integer, String> EAI_NAMES = eaiNames();

    private Dns() { }

    private static Map<Integer, String> eaiNames() {
        Map<Integer, String> names = new HashMap<>();
        for (BindingsManifest.Constant c : BindingsManifest.constants()) {
            if (c.name().startsWith("EAI_")) {
                names.putIfAbsent((int) c.value(), c.name());
            }
        }
        return Map.copyOf(names);
    }

    /**
     * Resolves {@code host} for TCP connections to {@code port}.
     *
     * @param host    a host name or a numeric IPv4/IPv6 address
     * @param port    0..65535
     * @param family  which families to return
     * @param numeric if true, {@code host} must be numeric and no lookup is made ({@code AI_NUMERICHOST})
     * @return {@link Resolved} with at least one address, or {@link Failed} naming the resolver's error
     * @throws IllegalArgumentException if {@code port} is out of range or {@code host} is empty or contains NUL
     */
    public static Resolution resolve(String host, int port, Family family, boolean numeric) {
        return resolve(host, port, family, numeric, false, false);
    }

    /**
     * Resolves {@code host} as {@link #resolve(String, int, Family, boolean)} does, with more hints.
     *
     * @param passive    {@code AI_PASSIVE}: addresses to bind and listen on
     * @param addrConfig {@code AI_ADDRCONFIG}: only families this host has a (non-loopback) address of
     */
    public static Resolution resolve(String host, int port, Family family, boolean numeric, boolean passive,
                                     boolean addrConfig) {
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("port " + port + " is outside 0..65535");
        }
        if (host.isEmpty() || host.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("host must be a non-empty name without NUL characters");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(Linker.Option.captureStateLayout());
            MemorySegment hints = addrinfo.allocate(arena);
            addrinfo.ai_family(hints, family.af);
            addrinfo.ai_socktype(hints, net_h.SOCK_STREAM());
            addrinfo.ai_flags(hints, net_h.AI_NUMERICSERV() | (numeric ? net_h.AI_NUMERICHOST() : 0)
                    | (passive ? net_h.AI_PASSIVE() : 0) | (addrConfig ? net_h.AI_ADDRCONFIG() : 0));
            MemorySegment result = arena.allocate(net_h.C_POINTER);
            int code = net_h.getaddrinfo(capture, arena.allocateFrom(host), arena.allocateFrom(Integer.toString(port)),
                    hints, result);
            if (code != 0) {
                int errno = NativeScratch.errnoIn(capture);
                return failed(code, errno);
            }
            MemorySegment list = result.get(net_h.C_POINTER, 0);
            try {
                return new Resolved(addresses(list));
            } finally {
                net_h.freeaddrinfo(list);
            }
        }
    }

    private static Failed failed(int code, int errno) {
        String name = EAI_NAMES.getOrDefault(code, "EAI " + code);
        String message = CStrings.read(net_h.gai_strerror(code), 256);
        if (code == net_h.EAI_SYSTEM()) {
            message = message + ": " + Errno.describe(errno);
        }
        return new Failed(code, name, message);
    }

    @SuppressWarnings("restricted")
    private static List<InetSocketAddress> addresses(MemorySegment first) {
        Set<InetSocketAddress> out = new LinkedHashSet<>();
        MemorySegment node = first;
        for (int i = 0; i < MAX_RESULTS && !node.equals(MemorySegment.NULL); i++) {
            // getaddrinfo returns struct addrinfo nodes: size them exactly as the header declares.
            MemorySegment info = node.reinterpret(addrinfo.sizeof());
            int length = addrinfo.ai_addrlen(info);
            MemorySegment address = addrinfo.ai_addr(info);
            if (length > 0 && length <= sockaddr_storage.sizeof() && !address.equals(MemorySegment.NULL)) {
                // ai_addrlen is the kernel-format length of ai_addr, bounded by sockaddr_storage above.
                InetSocketAddress decoded = SocketAddresses.read(address.reinterpret(length), length);
                if (decoded != null) {
                    out.add(decoded);
                }
            }
            node = addrinfo.ai_next(info);
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("getaddrinfo succeeded without an IP address");
        }
        return new ArrayList<>(out);
    }
}
