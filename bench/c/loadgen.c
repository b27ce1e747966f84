/*
 * loadgen.c - the load generator of the lori-ffm benchmark harness.
 *
 * Drives the echo, ping-pong, connection-churn, idle-connection, TLS bulk and TLS handshake
 * benchmarks against any server on 127.0.0.1 (lori-ffm, Netty, NIO, the C reference server,
 * nginx) and prints one line of JSON with the result on stdout. Single thread, epoll,
 * non-blocking sockets, TCP_NODELAY everywhere; any error (refused connection, unexpected EOF,
 * echoed bytes that differ from what was sent, ...) ends it with a message on stderr and a
 * non-zero exit status.
 *
 * Usage: loadgen MODE --port P [--host 127.0.0.1] [options]
 *   echo     [--conns 50] [--size 64] [--depth 16]     echoed messages per second
 *   bulk     [--conns 1] [--size 65536] [--depth 4]    same with big messages, plus MB/s
 *   pingpong [--size 64]                               round-trip latency percentiles
 *   churn    [--conns 16]                              connect, GET /, read, close: conn/s
 *   idle     [--conns 10000]                           open N echoed connections, print, then
 *                                                      hold them until stdin EOF or SIGTERM
 *   tlsbulk  [--conns 1] [--size 16384] [--depth 4]    bulk over TLS 1.3 (no verification)
 *   handshake [--conns 4] [--resume]                   TLS 1.3 handshakes per second: connect,
 *                                                      handshake, 1-byte echo, close; with
 *                                                      --resume each slot resumes its last session
 * Timed modes also take [--warmup 1] [--seconds 5] (fractions allowed): only what completes in
 * the --seconds window after the warm-up is counted.
 *
 * Build: gcc -O2 -Wall -Wextra -o loadgen loadgen.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define NS_PER_S 1000000000ull
/* Largest single write or read; the pattern table below is this plus one period long. */
#define MAX_CHUNK (256 * 1024)
#define MAX_EVENTS 1024
/* With no event at all for this long the server has stopped answering: fail instead of hanging. */
#define STALL_NS (10 * NS_PER_S)

static const char *prog_mode;
static struct {
    const char *host;
    int port;
    long conns, size, depth;
    double warmup, seconds;
    int resume; /* handshake only */
} opt;
static struct sockaddr_in server_addr;
static int epfd = -1;

/*
 * The byte pattern every stream carries: byte i of connection c is (c*31 + i) & 0xff. Since it
 * repeats every 256 bytes, any stretch of any stream is a slice of this table starting at
 * (c*31 + i) & 0xff, so sending needs no per-connection buffer and checking is one memcmp.
 */
static unsigned char pattern[256 + MAX_CHUNK];
static unsigned char rbuf[MAX_CHUNK];

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen %s: ", prog_mode ? prog_mode : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void usage(const char *msg)
{
    fprintf(stderr,
            "loadgen: %s\n"
            "usage: loadgen echo|bulk|pingpong|churn|idle|tlsbulk|handshake --port P\n"
            "       [--host 127.0.0.1] [--conns N] [--size BYTES] [--depth N] [--warmup S]\n"
            "       [--seconds S] [--resume (handshake only)]\n",
            msg);
    exit(2);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static const unsigned char *pattern_at(long conn, uint64_t offset)
{
    return pattern + ((uint64_t)conn * 31 + offset) % 256;
}

static void raise_fd_limit(void)
{
    /* idle holds 10000 sockets; the usual soft limit of 1024 would stop it far below the hard
     * limit the harness granted. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("getrlimit: %s", strerror(errno));
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            die("setrlimit: %s", strerror(errno));
    }
}

static void set_nodelay(int fd)
{
    /* Small messages must leave immediately; Nagle would turn latency into timer artefacts. */
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        die("setsockopt(TCP_NODELAY): %s", strerror(errno));
}

static void set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
        die("fcntl(O_NONBLOCK): %s", strerror(errno));
}

static void ep_ctl(int op, int fd, uint32_t events, void *ptr)
{
    struct epoll_event ev = { .events = events, .data.ptr = ptr };
    if (epoll_ctl(epfd, op, fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
}

/*
 * Connection set-up for the steady-state modes is not what they measure, so a plain blocking
 * connect is used there: a refused connection then fails right here with a clear message. The
 * socket goes non-blocking afterwards.
 */
static int connect_blocking(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) != 0)
        die("connect to %s:%d: %s", opt.host, opt.port, strerror(errno));
    set_nodelay(fd);
    return fd;
}

/* Report where an echoed chunk first differs from the pattern; called only after memcmp failed. */
static void die_mismatch(long conn, uint64_t offset, const unsigned char *got, size_t len)
{
    const unsigned char *want = pattern_at(conn, offset);
    size_t i = 0;
    while (i < len && got[i] == want[i])
        i++;
    die("echo content mismatch on connection %ld at stream byte %llu: expected 0x%02x, got 0x%02x",
        conn, (unsigned long long)(offset + i), want[i], got[i]);
}

