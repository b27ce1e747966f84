/*
 * server.c - the C reference server of the lori-ffm benchmark harness ("the ceiling").
 *
 * A single-threaded epoll server with no framework in the way: whatever lori-ffm, Netty or NIO
 * achieve is compared against what this does on the same machine in the same run.
 *
 * Usage: server --mode http|echo|tls-echo [--port P] [--cert FILE --key FILE]
 *   --mode http      answer every HTTP request head (anything ending in "\r\n\r\n") with a fixed
 *                    78-byte "Hello, World!" response; pipelined heads are answered in one write
 *   --mode echo      write back every byte received, in order
 *   --mode tls-echo  the echo over TLS 1.2/1.3, OpenSSL driving the non-blocking socket itself
 *                    (the "C + OpenSSL ceiling" for the TLS workloads); needs --cert and --key
 *   --port P         TCP port on 127.0.0.1; 0 (the default) picks an ephemeral port
 *   --cert FILE      PEM certificate chain, leaf first (tls-echo only)
 *   --key FILE       PEM private key of the leaf (tls-echo only)
 *
 * Once listening it prints "listening on 127.0.0.1:PORT" on stdout, so a harness can start it
 * with --port 0 and read the port back. It runs until SIGTERM or SIGINT, then exits 0; in
 * tls-echo mode it then prints how many TLS handshakes completed and failed on stderr.
 *
 * Build: gcc -O2 -Wall -Wextra -o server server.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define READ_BUF_SIZE (64 * 1024)
#define MAX_EVENTS 1024

static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";
#define RESPONSE_LEN (sizeof(RESPONSE) - 1)
_Static_assert(RESPONSE_LEN == 78, "the benchmark response must be exactly 78 bytes");

/*
 * The most heads one read can complete: a carried-over "\r\n\r" lets the first one finish with
 * one byte, every further one needs four. Responses for that many are prebuilt once, so a batch
 * is answered straight from this block with no copying.
 */
#define MAX_HEADS_PER_READ (1 + (READ_BUF_SIZE - 1) / 4)

enum mode { MODE_HTTP, MODE_ECHO, MODE_TLS_ECHO };

struct conn {
    int open;
    /* How many bytes of "\r\n\r\n" the stream currently ends with (0..3), carried between reads. */
    uint8_t matched;
    /* Bytes a partial write left behind; while any remain the connection is not read. */
    char *pending;
    size_t pending_off, pending_len, pending_cap;
    /* tls-echo only: the TLS state, whether the handshake is still running, and the epoll
     * interest last registered (OpenSSL decides which direction it waits for, so the interest
     * changes often and is only re-registered when it really differs). */
    SSL *ssl;
    uint8_t handshaking;
    uint32_t events;
};

static enum mode mode;
static int epfd = -1;
static struct conn *conns; /* indexed by fd: the fd limit bounds the table */
static size_t conns_cap;
static char *responses; /* MAX_HEADS_PER_READ copies of RESPONSE back to back */
/* A spare descriptor to give up when accept hits EMFILE, so the waiting connection can be
 * accepted and dropped instead of the level-triggered listener waking us in a busy loop. */
static int spare_fd = -1;

/* tls-echo: one context shared by every connection, so that tickets and cached sessions issued
 * on one connection resume on the next. */
static SSL_CTX *ssl_ctx;
static unsigned long long tls_handshakes, tls_handshake_failures;

