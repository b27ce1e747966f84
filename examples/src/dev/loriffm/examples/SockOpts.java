package dev.loriffm.examples;

import dev.loriffm.loop.EventLoopGroup;
import dev.loriffm.tcp.ClientLifecycleReceiver;
import dev.loriffm.tcp.ConnectionFailure;
import dev.loriffm.tcp.Linger;
import dev.loriffm.tcp.OptionResult;
import dev.loriffm.tcp.OsSockOpt;
import dev.loriffm.tcp.ServerLifecycleReceiver;
import dev.loriffm.tcp.StartFailure;
import dev.loriffm.tcp.TcpConnection;
import dev.loriffm.tcp.TcpInfo;
import dev.loriffm.tcp.TcpListener;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * {@code sockopts}: connects to a server, sets a range of socket options, reads each back from the
 * kernel, and prints them with the connection's live {@code TCP_INFO} as a table. Without
 * {@code --port} it starts its own loopback echo server to connect to.
 */
public final class SockOpts {
    private static final String USAGE = """
            Usage: scripts/example sockopts [--host HOST] [--port PORT]

            Connects to HOST:PORT, sets socket options (TCP_NODELAY, SO_RCVBUF, SO_SNDBUF,
            keepalive, SO_LINGER, TCP_USER_TIMEOUT, IP_TOS/IPV6_TCLASS, TCP_CONGESTION,
            TCP_QUICKACK), reads them back and prints them with the live TCP_INFO as a table.

              --host HOST   server to connect to (default 127.0.0.1)
              --port PORT   its port; without it, a loopback echo server is started and used
            """;

    private SockOpts() { }