static void die_ssl(const char *what, long conn)
{
    /* Print OpenSSL's queue right away: a later TLS call could clear it. */
    fprintf(stderr, "loadgen %s: %s failed on connection %ld\n", prog_mode, what, conn);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* ------------------------------------------------------------------------------------------ */
/* Measurement window, shared by the timed epoll modes.                                       */
/* ------------------------------------------------------------------------------------------ */

/*
 * The clock is read once per loop turn, right after epoll_wait returns (not per event, which
 * would cost more than some of the events). The window opens at the first such stamp at or past
 * the end of the warm-up and closes at the first stamp at or past its planned end, before that
 * turn's events are handled. So what is counted is exactly what was processed between the two
 * stamps, and "seconds" is their real distance: it may differ from --seconds by one loop turn.
 */
struct window {
    uint64_t open_at, close_at; /* planned */
    uint64_t started, ended;    /* actual */
    int measuring;
    uint64_t last_event;
};

static void window_init(struct window *w)
{
    uint64_t t0 = now_ns();
    w->open_at = t0 + (uint64_t)(opt.warmup * NS_PER_S);
    w->close_at = w->open_at + (uint64_t)(opt.seconds * NS_PER_S);
    w->measuring = 0;
    w->last_event = t0;
}

/* Timeout for the next epoll_wait: wake up at the next window edge, and at least once a second
 * so a stall is noticed. */
static int window_timeout_ms(const struct window *w, uint64_t now)
{
    uint64_t edge = w->measuring ? w->close_at : w->open_at;
    if (now >= edge)
        return 0;
    uint64_t ms = (edge - now + 999999) / 1000000;
    return ms > 1000 ? 1000 : (int)ms;
}

/* Called after each epoll_wait; returns 0 when the window is over and the loop must stop. */
static int window_step(struct window *w, uint64_t now, int nevents)
{
    if (!w->measuring && now >= w->open_at) {
        w->measuring = 1;
        w->started = now;
    }
    if (w->measuring && now >= w->close_at) {
        w->ended = now;
        return 0;
    }
    if (nevents > 0)
        w->last_event = now;
    else if (now - w->last_event > STALL_NS)
        die("no progress for %llu s: the server stopped answering",
            (unsigned long long)(STALL_NS / NS_PER_S));
    return 1;
}

static double window_seconds(const struct window *w)
{
    return (double)(w->ended - w->started) / NS_PER_S;
}

/* ------------------------------------------------------------------------------------------ */
/* echo, bulk, tlsbulk: connections that each keep `depth` messages in flight.                */
/* ------------------------------------------------------------------------------------------ */

struct sconn {
    long id;
    int fd;
    SSL *ssl;       /* NULL for plain TCP */
    int handshaking;
    uint32_t interest;
    int out_blocked; /* the socket (or TLS) refused more output: wait for EPOLLOUT */
    int read_wants_out; /* TLS only: SSL_read needs to write before it can go on */
    uint64_t sent, received, queued, msgs_done;
};

static struct {
    uint64_t messages, bytes;
} stream_stats;

static void stream_received(struct sconn *c, const unsigned char *buf, size_t n, int measuring)
{
    if (c->received + n > c->sent)
        die("connection %ld received %llu bytes but only %llu were sent", c->id,
            (unsigned long long)(c->received + n), (unsigned long long)c->sent);
    if (memcmp(buf, pattern_at(c->id, c->received), n) != 0)
        die_mismatch(c->id, c->received, buf, n);
    c->received += n;
    /* Every `size` bytes back completes one message, which makes room for one more. */
    uint64_t done = c->received / (uint64_t)opt.size;
    uint64_t fresh = done - c->msgs_done;
    c->msgs_done = done;
    c->queued += fresh * (uint64_t)opt.size;
    if (measuring) {
        stream_stats.messages += fresh;
        stream_stats.bytes += n;
    }
}

static void stream_read_plain(struct sconn *c, int measuring)
{
    /* One read per level-triggered event: draining to EAGAIN would cost an extra syscall each
     * time, and whatever is left simply reports itself on the next turn. */
    ssize_t n = read(c->fd, rbuf, sizeof(rbuf));
    if (n > 0) {
        stream_received(c, rbuf, (size_t)n, measuring);
    } else if (n == 0) {
        die("unexpected EOF on connection %ld after %llu bytes", c->id,
            (unsigned long long)c->received);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        die("read on connection %ld: %s", c->id, strerror(errno));
    }
}

static void stream_read_tls(struct sconn *c, int measuring)
{
    /* Unlike a socket, an SSL object can hold decrypted data epoll knows nothing about, so read
     * until OpenSSL itself says it needs more from the network. */
    c->read_wants_out = 0;
    for (;;) {
        int n = SSL_read(c->ssl, rbuf, (int)sizeof(rbuf));
        if (n > 0) {
            stream_received(c, rbuf, (size_t)n, measuring);
            continue;
        }
        int err = SSL_get_error(c->ssl, n);
        if (err == SSL_ERROR_WANT_READ)
            return;
        if (err == SSL_ERROR_WANT_WRITE) {
            c->read_wants_out = 1;
            return;
        }
        if (err == SSL_ERROR_ZERO_RETURN)
            die("unexpected TLS close_notify on connection %ld", c->id);
        if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
            die("unexpected EOF on TLS connection %ld: %s", c->id,
                errno ? strerror(errno) : "peer closed");
        die_ssl("SSL_read", c->id);
    }
}

static void stream_write(struct sconn *c)
{
    c->out_blocked = 0;
    while (c->queued > 0) {
        size_t len = c->queued < MAX_CHUNK ? (size_t)c->queued : MAX_CHUNK;
        const unsigned char *p = pattern_at(c->id, c->sent);
        if (c->ssl == NULL) {
            ssize_t n = write(c->fd, p, len);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    c->out_blocked = 1;
                    return;
                }
                die("write on connection %ld: %s", c->id, strerror(errno));
            }
            c->sent += (uint64_t)n;
            c->queued -= (uint64_t)n;
            if ((size_t)n < len) {
                /* A short write means the send buffer is full: don't pay for an EAGAIN. */
                c->out_blocked = 1;
                return;
            }
        } else {
            /* Partial-write mode: SSL_write may take only part, the loop offers the rest. A retry
             * after WANT_WRITE offers the same bytes again (same offset, length never shorter),
             * as OpenSSL requires. */
            int n = SSL_write(c->ssl, p, (int)len);
            if (n > 0) {
                c->sent += (uint64_t)n;
                c->queued -= (uint64_t)n;
                continue;
            }
            int err = SSL_get_error(c->ssl, n);
            if (err == SSL_ERROR_WANT_WRITE) {
                c->out_blocked = 1;
                return;
            }
            if (err == SSL_ERROR_WANT_READ)
                return; /* EPOLLIN is always armed; the next read event retries */
            if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
                die("TLS write on connection %ld: %s", c->id,
                    errno ? strerror(errno) : "peer closed");
            die_ssl("SSL_write", c->id);
        }
    }
}