static void die(const char *what)
{
    fprintf(stderr, "server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void usage(const char *msg)
{
    fprintf(stderr,
            "server: %s\nusage: server --mode http|echo|tls-echo [--port P] "
            "[--cert FILE --key FILE]\n",
            msg);
    exit(2);
}

static void raise_fd_limit(void)
{
    /* The idle benchmark holds 10000 connections; the default soft limit (often 1024) would make
     * accept fail long before the hard limit the harness granted us. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("getrlimit(RLIMIT_NOFILE)");
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            die("setrlimit(RLIMIT_NOFILE)");
    }
    conns_cap = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : (size_t)rl.rlim_cur;
}

static void set_interest(int fd, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.fd = fd };
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
        die("epoll_ctl(MOD)");
}

static void close_conn(int fd)
{
    struct conn *c = &conns[fd];
    /* Freed without a shutdown unless tls_close_gracefully sent one first: the peer is gone or
     * misbehaved, so there is nobody to say goodbye to. */
    SSL_free(c->ssl);
    free(c->pending);
    memset(c, 0, sizeof(*c));
    /* close() also removes the fd from the epoll set: nobody else holds a duplicate of it. */
    close(fd);
}

/* Keep bytes the socket (or OpenSSL) would not take yet; the buffer grows to the largest backlog
 * seen and is then reused, so a connection that is often blocked does not allocate each time. */
static void keep_pending(struct conn *c, const char *buf, size_t len)
{
    if (len > c->pending_cap) {
        char *p = realloc(c->pending, len);
        if (p == NULL) {
            fprintf(stderr, "server: out of memory for %zu pending bytes\n", len);
            exit(1);
        }
        c->pending = p;
        c->pending_cap = len;
    }
    memcpy(c->pending, buf, len);
    c->pending_off = 0;
    c->pending_len = len;
}

/*
 * Write buf fully if the socket takes it; otherwise keep the rest and switch the connection from
 * reading to waiting for EPOLLOUT. Not reading while output is stuck is the backpressure: the
 * peer's sends then fill the kernel buffers and stall, instead of our memory growing.
 * Returns 0 if the connection is still usable, -1 if it was closed.
 */
static int send_or_park(int fd, const char *buf, size_t len)
{
    struct conn *c = &conns[fd];
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            close_conn(fd); /* EPIPE, ECONNRESET: the peer is gone */
            return -1;
        }
        n = 0;
    }
    if ((size_t)n == len)
        return 0;
    keep_pending(c, buf + n, len - (size_t)n);
    set_interest(fd, EPOLLOUT);
    return 0;
}

static void flush_pending(int fd)
{
    struct conn *c = &conns[fd];
    while (c->pending_len > 0) {
        ssize_t n = write(fd, c->pending + c->pending_off, c->pending_len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return; /* still full: EPOLLOUT stays armed */
            close_conn(fd);
            return;
        }
        c->pending_off += (size_t)n;
        c->pending_len -= (size_t)n;
    }
    /* All out: go back to reading. Anything that arrived meanwhile is still in the socket and the
     * level-triggered EPOLLIN reports it on the next turn. */
    set_interest(fd, EPOLLIN);
}

/* Count complete request heads in buf, continuing the partial "\r\n\r\n" match of earlier reads. */
static size_t count_heads(struct conn *c, const char *buf, size_t len)
{
    static const char pat[4] = { '\r', '\n', '\r', '\n' };
    unsigned m = c->matched;
    size_t heads = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        if (m == 0) {
            /* Nothing matched yet: memchr skips the header text far faster than a byte loop. */
            p = memchr(p, '\r', (size_t)(end - p));
            if (p == NULL)
                break;
            m = 1;
            p++;
            continue;
        }
        char ch = *p++;
        if (ch == pat[m]) {
            if (++m == 4) {
                heads++;
                m = 0;
            }
        } else {
            /* "\r" is the only proper prefix that can restart inside the pattern. */
            m = ch == '\r' ? 1 : 0;
        }
    }
    c->matched = (uint8_t)m;
    return heads;
}

static void on_readable(int fd, char *buf)
{
    /*
     * Level-triggered, so one read per readiness event: with edge triggering every event would
     * need a second read that returns EAGAIN just to prove the socket is drained, one extra
     * syscall per message on small request/response traffic. If the 64 KiB read leaves data
     * behind, the level-triggered event simply fires again on the next turn, which also keeps
     * one busy connection from starving the others.
     */
    ssize_t n = read(fd, buf, READ_BUF_SIZE);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        close_conn(fd); /* EOF, or ECONNRESET and friends */
        return;
    }
    if (mode == MODE_ECHO) {
        send_or_park(fd, buf, (size_t)n);
        return;
    }
    size_t heads = count_heads(&conns[fd], buf, (size_t)n);
    if (heads > 0)
        send_or_park(fd, responses, heads * RESPONSE_LEN);
}

