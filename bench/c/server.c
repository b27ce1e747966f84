/*
 * server.c - the C reference server of the lori-ffm benchmark harness ("the ceiling").
 *
 * A single-threaded epoll server with no framework in the way: whatever lori-ffm, Netty or NIO
 * achieve is compared against what this does on the same machine in the same run.
 *
 * Usage: server --mode http|echo [--port P]
 *   --mode http   answer every HTTP request head (anything ending in "\r\n\r\n") with a fixed
 *                 78-byte "Hello, World!" response; pipelined heads are answered in one write
 *   --mode echo   write back every byte received, in order
 *   --port P      TCP port on 127.0.0.1; 0 (the default) picks an ephemeral port
 *
 * Once listening it prints "listening on 127.0.0.1:PORT" on stdout, so a harness can start it
 * with --port 0 and read the port back. It runs until SIGTERM or SIGINT, then exits 0.
 *
 * Build: gcc -O2 -Wall -Wextra -o server server.c
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

enum mode { MODE_HTTP, MODE_ECHO };

struct conn {
    int open;
    /* How many bytes of "\r\n\r\n" the stream currently ends with (0..3), carried between reads. */
    uint8_t matched;
    /* Bytes a partial write left behind; while any remain the connection is not read. */
    char *pending;
    size_t pending_off, pending_len, pending_cap;
};

static enum mode mode;
static int epfd = -1;
static struct conn *conns; /* indexed by fd: the fd limit bounds the table */
static size_t conns_cap;
static char *responses; /* MAX_HEADS_PER_READ copies of RESPONSE back to back */
/* A spare descriptor to give up when accept hits EMFILE, so the waiting connection can be
 * accepted and dropped instead of the level-triggered listener waking us in a busy loop. */
static int spare_fd = -1;

static void die(const char *what)
{
    fprintf(stderr, "server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void usage(const char *msg)
{
    fprintf(stderr, "server: %s\nusage: server --mode http|echo [--port P]\n", msg);
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
    free(c->pending);
    memset(c, 0, sizeof(*c));
    /* close() also removes the fd from the epoll set: nobody else holds a duplicate of it. */
    close(fd);
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
    size_t rest = len - (size_t)n;
    if (rest > c->pending_cap) {
        char *p = realloc(c->pending, rest);
        if (p == NULL) {
            fprintf(stderr, "server: out of memory for %zu pending bytes\n", rest);
            exit(1);
        }
        c->pending = p;
        c->pending_cap = rest;
    }
    memcpy(c->pending, buf + n, rest);
    c->pending_off = 0;
    c->pending_len = rest;
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
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            die("epoll_ctl(ADD)");
        conns[fd].open = 1;
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
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage(strcmp(a, "--mode") == 0 || strcmp(a, "--port") == 0 ? "missing value"
                                                                       : "unknown argument");
        if (strcmp(a, "--mode") == 0) {
            const char *m = argv[++i];
            if (strcmp(m, "http") == 0)
                mode = MODE_HTTP;
            else if (strcmp(m, "echo") == 0)
                mode = MODE_ECHO;
            else
                usage("--mode must be http or echo");
            have_mode = 1;
        } else if (strcmp(a, "--port") == 0) {
            port = parse_port(argv[++i]);
        } else {
            usage("unknown argument");
        }
    }
    if (!have_mode)
        usage("--mode is required");

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
            } else if (conns[fd].open) { /* skip events of a connection closed earlier this turn */
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
    return 0;
}