static void stream_update_interest(struct sconn *c)
{
    uint32_t want = EPOLLIN | ((c->out_blocked || c->read_wants_out) ? EPOLLOUT : 0);
    if (want != c->interest) {
        ep_ctl(EPOLL_CTL_MOD, c->fd, want, c);
        c->interest = want;
    }
}

static void stream_handshake(struct sconn *c)
{
    int r = SSL_connect(c->ssl);
    if (r == 1) {
        c->handshaking = 0;
        c->out_blocked = 0;
        stream_write(c); /* the first `depth` messages */
        return;
    }
    int err = SSL_get_error(c->ssl, r);
    if (err == SSL_ERROR_WANT_READ)
        c->out_blocked = 0;
    else if (err == SSL_ERROR_WANT_WRITE)
        c->out_blocked = 1;
    else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        die("TLS handshake on connection %ld: %s", c->id,
            errno ? strerror(errno) : "unexpected EOF");
    else
        die_ssl("TLS handshake", c->id);
}

static void stream_event(struct sconn *c, uint32_t ev, int measuring)
{
    if (c->ssl != NULL) {
        if (c->handshaking) {
            stream_handshake(c);
            if (c->handshaking) {
                stream_update_interest(c);
                return;
            }
        }
        /* TLS may need either direction for either operation, so try both on any event. */
        stream_read_tls(c, measuring);
        stream_write(c);
    } else {
        if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
            stream_read_plain(c, measuring);
        /* While blocked, only EPOLLOUT says the send buffer has room again. */
        if (!c->out_blocked || (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            stream_write(c);
    }
    stream_update_interest(c);
}

static SSL_CTX *tls_client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        die_ssl("SSL_CTX_new", -1);
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
        die_ssl("restricting to TLS 1.3", -1);
    /* The harness serves a throwaway self-signed certificate: there is nothing to verify. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

static int run_stream(int tls)
{
    SSL_CTX *ctx = tls ? tls_client_ctx() : NULL;
    struct sconn *cs = calloc((size_t)opt.conns, sizeof(*cs));
    if (cs == NULL)
        die("out of memory");
    for (long i = 0; i < opt.conns; i++) {
        struct sconn *c = &cs[i];
        c->id = i;
        c->fd = connect_blocking();
        set_nonblocking(c->fd);
        c->queued = (uint64_t)opt.depth * (uint64_t)opt.size;
        c->interest = EPOLLIN;
        ep_ctl(EPOLL_CTL_ADD, c->fd, c->interest, c);
        if (tls) {
            c->ssl = SSL_new(ctx);
            if (c->ssl == NULL || !SSL_set_fd(c->ssl, c->fd) ||
                !SSL_set_tlsext_host_name(c->ssl, "localhost"))
                die_ssl("SSL setup", i);
            SSL_set_connect_state(c->ssl);
            c->handshaking = 1;
            stream_handshake(c);
            if (!c->handshaking)
                stream_read_tls(c, 0);
        } else {
            stream_write(c);
        }
        stream_update_interest(c);
    }

    struct window w;
    window_init(&w);
    static struct epoll_event evs[MAX_EVENTS];
    uint64_t now = now_ns();
    for (;;) {
        int n = epoll_wait(epfd, evs, MAX_EVENTS, window_timeout_ms(&w, now));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        now = now_ns();
        if (!window_step(&w, now, n))
            break;
        for (int i = 0; i < n; i++)
            stream_event(evs[i].data.ptr, evs[i].events, w.measuring);
    }

    for (long i = 0; i < opt.conns; i++) {
        if (cs[i].ssl != NULL)
            SSL_free(cs[i].ssl); /* no close_notify: the echo stream is cut off mid-flight anyway */
        close(cs[i].fd);
    }
    free(cs);
    if (ctx != NULL)
        SSL_CTX_free(ctx);

    double secs = window_seconds(&w);
    printf("{\"mode\":\"%s\",\"conns\":%ld,\"size\":%ld,\"depth\":%ld,\"messages\":%llu,"
           "\"seconds\":%.3f,\"msg_per_s\":%.1f",
           prog_mode, opt.conns, opt.size, opt.depth, (unsigned long long)stream_stats.messages,
           secs, stream_stats.messages / secs);
    if (strcmp(prog_mode, "echo") != 0)
        printf(",\"bytes\":%llu,\"mb_per_s\":%.2f", (unsigned long long)stream_stats.bytes,
               stream_stats.bytes / secs / 1e6);
    printf(",\"errors\":0}\n");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* pingpong: one connection, one message in flight, round-trip percentiles.                   */
/* ------------------------------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, in microseconds. */
static double percentile_us(const uint64_t *v, size_t n, double q)
{
    size_t rank = (size_t)(q * (double)n + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)v[rank - 1] / 1e3;
}

static int run_pingpong(void)
{
    /*
     * Blocking send/recv: the round trip then includes the client's wake-up, as for any real
     * client, and the load generator does not burn a core spinning. On a small machine a spinning
     * client would take CPU from the server under test (a JVM has JIT and GC threads to run),
     * which would make the latency less honest, not more.
     */
    if (opt.size > 64 * 1024)
        usage("pingpong --size is limited to 65536 (a bigger message could deadlock blocking I/O)");
    int fd = connect_blocking();
    struct timeval tv = { .tv_sec = STALL_NS / NS_PER_S };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
        die("setsockopt(SO_RCVTIMEO): %s", strerror(errno));

    size_t cap = 1 << 16, count = 0;
    uint64_t *rtt = malloc(cap * sizeof(*rtt));
    if (rtt == NULL)
        die("out of memory");
    struct window w;
    window_init(&w);
    uint64_t offset = 0;
    size_t size = (size_t)opt.size;
    for (;;) {
        uint64_t t1 = now_ns();
        const unsigned char *msg = pattern_at(0, offset);
        for (size_t done = 0; done < size;) {
            ssize_t n = send(fd, msg + done, size - done, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                die("send: %s", errno == EAGAIN ? "timed out" : strerror(errno));
            }
            done += (size_t)n;
        }
        for (size_t got = 0; got < size;) {
            ssize_t n = recv(fd, rbuf, size - got, 0);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                die("recv: %s", errno == EAGAIN ? "no echo within 10 s" : strerror(errno));
            }
            if (n == 0)
                die("unexpected EOF after %llu bytes", (unsigned long long)(offset + got));
            if (memcmp(rbuf, pattern_at(0, offset + got), (size_t)n) != 0)
                die_mismatch(0, offset + got, rbuf, (size_t)n);
            got += (size_t)n;
        }
        uint64_t t2 = now_ns();
        offset += size;
        if (t2 >= w.close_at)
            break;
        if (t2 >= w.open_at) {
            if (count == cap) {
                cap *= 2;
                rtt = realloc(rtt, cap * sizeof(*rtt));
                if (rtt == NULL)
                    die("out of memory");
            }
            rtt[count++] = t2 - t1;
        }
    }
    close(fd);
    if (count == 0)
        die("no round trip completed inside the measured window");
    qsort(rtt, count, sizeof(*rtt), cmp_u64);
    double sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += (double)rtt[i];
    double secs = (double)(w.close_at - w.open_at) / NS_PER_S;
    printf("{\"mode\":\"pingpong\",\"size\":%ld,\"count\":%zu,\"seconds\":%.3f,\"rtt_per_s\":%.1f,"
           "\"mean_us\":%.3f,\"min_us\":%.3f,\"p50_us\":%.3f,\"p90_us\":%.3f,\"p99_us\":%.3f,"
           "\"p999_us\":%.3f,\"max_us\":%.3f,\"errors\":0}\n",
           opt.size, count, secs, count / secs, sum / count / 1e3, rtt[0] / 1e3,
           percentile_us(rtt, count, 0.50), percentile_us(rtt, count, 0.90),
           percentile_us(rtt, count, 0.99), percentile_us(rtt, count, 0.999),
           rtt[count - 1] / 1e3);
    free(rtt);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* churn: connect, one HTTP request, read the response, close, again.                         */
/* ------------------------------------------------------------------------------------------ */

static const char REQUEST[] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
#define REQUEST_LEN (sizeof(REQUEST) - 1)
#define BACKOFF_NS (1000000ull) /* 1 ms */

enum slot_state { SLOT_BACKOFF, SLOT_CONNECTING, SLOT_SENDING, SLOT_READING };

struct slot {
    long id;
    int fd;
    enum slot_state state;
    uint64_t retry_at;
    size_t req_sent;
    /* Response head collected until "\r\n\r\n"; the body is only counted. */
    char head[8192];
    size_t head_len;
    int head_done;
    long body_len, body_got;
};

static struct {
    uint64_t connections, addr_retries;
    long backing_off;
} churn_stats;

static void slot_start(struct slot *s, uint64_t now);

static void slot_backoff(struct slot *s, uint64_t now)
{
    /* Every ephemeral port is taken (mostly by TIME_WAIT sockets that tcp_tw_reuse may recycle
     * after a second): wait a moment instead of failing the run. */
    close(s->fd);
    s->fd = -1;
    s->state = SLOT_BACKOFF;
    s->retry_at = now + BACKOFF_NS;
    churn_stats.addr_retries++;
    churn_stats.backing_off++;
}

static void slot_start(struct slot *s, uint64_t now)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        die("socket: %s", strerror(errno));
    set_nodelay(s->fd);
    s->req_sent = 0;
    s->head_len = 0;
    s->head_done = 0;
    s->body_got = 0;
    if (connect(s->fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) != 0) {
        if (errno == EADDRNOTAVAIL) {
            slot_backoff(s, now);
            return;
        }
        if (errno != EINPROGRESS)
            die("connect to %s:%d: %s", opt.host, opt.port, strerror(errno));
        s->state = SLOT_CONNECTING;
    } else {
        s->state = SLOT_SENDING;
    }
    /*
     * Edge-triggered for both directions, registered once: the connect completion is one
     * EPOLLOUT edge and the response one EPOLLIN edge, so the socket needs a single epoll_ctl in
     * its whole life (no switch from "writable" to "readable" interest). Reads go on until the
     * response is complete or EAGAIN, as edge triggering requires.
     */
    ep_ctl(EPOLL_CTL_ADD, s->fd, EPOLLIN | EPOLLOUT | EPOLLET, s);
}