/* ------------------------------------------------------------------------------------------ */
/* tls-echo                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/*
 * The TLS path follows the plaintext echo with one difference: OpenSSL, not the connection's
 * state, says which direction a call waits for. SSL_read may need to write (a TLS 1.3 key update
 * is answered from inside it) and SSL_write may need to read, so every WANT_READ/WANT_WRITE
 * simply becomes the connection's epoll interest, and the next event of either kind re-runs
 * whatever step was interrupted (tls_on_event picks it from the connection's state).
 *
 * The error queue: SSL_get_error consults the thread's OpenSSL error queue, so an entry left
 * behind by one connection would make the next connection's harmless WANT_READ look fatal.
 * Every path that ends a connection on an error therefore clears the queue.
 */

static void tls_want(int fd, uint32_t events)
{
    struct conn *c = &conns[fd];
    /* Only when it changes: on the steady echo path the interest stays EPOLLIN, and an epoll_ctl
     * per message would be a syscall the plaintext server does not pay. */
    if (c->events != events) {
        set_interest(fd, events);
        c->events = events;
    }
}

/* For a WANT_READ/WANT_WRITE verdict: register the direction OpenSSL waits for. */
static int tls_wait(int fd, int err)
{
    if (err == SSL_ERROR_WANT_READ) {
        tls_want(fd, EPOLLIN);
        return 1;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
        tls_want(fd, EPOLLOUT);
        return 1;
    }
    return 0;
}

/* The connection broke (reset, EOF without close_notify, a protocol error): nothing to send. */
static void tls_abort(int fd)
{
    /* No SSL_shutdown here: OpenSSL forbids it after SSL_ERROR_SYSCALL or SSL_ERROR_SSL, and the
     * socket is dead or the peer is not speaking TLS. */
    ERR_clear_error();
    close_conn(fd);
}

/* The peer sent close_notify: answer it once and go, without waiting for anything. */
static void tls_close_gracefully(int fd)
{
    /* One non-blocking call: it queues our close_notify (a few dozen bytes, which the idle socket
     * always takes) and, since the peer's is already in, completes the shutdown. Were the socket
     * full or the peer already gone, the FIN that close() sends ends the connection anyway, so
     * the result does not matter. The shutdown also keeps the session resumable: OpenSSL drops
     * a session from the cache when its connection is freed without one. */
    if (SSL_shutdown(conns[fd].ssl) < 0)
        ERR_clear_error();
    close_conn(fd);
}

/* Returns 0 once the handshake is done, 1 if it waits for the socket, -1 if the connection is
 * gone. */
static int tls_handshake(int fd)
{
    struct conn *c = &conns[fd];
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->handshaking = 0;
        tls_handshakes++;
        return 0;
    }
    if (tls_wait(fd, SSL_get_error(c->ssl, r)))
        return 1;
    /* Probes that connect and leave, clients that reject our certificate, plain text on the TLS
     * port: a server just drops these, so only the count says they happened. */
    tls_handshake_failures++;
    tls_abort(fd);
    return -1;
}

/*
 * SSL_write as much of buf as OpenSSL and the socket take. With SSL_MODE_ENABLE_PARTIAL_WRITE each
 * call returns after one record (16 KiB) has gone out, so this loops. Returns how many bytes were
 * taken; *err is SSL_ERROR_NONE if that is all of them, else the verdict on the call that
 * stopped.
 *
 * When a call stops with WANT_WRITE, OpenSSL has already encrypted the record it could not send
 * and keeps it; the retry must offer the same bytes again (at least as many). The caller keeps
 * exactly those bytes in the pending buffer and retries from there, and since that buffer is
 * not where they were the first time, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER is what permits it.
 */