    /** Entry point. */
    public static void main(String[] argv) throws Exception {
        Args args = Args.parse("sockopts", USAGE, argv);
        String host = args.string("--host", "127.0.0.1");
        int port = args.intOption("--port", -1, 1, 65535);
        args.finish();
        try (EventLoopGroup group = EventLoopGroup.create(1)) {
            TcpListener own = null;
            if (port < 0) {
                own = Net.listen(group, host, 0, socket -> new ServerLifecycleReceiver() {
                    @Override
                    public void onStartFailure(TcpConnection c, StartFailure reason) {
                    }
                });
                port = own.localAddress().getPort();
            }
            CompletableFuture<List<String[]>> table = new CompletableFuture<>();
            String target = host + ":" + port;
            TcpConnection.client(Net.CONNECT, group.next(), host, port, new ClientLifecycleReceiver() {
                @Override
                public void onConnected(TcpConnection c) {
                    try {
                        table.complete(exercise(c));
                    } catch (RuntimeException e) {
                        table.completeExceptionally(e);
                    }
                    c.close();
                }

                @Override
                public void onConnectionFailure(TcpConnection c, ConnectionFailure reason) {
                    table.completeExceptionally(new IllegalStateException("cannot connect to " + target
                            + ": " + reason + " " + c.failureDetail()));
                }
            });
            List<String[]> rows;
            try {
                rows = table.get(Net.WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                System.err.println("sockopts: " + e.getCause().getMessage());
                System.exit(1);
                return;
            }
            print(rows);
            if (own != null) {
                own.close();
            }
        }
    }

    /** Sets each option, reads it back; one row per option: name, requested, kernel value, result. */
    private static List<String[]> exercise(TcpConnection c) {
        List<String[]> rows = new ArrayList<>();
        row(rows, "TCP_NODELAY", "1", () -> c.setNodelay(true),
                () -> c.getsockoptU32(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_NODELAY).value());
        row(rows, "SO_RCVBUF", "65536", () -> c.setSoRcvbuf(65536), () -> c.getSoRcvbuf().value());
        row(rows, "SO_SNDBUF", "65536", () -> c.setSoSndbuf(65536), () -> c.getSoSndbuf().value());
        c.keepalive(60);
        rows.add(new String[] {"SO_KEEPALIVE (keepalive 60)", "1",
                String.valueOf(c.getsockoptU32(OsSockOpt.SOL_SOCKET, OsSockOpt.SO_KEEPALIVE).value()), "ok"});
        rows.add(new String[] {"  TCP_KEEPIDLE / KEEPCNT / KEEPINTVL", "30 / 30 / 1",
                c.getsockoptU32(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_KEEPIDLE).value() + " / "
                        + c.getsockoptU32(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_KEEPCNT).value() + " / "
                        + c.getsockoptU32(OsSockOpt.IPPROTO_TCP, OsSockOpt.TCP_KEEPINTVL).value(), "ok"});
        typed(rows, "SO_LINGER", "on, 5 s", () -> c.setLinger(new Linger(true, 5)), c::linger);
        typed(rows, "TCP_USER_TIMEOUT", "30000 ms", () -> c.setUserTimeout(30_000), c::userTimeout);
        typed(rows, "IP_TOS / IPV6_TCLASS", "16", () -> c.setTrafficClass(0x10), c::trafficClass);
        typed(rows, "TCP_CONGESTION", "cubic", () -> c.setCongestion("cubic"), c::congestion);
        typed(rows, "TCP_QUICKACK", "1", () -> c.setQuickAck(true), c::quickAck);
        switch (c.tcpInfo()) {
            case OptionResult.Value<TcpInfo> v -> {
                TcpInfo info = v.value();
                rows.add(new String[] {"TCP_INFO state", "", info.isEstablished() ? "ESTABLISHED"
                        : String.valueOf(info.state()), ""});
                rows.add(new String[] {"TCP_INFO rtt / rttvar", "", info.rtt() + " / " + info.rttvar() + " us", ""});
                rows.add(new String[] {"TCP_INFO snd_mss / rcv_mss", "", info.sndMss() + " / " + info.rcvMss(), ""});
                rows.add(new String[] {"TCP_INFO snd_cwnd", "", String.valueOf(info.sndCwnd()), ""});
                rows.add(new String[] {"TCP_INFO retransmits / total", "",
                        info.retransmits() + " / " + info.totalRetrans(), ""});
                rows.add(new String[] {"TCP_INFO bytes acked / received", "",
                        info.bytesAcked() + " / " + info.bytesReceived(), ""});
            }
            case OptionResult.Failed<TcpInfo> f -> rows.add(new String[] {"TCP_INFO", "", "", f.description()});
        }
        return rows;
    }

    private static void row(List<String[]> rows, String name, String requested, IntSupplier set, IntSupplier get) {
        int errno = set.getAsInt();
        rows.add(new String[] {name, requested, String.valueOf(get.getAsInt()), errno == 0 ? "ok" : "errno " + errno});
    }

    private static <T> void typed(List<String[]> rows, String name, String requested, IntSupplier set,
                                  Supplier<OptionResult<T>> get) {
        int errno = set.getAsInt();
        String value = switch (get.get()) {
            case OptionResult.Value<T> v -> String.valueOf(v.value());
            case OptionResult.Failed<T> f -> f.description();
        };
        rows.add(new String[] {name, requested, value, errno == 0 ? "ok" : "errno " + errno});
    }

    private static void print(List<String[]> rows) {
        String[] header = {"option", "requested", "kernel reports", "set"};
        int[] width = new int[header.length];
        for (String[] r : concat(header, rows)) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : concat(header, rows)) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(String.format("%-" + width[i] + "s", r[i])).append(i + 1 < r.length ? " | " : "");
            }
            System.out.println(line.toString().stripTrailing());
            if (r == header) {
                StringBuilder rule = new StringBuilder();
                for (int i = 0; i < width.length; i++) {
                    rule.append("-".repeat(width[i])).append(i + 1 < width.length ? "-+-" : "");
                }
                System.out.println(rule);
            }
        }
    }

    private static List<String[]> concat(String[] header, List<String[]> rows) {
        List<String[]> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        return all;
    }
}