/* Parse the collected head; returns 1 once it is complete (body length then known). */
static int slot_parse_head(struct slot *s, size_t searched_from)
{
    size_t from = searched_from > 3 ? searched_from - 3 : 0;
    char *end = memmem(s->head + from, s->head_len - from, "\r\n\r\n", 4);
    if (end == NULL) {
        if (s->head_len == sizeof(s->head))
            die("response head longer than %zu bytes", sizeof(s->head));
        return 0;
    }
    size_t head_end = (size_t)(end - s->head) + 4;
    if (s->head_len < 12 || memcmp(s->head, "HTTP/1.", 7) != 0 || memcmp(s->head + 8, " 200", 4) != 0) {
        int l = 0;
        while ((size_t)l < head_end && l < 80 && s->head[l] != '\r' && s->head[l] != '\n')
            l++;
        die("expected an HTTP/1.x 200 response, got \"%.*s\"", l, s->head);
    }
    /* Content-Length, case-insensitively, from the header lines after the status line. */
    s->body_len = -1;
    char *line = (char *)memchr(s->head, '\n', head_end) + 1;
    while (line < s->head + head_end - 2) {
        char *eol = memchr(line, '\n', (size_t)(s->head + head_end - line));
        if (eol - line > 15 && strncasecmp(line, "content-length:", 15) == 0) {
            char *v = line + 15, *vend;
            while (*v == ' ' || *v == '\t')
                v++;
            errno = 0;
            long len = strtol(v, &vend, 10);
            if (errno != 0 || vend == v || len < 0)
                die("bad Content-Length header");
            s->body_len = len;
        }
        line = eol + 1;
    }
    if (s->body_len < 0)
        die("response has no Content-Length (chunked or close-delimited bodies are not supported)");
    s->head_done = 1;
    s->body_got = (long)(s->head_len - head_end);
    return 1;
}