static size_t tls_write(SSL *ssl, const char *buf, size_t len, int *err)
{
    size_t done = 0;
    *err = SSL_ERROR_NONE;
    while (done < len) {
        size_t chunk = len - done;
        int w = SSL_write(ssl, buf + done, chunk > INT32_MAX ? INT32_MAX : (int)chunk);
        if (w <= 0) {
            *err = SSL_get_error(ssl, w);
            break;
        }
        done += (size_t)w;
    }
    return done;
}

/* Echo buf; what is not taken waits in the pending buffer. Same results as tls_handshake. */
static int tls_send(int fd, const char *buf, size_t len)
{
    struct conn *c = &conns[fd];
    int err;
    size_t n = tls_write(c->ssl, buf, len, &err);
    if (err == SSL_ERROR_NONE)
        return 0;
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        tls_abort(fd);
        return -1;
    }
    /* Parked: while pending_len > 0 tls_on_event only retries the write, which is the
     * backpressure (the peer's records pile up in the kernel, not in our memory). */
    keep_pending(c, buf + n, len - n);
    tls_wait(fd, err);
    return 1;
}

/* Retry the parked write. Same results as tls_handshake. */
static int tls_flush(int fd)
{
    struct conn *c = &conns[fd];
    int err;
    size_t n = tls_write(c->ssl, c->pending + c->pending_off, c->pending_len, &err);
    c->pending_off += n;
    c->pending_len -= n;
    if (err == SSL_ERROR_NONE)
        return 0;
    if (tls_wait(fd, err))
        return 1;
    tls_abort(fd);
    return -1;
}

/*
 * Read and echo until OpenSSL reports WANT_READ, i.e. until read() on the socket said EAGAIN.
 *
 * Unlike the plaintext path this cannot stop after one read and rely on level-triggered epoll:
 * OpenSSL may hold bytes it has already taken from the socket (the rest of a record, or more
 * records), which epoll cannot see. Running until WANT_READ leaves nothing behind except what
 * the socket will report. For fairness between connections a wake-up echoes at most
 * READ_BUF_SIZE bytes, and it only stops early when SSL_has_pending says OpenSSL holds nothing,
 * so that the level-triggered EPOLLIN is sure to bring it back for the rest.
 */
static void tls_echo(int fd, char *buf)
{
    struct conn *c = &conns[fd];
    size_t budget = READ_BUF_SIZE;
    for (;;) {
        int n = SSL_read(c->ssl, buf, READ_BUF_SIZE);
        if (n <= 0) {
            int err = SSL_get_error(c->ssl, n);
            if (tls_wait(fd, err))
                return;
            if (err == SSL_ERROR_ZERO_RETURN)
                tls_close_gracefully(fd);
            else
                tls_abort(fd); /* EOF without close_notify, ECONNRESET, a bad record */
            return;
        }
        if (tls_send(fd, buf, (size_t)n) != 0)
            return; /* parked (stop reading) or closed */
        if ((size_t)n >= budget && !SSL_has_pending(c->ssl)) {
            tls_want(fd, EPOLLIN);
            return;
        }
        budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
    }
}

static void tls_on_event(int fd, char *buf)
{
    struct conn *c = &conns[fd];
    /* Every step goes on into the next: once the handshake is done the client's first record
     * is often already in (TLS 1.3 clients send right after their Finished), and once a parked
     * write is out, OpenSSL may hold input that no epoll event would announce. */
    if (c->handshaking && tls_handshake(fd) != 0)
        return;
    if (c->pending_len > 0 && tls_flush(fd) != 0)
        return;
    tls_echo(fd, buf);
}

/*
 * The context is configured the way lori-ffm configures its default server context
 * (internal/sys/SslContexts), which is also what a typical production server does, so that the
 * comparison measures the I/O path and not different TLS settings.
 */
