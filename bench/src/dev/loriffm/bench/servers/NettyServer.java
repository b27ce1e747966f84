package dev.loriffm.bench.servers;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ByteProcessor;

import java.io.File;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSessionContext;

/**
 * The Netty side of the end-to-end comparison: Netty's native epoll transport on one event loop that
 * both accepts and does all I/O, serving {@link HelloProtocol} ({@code http}), a plain echo
 * ({@code echo}) or an echo over TLS ({@code tls-echo}, OpenSSL via netty-tcnative or the JDK's
 * SSLEngine). Written the way a Netty user who cares about speed would write it, so that the
 * comparison is against Netty at its best rather than a strawman.
 *
 * <p>Usage: {@code --mode http|echo|tls-echo [--port P] [--cert FILE --key FILE]
 * [--ssl tcnative|jdk]}. Prints {@code listening on 127.0.0.1:PORT} once bound and runs until
 * SIGTERM, then exits 0.
 */
public final class NettyServer {
    /** Matches the other servers of the comparison, so no server wins by refusing connections. */
    private static final int BACKLOG = 4096;

    private NettyServer() { }

    /**
     * Parses the arguments, binds and starts serving; the event loop thread keeps the JVM alive.
     *
     * @param args the command line described in the class comment
     * @throws Exception if the server cannot start; the stack trace is the useful report then
     */
    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("NettyServer: " + e.getMessage());
            System.err.println("usage: NettyServer --mode http|echo|tls-echo [--port P]"
                    + " [--cert FILE --key FILE] [--ssl tcnative|jdk]");
            System.exit(2);
            return;
        }
        // Measuring Netty's NIO transport by accident would make every ratio meaningless, so
        // refuse to run rather than fall back.
        if (!Epoll.isAvailable()) {
            System.err.println("NettyServer: native epoll transport unavailable");
            Epoll.unavailabilityCause().printStackTrace();
            System.exit(1);
        }
        SslContext ssl = options.mode == Mode.TLS_ECHO ? sslContext(options) : null;

        // One loop as both boss and worker: the comparison is one thread against one thread.
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Channel server;
        try {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group, group)
                    .channel(EpollServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, BACKLOG)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    // Netty closes on EOF by default, dropping output the socket had not taken yet;
                    // with half-closure the handlers flush first and then close.
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(initializer(options.mode, ssl));
            server = bootstrap.bind("127.0.0.1", options.port).sync().channel();
        } catch (Exception e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }

        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(server, group), "netty-server-stop"));
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        // stderr, so that stdout carries only the line the harness waits for.
        System.err.println("NettyServer: mode=" + options.mode.name + " transport="
                + server.getClass().getSimpleName() + " allocator="
                + server.config().getAllocator().getClass().getSimpleName()
                + (ssl == null ? "" : " " + describe(ssl)));
        System.out.println("listening on 127.0.0.1:" + port);
        System.out.flush();
    }

    /**
     * Closes the listener and every connection, then ends the JVM with status 0.
     *
     * @param server the listening channel
     * @param group the one event loop
     */
    private static void stop(Channel server, EventLoopGroup group) {
        server.close().syncUninterruptibly();
        // No quiet period: nothing is expected to arrive once the harness sends SIGTERM.
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        // A JVM ended by SIGTERM exits with 143 even when every hook succeeds; the contract
        // asks for 0 after a clean stop, and halting is the only way to set it from a hook.
        // The price: other hooks still running are cut short (a JFR dump on exit, say).
        Runtime.getRuntime().halt(0);
    }

    /**
     * Builds the pipeline for each accepted connection.
     *
     * @param mode what to serve
     * @param ssl the TLS context for {@link Mode#TLS_ECHO}, otherwise {@code null}
     * @return the initializer for child channels
     */
    private static ChannelInitializer<Channel> initializer(Mode mode, SslContext ssl) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                switch (mode) {
                    case HTTP -> ch.pipeline().addLast(new HelloHandler());
                    case ECHO -> ch.pipeline().addLast(EchoHandler.INSTANCE);
                    case TLS_ECHO -> ch.pipeline().addLast(ssl.newHandler(ch.alloc()), EchoHandler.INSTANCE);
                }
            }
        };
    }

    /**
     * Builds the server TLS context: TLS 1.3 and 1.2, with session resumption through both the
     * session cache and session tickets.
     *
     * @param options the parsed command line; {@code cert} and {@code key} are set
     * @return the context
     * @throws Exception if the certificate or key cannot be loaded
     */
    private static SslContext sslContext(Options options) throws Exception {
        if (options.provider == SslProvider.OPENSSL && !OpenSsl.isAvailable()) {
            // Silently using the JDK engine instead would measure the wrong TLS stack.
            System.err.println("NettyServer: --ssl tcnative requested but netty-tcnative is unavailable");
            OpenSsl.unavailabilityCause().printStackTrace();
            System.exit(1);
        }
        SslContext context = SslContextBuilder.forServer(new File(options.cert), new File(options.key))
                .sslProvider(options.provider)
                .protocols("TLSv1.3", "TLSv1.2")
                .build();
        if (context.sessionContext() instanceof OpenSslSessionContext openSsl) {
            // Netty sets SSL_OP_NO_TICKET on the OpenSSL context and clears it again only per
            // engine when TLS 1.3 is enabled; enabling tickets on the context itself (with keys
            // BoringSSL generates and rotates) keeps resumption on without relying on that detail.
            openSsl.setTicketKeys();
            openSsl.setSessionCacheEnabled(true);
        }
        // The JDK provider resumes by default: a 20480-entry cache, and stateless tickets unless
        // jdk.tls.server.enableSessionTicketExtension=false.
        return context;
    }

    /**
     * Describes the TLS setup for the startup line, so a run's log shows what was measured.
     *
     * @param ssl the server context
     * @return a short {@code key=value} description
     */
    private static String describe(SslContext ssl) {
        SSLSessionContext sessions = ssl.sessionContext();
        String text = "ssl=" + (sessions instanceof OpenSslSessionContext ? OpenSsl.versionString() : "JDK")
                + " sessionCacheSize=" + sessions.getSessionCacheSize()
                + " sessionTimeoutS=" + sessions.getSessionTimeout();
        if (sessions instanceof OpenSslSessionContext openSsl) {
            text += " sessionCache=" + openSsl.isSessionCacheEnabled();
        } else {
            text += " tickets=" + System.getProperty("jdk.tls.server.enableSessionTicketExtension", "true");
        }
        return text;
    }

    /**
     * The {@code http} handler: counts request heads in each read and queues one response per
     * head, flushing once per read batch. Holds the connection's {@link HelloProtocol.Heads}, so
     * it is one instance per connection. It is its own {@link ByteProcessor} so that scanning a
     * read allocates nothing.
     */
    private static final class HelloHandler extends ChannelInboundHandlerAdapter implements ByteProcessor {
        // Shared by every connection and never freed; each write sends a duplicate, which has its
        // own indices but the same memory, so nothing is copied or allocated per response but the
        // small duplicate object itself.
        private static final ByteBuf RESPONSE = Unpooled.unreleasableBuffer(
                Unpooled.directBuffer(HelloProtocol.RESPONSE.length).writeBytes(HelloProtocol.RESPONSE));

        // The request-head state of this connection, carried across reads.
        private final HelloProtocol.Heads heads = new HelloProtocol.Heads();
        // Heads found in the read being scanned; only meaningful inside channelRead.
        private int found;

        /** {@inheritDoc} Feeds every byte of the read and answers each complete request head. */
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                found = 0;
                in.forEachByte(this);
            } finally {
                in.release();
            }
            for (int i = found; i > 0; i--) {
                // The void promise spares a promise object per response; a failure still reaches
                // exceptionCaught, which closes the connection.
                ctx.write(RESPONSE.duplicate(), ctx.voidPromise());
            }
        }

        /** {@inheritDoc} Counts a completed request head. */
        @Override
        public boolean process(byte value) {
            if (heads.feed(value)) {
                found++;
            }
            return true;
        }

        /** {@inheritDoc} Sends all responses of the read batch with one flush. */
        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        /** {@inheritDoc} Applies backpressure; see {@link NettyServer#followWritability}. */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            followWritability(ctx);
            ctx.fireChannelWritabilityChanged();
        }

        /** {@inheritDoc} Closes once queued responses are out when the peer stops sending. */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            closeAfterOutput(ctx, event);
        }

        /** {@inheritDoc} Any error ends the connection; a benchmark has nothing to recover. */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * The {@code echo} and {@code tls-echo} handler: writes every received buffer back unchanged,
     * in order, flushing once per read batch. Stateless, so one instance serves every connection.
     */
    @ChannelHandler.Sharable
    private static final class EchoHandler extends ChannelInboundHandlerAdapter {
        /** The one instance; the handler keeps no per-connection state. */
        static final EchoHandler INSTANCE = new EchoHandler();

        /** {@inheritDoc} Queues the received buffer for writing; its ownership passes to the write. */
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg, ctx.voidPromise());
        }

        /** {@inheritDoc} Sends everything the read batch queued with one flush. */
        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        /** {@inheritDoc} Applies backpressure; see {@link NettyServer#followWritability}. */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            followWritability(ctx);
            ctx.fireChannelWritabilityChanged();
        }

        /** {@inheritDoc} Closes once queued output is out when the peer stops sending. */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            closeAfterOutput(ctx, event);
        }

        /** {@inheritDoc} Any error ends the connection; a benchmark has nothing to recover. */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Stops reading while the channel is not writable and resumes once it is. Output that the
     * socket cannot take waits in Netty's outbound buffer; reading on would let a client that
     * does not read grow that buffer without bound. Writability flips at the outbound buffer's
     * high and low water marks, and Netty fires the change on every flip, so this one place
     * covers both directions, including a flip in the middle of a read batch.
     *
     * @param ctx the handler's context
     */
    private static void followWritability(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        ch.config().setAutoRead(ch.isWritable());
    }

    /**
     * On end of input (half-closure is enabled), flushes what is queued and closes after that;
     * passes every other event on.
     *
     * @param ctx the handler's context
     * @param event the user event
     */
    private static void closeAfterOutput(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    /** What the server serves, by its command-line name. */
    enum Mode {
        /** {@link HelloProtocol} over plain TCP. */
        HTTP("http"),
        /** Echo over plain TCP. */
        ECHO("echo"),
        /** Echo over TLS. */
        TLS_ECHO("tls-echo");

        /** The name used on the command line. */
        final String name;

        Mode(String name) {
            this.name = name;
        }

        /**
         * Finds a mode by its command-line name.
         *
         * @param name the name
         * @return the mode
         * @throws IllegalArgumentException if no mode has that name
         */
        static Mode of(String name) {
            for (Mode mode : values()) {
                if (mode.name.equals(name)) {
                    return mode;
                }
            }
            throw new IllegalArgumentException("unknown mode: " + name);
        }
    }

    /**
     * The parsed command line.
     *
     * @param mode what to serve
     * @param port the port to bind, 0 for an ephemeral one
     * @param cert the certificate chain PEM file, or {@code null}
     * @param key the PKCS#8 private key PEM file, or {@code null}
     * @param provider the TLS implementation for {@code tls-echo}
     */
    record Options(Mode mode, int port, String cert, String key, SslProvider provider) {
        /**
         * Parses and checks the command line.
         *
         * @param args the arguments
         * @return the options
         * @throws IllegalArgumentException if they are incomplete or invalid
         */
        static Options parse(String[] args) {
            Mode mode = null;
            int port = 0;
            String cert = null;
            String key = null;
            SslProvider provider = SslProvider.OPENSSL;
            for (int i = 0; i < args.length; i++) {
                String name = args[i];
                if (i + 1 == args.length) {
                    throw new IllegalArgumentException("missing value for " + name);
                }
                String value = args[++i];
                switch (name) {
                    case "--mode" -> mode = Mode.of(value);
                    case "--port" -> port = port(value);
                    case "--cert" -> cert = value;
                    case "--key" -> key = value;
                    case "--ssl" -> provider = switch (value) {
                        case "tcnative" -> SslProvider.OPENSSL;
                        case "jdk" -> SslProvider.JDK;
                        default -> throw new IllegalArgumentException("unknown --ssl: " + value);
                    };
                    default -> throw new IllegalArgumentException("unknown option: " + name);
                }
            }
            if (mode == null) {
                throw new IllegalArgumentException("--mode is required");
            }
            if (mode == Mode.TLS_ECHO && (cert == null || key == null)) {
                throw new IllegalArgumentException("tls-echo needs --cert and --key");
            }
            return new Options(mode, port, cert, key, provider);
        }

        /**
         * Parses a port number.
         *
         * @param value the text
         * @return the port, 0 to 65535
         * @throws IllegalArgumentException if it is not a valid port
         */
        private static int port(String value) {
            int port;
            try {
                port = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port: " + value);
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("bad port: " + value);
            }
            return port;
        }
    }
}