static void slot_event(struct slot *s, int measuring, uint64_t now)
{
    if (s->state == SLOT_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            die("getsockopt(SO_ERROR): %s", strerror(errno));
        if (err == EADDRNOTAVAIL) {
            slot_backoff(s, now);
            return;
        }
        if (err != 0)
            die("connect to %s:%d: %s", opt.host, opt.port, strerror(err));
        s->state = SLOT_SENDING;
    }
    if (s->state == SLOT_SENDING) {
        while (s->req_sent < REQUEST_LEN) {
            ssize_t n = send(s->fd, REQUEST + s->req_sent, REQUEST_LEN - s->req_sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return; /* connect still pending or buffer full: the next EPOLLOUT edge */
                die("send: %s", strerror(errno));
            }
            s->req_sent += (size_t)n;
        }
        s->state = SLOT_READING;
    }
    for (;;) {
        ssize_t n;
        if (!s->head_done) {
            size_t before = s->head_len;
            n = read(s->fd, s->head + s->head_len, sizeof(s->head) - s->head_len);
            if (n > 0) {
                s->head_len += (size_t)n;
                slot_parse_head(s, before);
            }
        } else {
            n = read(s->fd, rbuf, sizeof(rbuf));
            if (n > 0)
                s->body_got += n;
        }
        if (n == 0)
            die("unexpected EOF before the response was complete");
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            die("read: %s", strerror(errno));
        }
        if (s->head_done && s->body_got >= s->body_len) {
            if (s->body_got > s->body_len)
                die("server sent %ld bytes after the response", s->body_got - s->body_len);
            close(s->fd);
            if (measuring)
                churn_stats.connections++;
            slot_start(s, now);
            return;
        }
    }
}

static int run_churn(void)
{
    struct slot *slots = calloc((size_t)opt.conns, sizeof(*slots));
    if (slots == NULL)
        die("out of memory");
    uint64_t now = now_ns();
    for (long i = 0; i < opt.conns; i++) {
        slots[i].id = i;
        slot_start(&slots[i], now);
    }
    struct window w;
    window_init(&w);
    static struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int timeout = window_timeout_ms(&w, now);
        if (churn_stats.backing_off > 0 && timeout > 1)
            timeout = 1;
        int n = epoll_wait(epfd, evs, MAX_EVENTS, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        now = now_ns();
        if (!window_step(&w, now, n + (int)churn_stats.backing_off))
            break;
        for (int i = 0; i < n; i++)
            slot_event(evs[i].data.ptr, w.measuring, now);
        if (churn_stats.backing_off > 0) {
            for (long i = 0; i < opt.conns; i++) {
                if (slots[i].state == SLOT_BACKOFF && slots[i].retry_at <= now) {
                    churn_stats.backing_off--;
                    slot_start(&slots[i], now);
                }
            }
        }
    }
    for (long i = 0; i < opt.conns; i++)
        if (slots[i].state != SLOT_BACKOFF)
            close(slots[i].fd);
    free(slots);
    double secs = window_seconds(&w);
    printf("{\"mode\":\"churn\",\"conns\":%ld,\"connections\":%llu,\"seconds\":%.3f,"
           "\"conn_per_s\":%.1f,\"addr_retries\":%llu,\"errors\":0}\n",
           opt.conns, (unsigned long long)churn_stats.connections, secs,
           churn_stats.connections / secs, (unsigned long long)churn_stats.addr_retries);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* handshake: connect, TLS 1.3 handshake, 1-byte echo, close; handshakes per second.          */
/* ------------------------------------------------------------------------------------------ */

/*
 * Every connection makes the same round of work whether it resumes or not: the handshake, then
 * "x" sent and its echo read. The echo is needed for resumption (TLS 1.3 session tickets come
 * after the handshake, and the server writes them before it echoes, so once "x" is back every
 * ticket has been processed), and doing it in the full-handshake runs too means the two figures
 * differ only in resumption.
 *
 * The result also carries client_cpu, this process's CPU time over the window in cores: a full
 * handshake costs the client more than the server (with OpenSSL 3.0, decoding the certificate
 * alone takes longer than the server's signature), so near 1.0 the figure is the load
 * generator's limit, not the server's.
 */
enum hs_state { HS_BACKOFF, HS_CONNECTING, HS_HANDSHAKE, HS_SEND, HS_ECHO };

struct hslot {
    long id;
    int fd;
    SSL *ssl;
    SSL_SESSION *session; /* --resume: what the next connection of this slot offers */
    enum hs_state state;
    uint64_t retry_at;
};

static struct {
    uint64_t handshakes, resumed, addr_retries;
    long backing_off;
} hs_stats;

static SSL_CTX *hs_ctx;

static void hs_backoff(struct hslot *s, uint64_t now)
{
    /* Out of ephemeral ports, as in churn: wait a moment instead of failing the run. */
    SSL_free(s->ssl);
    s->ssl = NULL;
    close(s->fd);
    s->fd = -1;
    s->state = HS_BACKOFF;
    s->retry_at = now + BACKOFF_NS;
    hs_stats.addr_retries++;
    hs_stats.backing_off++;
}

static void hs_start(struct hslot *s, uint64_t now)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        die("socket: %s", strerror(errno));
    set_nodelay(s->fd);
    s->ssl = SSL_new(hs_ctx);
    if (s->ssl == NULL || !SSL_set_fd(s->ssl, s->fd) ||
        !SSL_set_tlsext_host_name(s->ssl, "localhost"))
        die_ssl("SSL setup", s->id);
    SSL_set_connect_state(s->ssl);
    /* Without --resume no session is ever set, so every handshake is a full one whatever the
     * server does with tickets (it still sends them, and they are still read and parsed). */
    if (s->session != NULL && !SSL_set_session(s->ssl, s->session))
        die_ssl("SSL_set_session", s->id);
    if (connect(s->fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) != 0) {
        if (errno == EADDRNOTAVAIL) {
            hs_backoff(s, now);
            return;
        }
        if (errno != EINPROGRESS)
            die("connect to %s:%d: %s", opt.host, opt.port, strerror(errno));
        s->state = HS_CONNECTING;
    } else {
        s->state = HS_HANDSHAKE;
    }
    /*
     * Edge-triggered for both directions and registered once, as in churn. That is safe with
     * TLS because hs_event always goes on until OpenSSL reports WANT_READ or WANT_WRITE, which
     * it only does after the socket itself said EAGAIN, so the next edge is sure to come. Being
     * writable already, the new socket gets its first event without anything being called here
     * (so a slot never recurses into itself).
     */
    ep_ctl(EPOLL_CTL_ADD, s->fd, EPOLLIN | EPOLLOUT | EPOLLET, s);
}