static SSL_CTX *tls_server_ctx(const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        goto fail;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
        goto fail;
    /* No compression (CRIME) and no renegotiation (TLS 1.2 only; nothing in the benchmarks
     * uses it, and servers refuse it to avoid renegotiation floods), as lori-ffm. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    /* A system openssl.cnf may set this; cleared so that an EOF without close_notify stays a
     * (truncation) error, as in lori-ffm. */
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF /* OpenSSL 3; BoringSSL has no such option */
    SSL_CTX_clear_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    /*
     * PARTIAL_WRITE and ACCEPT_MOVING_WRITE_BUFFER: see tls_write. RELEASE_BUFFERS gives a
     * connection's 16 KiB+ record buffers back while it is idle, which is what lets a server
     * hold many idle TLS connections; lori-ffm, nginx and netty-tcnative all set it, so the
     * ceiling pays the same allocator traffic they do.
     */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    /*
     * Without read-ahead OpenSSL reads each record with two read() calls, its 5-byte header and
     * then its body; with it, one read() fills its buffer with as many records as have arrived.
     * nginx sets it for that reason, and lori-ffm (which reads the socket itself, 64 KiB at a
     * time, into a memory BIO) never pays per-record reads either, so leaving it off would
     * charge the ceiling syscalls that neither pays. The price is bytes held inside OpenSSL that
     * epoll cannot see, which tls_echo takes care of.
     */
    SSL_CTX_set_read_ahead(ctx, 1);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        goto fail;
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        goto fail;
    if (SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    /*
     * Resumption as a production server has it: the server-side session cache (TLS 1.2 session
     * ids; OpenSSL's default size) and OpenSSL's default tickets (TLS 1.3 stateless tickets,
     * which need no cache). The session id context ties sessions to this server; OpenSSL
     * refuses to resume without one once client certificates are verified, so servers always
     * set it, and lori-ffm does too.
     */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    static const unsigned char sid_ctx[] = "lori-bench-c";
    if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1)
        goto fail;
    return ctx;
fail:
    fprintf(stderr, "server: TLS setup with --cert %s --key %s failed:\n", cert, key);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static void on_acceptable(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
                fprintf(stderr, "server: accept: %s; dropping a connection\n", strerror(errno));
                close(spare_fd);
                int victim = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (victim >= 0)
                    close(victim);
                spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                continue;
            }
            die("accept4");
        }
        if ((size_t)fd >= conns_cap) {
            fprintf(stderr, "server: fd %d beyond the connection table, dropping it\n", fd);
            close(fd);
            continue;
        }
        /* Small responses must leave at once instead of waiting for Nagle's timer. */
        int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
            die("setsockopt(TCP_NODELAY)");
        struct conn *c = &conns[fd];
        if (mode == MODE_TLS_ECHO) {
            c->ssl = SSL_new(ssl_ctx);
            if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
                fprintf(stderr, "server: SSL_new/SSL_set_fd failed, dropping a connection\n");
                ERR_print_errors_fp(stderr);
                SSL_free(c->ssl);
                c->ssl = NULL;
                close(fd);
                continue;
            }
            SSL_set_accept_state(c->ssl);
            /* The handshake starts on the first EPOLLIN: the ClientHello is rarely in yet, and
             * trying now would mostly cost a read() that says EAGAIN. */
            c->handshaking = 1;
            c->events = EPOLLIN;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            die("epoll_ctl(ADD)");
        c->open = 1;
    }
}

static int parse_port(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 65535)
        usage("--port needs a number from 0 to 65535");
    return (int)v;
}

