package dev.loriffm.internal.sys;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** getaddrinfo through the bindings: typed results, typed errors with gai_strerror's text. */
class DnsTest {

    /** {@code localhost} resolves to loopback addresses with the requested port. */
    @Test
    void localhostResolvesToLoopback() {
        Dns.Resolved r = assertInstanceOf(Dns.Resolved.class, Dns.resolve("localhost", 8080, Dns.Family.ANY, false));
        assertFalse(r.addresses().isEmpty());
        for (InetSocketAddress a : r.addresses()) {
            assertTrue(a.getAddress().isLoopbackAddress(), a + " is loopback");
            assertEquals(8080, a.getPort());
        }
    }

    /** Family selection returns only that family. */
    @Test
    void numericAddressesResolveWithoutALookup() throws Exception {
        Dns.Resolved v4 = assertInstanceOf(Dns.Resolved.class, Dns.resolve("127.0.0.1", 1, Dns.Family.IP4, true));
        assertEquals(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 1), v4.addresses().getFirst());
        Dns.Resolved v6 = assertInstanceOf(Dns.Resolved.class, Dns.resolve("::1", 65535, Dns.Family.IP6, true));
        assertEquals(new InetSocketAddress(InetAddress.getByName("::1"), 65535), v6.addresses().getFirst());
    }

    /**
     * A name that cannot resolve is a typed failure carrying gai_strerror's text. Its 64-character
     * label cannot be encoded as a DNS query, so glibc fails without sending anything off this
     * machine (tests talk to loopback only).
     */
    @Test
    void invalidNameIsATypedFailure() {
        Dns.Failed f = assertInstanceOf(Dns.Failed.class,
                Dns.resolve("x".repeat(64) + ".invalid", 80, Dns.Family.ANY, false));
        assertTrue(f.code() != 0);
        assertTrue(f.name().startsWith("EAI_"), f.name());
        assertFalse(f.message().isBlank());
    }

    /** A non-numeric host with AI_NUMERICHOST fails with EAI_NONAME and its message. */
    @Test
    void nonNumericHostWithNumericFlagFails() {
        Dns.Failed f = assertInstanceOf(Dns.Failed.class, Dns.resolve("localhost", 80, Dns.Family.ANY, true));
        assertEquals("EAI_NONAME", f.name());
        assertEquals("Name or service not known", f.message());
    }

    /** Misuse fails fast at the call. */
    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Dns.resolve("localhost", 65536, Dns.Family.ANY, false));
        assertThrows(IllegalArgumentException.class, () -> Dns.resolve("localhost", -1, Dns.Family.ANY, false));
        assertThrows(IllegalArgumentException.class, () -> Dns.resolve("", 80, Dns.Family.ANY, false));
        assertThrows(IllegalArgumentException.class, () -> Dns.resolve("a\0b", 80, Dns.Family.ANY, false));
    }
}
