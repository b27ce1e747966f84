package dev.loriffm.tcp;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.testing.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Ports of lori's {@code _test_ip_version.pony}: a listener and a client restricted to one IP version talk. */
@ExtendWith(FdLeakCheck.class)
class IpVersionTest {
    private EventLoopGroup group;

    @BeforeAll
    static void warmUp() throws Exception {
        ConnectionFakes.warmUpJdkSockets();
    }

    @BeforeEach
    void start() {
        group = EventLoopGroup.create(2);
    }

    @AfterEach
    void stop() {
        group.close();
    }

    /** Port of lori _TestIP4PingPong: an IP4 listener on 127.0.0.1 and an IP4 client exchange 100 pings. */
    @Test
    void ip4ListenerAndClientPingPong() throws Exception {
        ConnectionTest.PingPong.run(group, "127.0.0.1", IpVersion.IP4, "127.0.0.1", IpVersion.IP4, 100);
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }

    /** Port of lori _TestIP6PingPong: an IP6 listener on ::1 and an IP6 client exchange 100 pings. */
    @Test
    void ip6ListenerAndClientPingPong() throws Exception {
        assumeTrue(ipv6LoopbackAvailable(), "this host has no IPv6 loopback");
        ConnectionTest.PingPong.run(group, "::1", IpVersion.IP6, "::1", IpVersion.IP6, 100);
        assertEquals(0, ConnectionFakes.callbackFailures(group));
    }

    /** An IP4 client cannot reach an IPv6-only listener: resolution of "::1" for IPv4 fails (DNS). */
    @Test
    void ip4ClientDoesNotResolveAnIpv6Literal() throws Exception {
        var client = new ConnectionFakes.Log();
        TcpConnection c = TcpConnection.client(Loopback.CONNECT, group.next(), "::1", 9, client,
                ClientOptions.DEFAULT.withIpVersion(IpVersion.IP4));
        client.expect("failure DNS");
        client.expectBeforeMarker(c.loop());
    }

    private static boolean ipv6LoopbackAvailable() {
        try (ServerSocketChannel probe = ServerSocketChannel.open()) {
            InetAddress loopback = InetAddress.getByName("::1");
            probe.bind(new InetSocketAddress(loopback, 0));
            return loopback instanceof Inet6Address;
        } catch (Exception e) {
            return false;
        }
    }
}