/* For a TLS call that returned r <= 0: return if it only has to wait for the socket, else die. */
static void hs_check_wait(struct hslot *s, int r, const char *what)
{
    int err = SSL_get_error(s->ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return;
    if (err == SSL_ERROR_ZERO_RETURN)
        die("%s on connection %ld: the server sent close_notify", what, s->id);
    if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        die("%s on connection %ld: %s", what, s->id, errno ? strerror(errno) : "unexpected EOF");
    die_ssl(what, s->id);
}

/* The echo came back: keep the session if resuming, close, start this slot's next connection. */
static void hs_finish(struct hslot *s, uint64_t now)
{
    if (opt.resume) {
        /* Only now, after the tickets: the session of a TLS 1.3 connection is replaced by a new
         * one for each ticket, and the one from before the tickets cannot be resumed. A server
         * that sent no ticket this time leaves the session that was offered, which is then
         * offered again. */
        SSL_SESSION *sess = SSL_get1_session(s->ssl);
        if (sess != NULL && SSL_SESSION_is_resumable(sess)) {
            SSL_SESSION_free(s->session);
            s->session = sess;
        } else {
            SSL_SESSION_free(sess);
        }
    }
    /*
     * One close_notify, without waiting for the server's: the handshake is what is measured, not
     * the closing. The alert is a few dozen bytes on an idle socket, so it always fits; were it
     * refused, FIN still ends the connection. Sending it also keeps OpenSSL from marking the
     * session as not resumable, which it does to a connection freed without a shutdown.
     */
    if (SSL_shutdown(s->ssl) < 0)
        ERR_clear_error(); /* nothing to retry: the next connection must start clean */
    SSL_free(s->ssl);
    s->ssl = NULL;
    close(s->fd); /* also takes it out of the epoll set */
    hs_start(s, now);
}

static void hs_event(struct hslot *s, int measuring, uint64_t now)
{
    if (s->state == HS_BACKOFF)
        return; /* its socket is gone; the main loop restarts it */
    if (s->state == HS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            die("getsockopt(SO_ERROR): %s", strerror(errno));
        if (err == EADDRNOTAVAIL) {
            hs_backoff(s, now);
            return;
        }
        if (err != 0)
            die("connect to %s:%d: %s", opt.host, opt.port, strerror(err));
        s->state = HS_HANDSHAKE;
    }
    if (s->state == HS_HANDSHAKE) {
        int r = SSL_connect(s->ssl);
        if (r != 1) {
            hs_check_wait(s, r, "TLS handshake");
            return;
        }
        if (measuring) {
            hs_stats.handshakes++;
            if (SSL_session_reused(s->ssl))
                hs_stats.resumed++;
        }
        s->state = HS_SEND;
    }
    if (s->state == HS_SEND) {
        int r = SSL_write(s->ssl, "x", 1);
        if (r != 1) {
            hs_check_wait(s, r, "SSL_write");
            return;
        }
        s->state = HS_ECHO;
    }
    /* HS_ECHO. SSL_read handles the NewSessionTicket messages on its own and goes on reading;
     * it only comes back with application data or when the socket is empty. */
    int r = SSL_read(s->ssl, rbuf, (int)sizeof(rbuf));
    if (r <= 0) {
        hs_check_wait(s, r, "SSL_read");
        return;
    }
    if (r != 1 || rbuf[0] != 'x')
        die("connection %ld: sent \"x\", got %d bytes back starting with 0x%02x", s->id, r,
            rbuf[0]);
    hs_finish(s, now);
}

static int run_handshake(void)
{
    hs_ctx = tls_client_ctx();
    /* The benchmark is defined on X25519: offering nothing else pins the key exchange (and so
     * the cost of each handshake) whatever a server would prefer, instead of measuring each
     * server's own choice of group. */
    if (!SSL_CTX_set1_groups_list(hs_ctx, "X25519"))
        die_ssl("SSL_CTX_set1_groups_list(X25519)", -1);
    struct hslot *slots = calloc((size_t)opt.conns, sizeof(*slots));
    if (slots == NULL)
        die("out of memory");
    uint64_t now = now_ns();
    for (long i = 0; i < opt.conns; i++) {
        slots[i].id = i;
        hs_start(&slots[i], now);
    }
    struct window w;
    window_init(&w);
    /* Our own CPU time over the window (see client_cpu above). */
    struct rusage ru0 = { 0 }, ru1;
    static struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int timeout = window_timeout_ms(&w, now);
        if (hs_stats.backing_off > 0 && timeout > 1)
            timeout = 1;
        int n = epoll_wait(epfd, evs, MAX_EVENTS, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        now = now_ns();
        int was_measuring = w.measuring;
        if (!window_step(&w, now, n + (int)hs_stats.backing_off))
            break;
        if (w.measuring && !was_measuring)
            getrusage(RUSAGE_SELF, &ru0);
        for (int i = 0; i < n; i++)
            hs_event(evs[i].data.ptr, w.measuring, now);
        if (hs_stats.backing_off > 0) {
            for (long i = 0; i < opt.conns; i++) {
                if (slots[i].state == HS_BACKOFF && slots[i].retry_at <= now) {
                    hs_stats.backing_off--;
                    hs_start(&slots[i], now);
                }
            }
        }
    }
    getrusage(RUSAGE_SELF, &ru1);
    for (long i = 0; i < opt.conns; i++) {
        /* Cut off mid-way: no close_notify, the run is over. */
        SSL_free(slots[i].ssl);
        SSL_SESSION_free(slots[i].session);
        if (slots[i].state != HS_BACKOFF)
            close(slots[i].fd);
    }
    free(slots);
    SSL_CTX_free(hs_ctx);

    /* Checked before anything is printed, so that a failed run leaves no result line behind. */
    if (hs_stats.handshakes == 0)
        die("no handshake completed inside the measured window");
    /* A "resumed" figure made mostly of full handshakes would be a wrong figure, not a slow one.
     * (A slot's very first handshake is always full; that is why the bar is not 100%.) */
    if (opt.resume && hs_stats.resumed * 10 < hs_stats.handshakes * 9)
        die("--resume: only %llu of %llu handshakes resumed (below 90%%): the server does not "
            "accept the tickets it issued, or issues none",
            (unsigned long long)hs_stats.resumed, (unsigned long long)hs_stats.handshakes);
    double secs = window_seconds(&w);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    printf("{\"mode\":\"handshake\",\"conns\":%ld,\"resume\":%s,\"handshakes\":%llu,"
           "\"resumed\":%llu,\"seconds\":%.3f,\"handshakes_per_s\":%.1f,\"client_cpu\":%.2f,"
           "\"addr_retries\":%llu,\"errors\":0}\n",
           opt.conns, opt.resume ? "true" : "false", (unsigned long long)hs_stats.handshakes,
           (unsigned long long)hs_stats.resumed, secs, hs_stats.handshakes / secs, cpu / secs,
           (unsigned long long)hs_stats.addr_retries);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* idle: open many connections, prove each with a one-byte echo, then just hold them.         */
/* ------------------------------------------------------------------------------------------ */

#define IDLE_MAX_INFLIGHT 256

enum idle_state { IDLE_CONNECTING, IDLE_AWAIT_ECHO, IDLE_DONE };

struct iconn {
    int fd;
    enum idle_state state;
};

static void idle_start(struct iconn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket: %s", strerror(errno));
    set_nodelay(c->fd);
    if (connect(c->fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) != 0 &&
        errno != EINPROGRESS)
        die("connect to %s:%d: %s", opt.host, opt.port, strerror(errno));
    c->state = IDLE_CONNECTING;
    ep_ctl(EPOLL_CTL_ADD, c->fd, EPOLLOUT, c);
}

/* Returns 1 when the connection has finished its set-up. */
static int idle_event(struct iconn *c)
{
    if (c->state == IDLE_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            die("getsockopt(SO_ERROR): %s", strerror(errno));
        if (err != 0)
            die("connect to %s:%d: %s", opt.host, opt.port, strerror(err));
        ssize_t n = send(c->fd, "x", 1, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            die("send: %s", strerror(errno));
        }
        c->state = IDLE_AWAIT_ECHO;
        ep_ctl(EPOLL_CTL_MOD, c->fd, EPOLLIN, c);
        return 0;
    }
    char ch;
    ssize_t n = read(c->fd, &ch, 1);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        die("read: %s", strerror(errno));
    }
    if (n == 0)
        die("unexpected EOF while waiting for the echo of \"x\"");
    if (ch != 'x')
        die("echo content mismatch: sent 0x78, got 0x%02x", (unsigned char)ch);
    /* Set up: from now on the connection just sits there, so take it out of the epoll set. */
    ep_ctl(EPOLL_CTL_DEL, c->fd, 0, NULL);
    c->state = IDLE_DONE;
    return 1;
}

static int run_idle(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)opt.conns + 16 > rl.rlim_cur)
        die("--conns %ld needs more descriptors than the limit of %llu", opt.conns,
            (unsigned long long)rl.rlim_cur);
    /* SIGTERM ends the hold phase; it arrives through a signalfd so the closing is orderly. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    if (sigprocmask(SIG_BLOCK, &term, NULL) != 0)
        die("sigprocmask: %s", strerror(errno));
    int sfd = signalfd(-1, &term, SFD_CLOEXEC);
    if (sfd < 0)
        die("signalfd: %s", strerror(errno));

    struct iconn *cs = calloc((size_t)opt.conns, sizeof(*cs));
    if (cs == NULL)
        die("out of memory");
    /* At most 256 connections being set up at once, so a burst never overflows the server's
     * accept queue (dropped SYNs would only add one-second retransmit stalls). */
    long started = 0, done = 0, inflight = 0;
    static struct epoll_event evs[MAX_EVENTS];
    uint64_t last_event = now_ns();
    while (done < opt.conns) {
        while (inflight < IDLE_MAX_INFLIGHT && started < opt.conns) {
            idle_start(&cs[started++]);
            inflight++;
        }
        int n = epoll_wait(epfd, evs, MAX_EVENTS, 1000);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        uint64_t now = now_ns();
        if (n > 0)
            last_event = now;
        else if (now - last_event > STALL_NS)
            die("stalled with %ld of %ld connections set up", done, opt.conns);
        for (int i = 0; i < n; i++) {
            if (idle_event(evs[i].data.ptr)) {
                done++;
                inflight--;
            }
        }
    }
    printf("{\"mode\":\"idle\",\"connected\":%ld}\n", done);
    fflush(stdout);

    /* Hold until the harness closes our stdin or sends SIGTERM. */
    struct pollfd pfd[2] = { { .fd = 0, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (pfd[1].revents)
            break;
        if (pfd[0].revents) {
            char b[512];
            ssize_t r = read(0, b, sizeof(b));
            if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
                break; /* EOF, or stdin unusable (closed): nothing left to wait for */
        }
    }
    for (long i = 0; i < opt.conns; i++)
        close(cs[i].fd);
    free(cs);
    close(sfd);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

static long parse_long(const char *name, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "loadgen: %s needs an integer from %ld to %ld, got \"%s\"\n", name, min,
                max, s);
        exit(2);
    }
    return v;
}