int main(int argc, char **argv)
{
    int have_mode = 0, port = 0;
    const char *cert = NULL, *key = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage(strcmp(a, "--mode") == 0 || strcmp(a, "--port") == 0 ||
                          strcmp(a, "--cert") == 0 || strcmp(a, "--key") == 0
                      ? "missing value"
                      : "unknown argument");
        if (strcmp(a, "--mode") == 0) {
            const char *m = argv[++i];
            if (strcmp(m, "http") == 0)
                mode = MODE_HTTP;
            else if (strcmp(m, "echo") == 0)
                mode = MODE_ECHO;
            else if (strcmp(m, "tls-echo") == 0)
                mode = MODE_TLS_ECHO;
            else
                usage("--mode must be http, echo or tls-echo");
            have_mode = 1;
        } else if (strcmp(a, "--port") == 0) {
            port = parse_port(argv[++i]);
        } else if (strcmp(a, "--cert") == 0) {
            cert = argv[++i];
        } else if (strcmp(a, "--key") == 0) {
            key = argv[++i];
        } else {
            usage("unknown argument");
        }
    }
    if (!have_mode)
        usage("--mode is required");
    if (mode == MODE_TLS_ECHO && (cert == NULL || key == NULL))
        usage("--mode tls-echo needs --cert and --key");
    /* Refused rather than ignored: a harness passing them elsewhere has mixed up its modes. */
    if (mode != MODE_TLS_ECHO && (cert != NULL || key != NULL))
        usage("--cert and --key are only for --mode tls-echo");
    /* Before listening, so that a bad certificate or key fails the start, not the first client. */
    if (mode == MODE_TLS_ECHO)
        ssl_ctx = tls_server_ctx(cert, key);

    raise_fd_limit();
    conns = calloc(conns_cap, sizeof(*conns));
    responses = malloc(MAX_HEADS_PER_READ * RESPONSE_LEN);
    if (conns == NULL || responses == NULL) {
        fprintf(stderr, "server: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < MAX_HEADS_PER_READ; i++)
        memcpy(responses + i * RESPONSE_LEN, RESPONSE, RESPONSE_LEN);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    /* A peer that resets while we write must surface as EPIPE, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    /* Termination arrives through a signalfd in the epoll set: no handler races with
     * epoll_wait, and shutdown runs as ordinary code that can close everything. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    if (sigprocmask(SIG_BLOCK, &term, NULL) != 0)
        die("sigprocmask");
    int sfd = signalfd(-1, &term, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        die("signalfd");

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    int one = 1;
    if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
        die("setsockopt(SO_REUSEADDR)");
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        die("bind 127.0.0.1");
    /* A deep backlog so connection bursts (churn, idle) never see refusals or SYN drops. */
    if (listen(lfd, 4096) != 0)
        die("listen");
    socklen_t alen = sizeof(addr);
    if (getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0)
        die("getsockname");

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1");
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) != 0)
        die("epoll_ctl(ADD listener)");
    ev.data.fd = sfd;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) != 0)
        die("epoll_ctl(ADD signalfd)");

    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    /* One shared read buffer: bytes never outlive the read that brought them (leftovers are
     * copied to the connection's pending buffer), so per-connection buffers would only cost
     * memory and cache. */
    static char buf[READ_BUF_SIZE];
    static struct epoll_event events[MAX_EVENTS];
    int running = 1;
    while (running) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            uint32_t e = events[i].events;
            if (fd == lfd) {
                on_acceptable(lfd);
            } else if (fd == sfd) {
                running = 0;
            } else if (!conns[fd].open) {
                /* an event of a connection closed earlier this turn */
            } else if (mode == MODE_TLS_ECHO) {
                tls_on_event(fd, buf);
            } else {
                if (conns[fd].pending_len > 0) {
                    /* Waiting for EPOLLOUT; EPOLLERR/EPOLLHUP also land here and the write then
                     * reports the error, which closes the connection. */
                    if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                        flush_pending(fd);
                } else if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                    on_readable(fd, buf);
                }
            }
        }
    }

    for (size_t fd = 0; fd < conns_cap; fd++)
        if (conns[fd].open)
            close_conn((int)fd);
    close(lfd);
    close(sfd);
    close(epfd);
    if (spare_fd >= 0)
        close(spare_fd);
    free(conns);
    free(responses);
    if (mode == MODE_TLS_ECHO) {
        /* Freed so that a leak check sees only what connections left behind. */
        SSL_CTX_free(ssl_ctx);
        fprintf(stderr, "server: %llu TLS handshakes completed, %llu failed\n", tls_handshakes,
                tls_handshake_failures);
    }
    return 0;
}