static double parse_seconds(const char *name, const char *s, double min)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min) || v > 86400) {
        fprintf(stderr, "loadgen: %s needs a number of seconds (>= %g), got \"%s\"\n", name, min,
                s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage("missing MODE");
    prog_mode = argv[1];
    /* Per-mode defaults, chosen to match the benchmark definitions. */
    opt.host = "127.0.0.1";
    opt.port = -1;
    opt.warmup = 1;
    opt.seconds = 5;
    if (strcmp(prog_mode, "echo") == 0) {
        opt.conns = 50, opt.size = 64, opt.depth = 16;
    } else if (strcmp(prog_mode, "bulk") == 0) {
        opt.conns = 1, opt.size = 65536, opt.depth = 4;
    } else if (strcmp(prog_mode, "pingpong") == 0) {
        opt.conns = 1, opt.size = 64, opt.depth = 1;
    } else if (strcmp(prog_mode, "churn") == 0) {
        opt.conns = 16, opt.size = 0, opt.depth = 1;
    } else if (strcmp(prog_mode, "idle") == 0) {
        opt.conns = 10000, opt.size = 1, opt.depth = 1;
    } else if (strcmp(prog_mode, "tlsbulk") == 0) {
        opt.conns = 1, opt.size = 16384, opt.depth = 4;
    } else if (strcmp(prog_mode, "handshake") == 0) {
        opt.conns = 4, opt.size = 1, opt.depth = 1;
    } else {
        usage("unknown MODE");
    }
    for (int i = 2; i < argc; i++) {
        const char *name = argv[i];
        if (strncmp(name, "--", 2) != 0)
            usage("options start with --");
        /* The one option without a value; it would be silently meaningless in any other mode. */
        if (strcmp(name, "--resume") == 0) {
            if (strcmp(prog_mode, "handshake") != 0)
                usage("--resume is only for the handshake mode");
            opt.resume = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "loadgen: %s needs a value\n", name);
            exit(2);
        }
        const char *val = argv[++i];
        if (strcmp(name, "--port") == 0)
            opt.port = (int)parse_long(name, val, 1, 65535);
        else if (strcmp(name, "--host") == 0)
            opt.host = val;
        else if (strcmp(name, "--conns") == 0)
            opt.conns = parse_long(name, val, 1, 1000000);
        else if (strcmp(name, "--size") == 0)
            opt.size = parse_long(name, val, 1, 1L << 30);
        else if (strcmp(name, "--depth") == 0)
            opt.depth = parse_long(name, val, 1, 1000000);
        else if (strcmp(name, "--warmup") == 0)
            opt.warmup = parse_seconds(name, val, 0);
        else if (strcmp(name, "--seconds") == 0)
            opt.seconds = parse_seconds(name, val, 0.001);
        else {
            fprintf(stderr, "loadgen: unknown option %s\n", name);
            exit(2);
        }
    }
    if (opt.port < 0)
        usage("--port is required");
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.host, &server_addr.sin_addr) != 1)
        usage("--host must be an IPv4 address such as 127.0.0.1");

    for (int i = 0; i < (int)sizeof(pattern); i++)
        pattern[i] = (unsigned char)i;
    /* A server that resets mid-write must produce EPIPE and a message, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1: %s", strerror(errno));

    int rc;
    if (strcmp(prog_mode, "echo") == 0 || strcmp(prog_mode, "bulk") == 0)
        rc = run_stream(0);
    else if (strcmp(prog_mode, "tlsbulk") == 0)
        rc = run_stream(1);
    else if (strcmp(prog_mode, "pingpong") == 0)
        rc = run_pingpong();
    else if (strcmp(prog_mode, "churn") == 0)
        rc = run_churn();
    else if (strcmp(prog_mode, "handshake") == 0)
        rc = run_handshake();
    else
        rc = run_idle();
    fflush(stdout);
    return rc;
}
