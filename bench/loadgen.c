/*
 * loadgen.c - the load client of the C10K comparison (bench/c10k.py).
 *
 * One thread, one epoll set, N non-blocking connections. Each connection
 * sends a message of S bytes, waits until all S bytes have come back, checks
 * every byte, and only then sends the next one, M times (or until --duration
 * runs out). It measures what a client sees: connections established and
 * held, echoed messages per second, and latency percentiles. Given the
 * server's pid it also reads, from /proc, what the server spent: CPU time
 * (user + system) during the message phase, and its resident memory before
 * the first connection and with all of them open.
 *
 * Three phases, so that each figure measures one thing:
 *   1. connect: open all N connections (at most --max-connecting in flight,
 *      so the server's listen backlog is not flooded);
 *   2. messages: every connection runs its messages; a connection that is
 *      done stays open until the last one is done, so at the end of this
 *      phase all N are open at once (that is what "held" means);
 *   3. close: each connection shuts down its sending side and expects the
 *      server to close without another byte.
 *
 * It is built to be lighter than any server it measures: messages are
 * windows into one random buffer made at start-up (nothing generated per
 * byte), and checking an echo is a memcmp against the same window. The
 * buffer is random, so a lost, repeated or changed byte cannot match.
 *
 * Exit status: 0 when every connection was established, held, echoed every
 * byte and closed cleanly; 1 on any error (mismatch, unexpected or missing
 * bytes, early close, a connection refused, the --timeout reached); 2 on a
 * bad command line. Every run is bounded: a finite count of messages and a
 * deadline (--timeout) after which it reports what was still pending.
 */
#define _GNU_SOURCE /* epoll, accept4-era socket flags (SOCK_NONBLOCK) */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: loadgen --port N [--host ADDR] [--connections N] [--messages M]\n"
    "               [--size BYTES] [--duration SECONDS] [--timeout SECONDS]\n"
    "               [--server-pid PID] [--max-connecting K]\n"
    "\n"
    "Opens N connections to an echo server (default 1, at most 100000),\n"
    "then each one sends M messages (default 100, at most 10000000) of BYTES\n"
    "bytes (default 64, at most 1048576), one at a time, checking every byte\n"
    "of every echo. With --duration a connection starts no new message after\n"
    "SECONDS of the message phase (M stays the upper bound). --timeout\n"
    "(default 60 s) bounds the whole run. ADDR is an IPv4 address, default\n"
    "127.0.0.1. With --server-pid the server's CPU time and memory are read\n"
    "from /proc. At most K connects (default 256) are in flight at once.\n"
    "\n"
    "Prints a summary, then one line 'RESULT key=value ...' for scripts.\n"
    "Exit status 0 if every byte came back and every connection was held\n"
    "and closed cleanly, 1 on any error, 2 on a bad command line.\n";

#define MAX_CONNECTIONS 100000L
#define MAX_MESSAGES 10000000L
#define MAX_SIZE (1L << 20)
#define MAX_SAMPLES 50000000L /* latency samples kept: 200 MB of floats */
#define PATTERN_SPREAD 4096   /* distinct message start offsets */
#define ERRORS_SHOWN 10

/* ---- options ---------------------------------------------------------- */

struct options {
    const char *host;
    long port;
    long connections;
    long messages;
    long size;
    double duration_s; /* 0: no limit but the count */
    double timeout_s;
    long server_pid; /* 0: not given */
    long max_connecting;
};

static _Noreturn void usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'loadgen --help'.\n");
    va_end(ap);
    exit(2);
}

/* Decimal digits only, in [min, max]; no sign, no blanks, no hex. */
static long parse_count(const char *name, const char *text, long min, long max)
{
    long value = 0;
    const char *p = text;

    if (*p == '\0')
        usage_error("%s needs a number", name);
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || value > (max + 9) / 10)
            usage_error("%s: bad value '%s'", name, text);
        value = value * 10 + (*p - '0');
    }
    if (value < min || value > max)
        usage_error("%s: '%s' is out of range (%ld to %ld)", name, text,
                    min, max);
    return value;
}

/* A positive decimal such as 5, 0.5 or .25, at most one day. */
static double parse_seconds(const char *name, const char *text)
{
    double value = 0, scale = 1;
    int digits = 0, dot = 0;

    for (const char *p = text; *p; p++) {
        if (*p == '.' && !dot) {
            dot = 1;
        } else if (*p >= '0' && *p <= '9') {
            digits++;
            if (dot)
                value += (*p - '0') * (scale /= 10);
            else
                value = value * 10 + (*p - '0');
            if (value > 86400)
                usage_error("%s: '%s' is out of range (at most a day)", name,
                            text);
        } else {
            usage_error("%s: bad number of seconds '%s'", name, text);
        }
    }
    if (digits == 0 || value < 0.001)
        usage_error("%s: bad number of seconds '%s' (at least 0.001)",
                    name, text);
    return value;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"connections", required_argument, NULL, 'c'},
        {"messages", required_argument, NULL, 'm'},
        {"size", required_argument, NULL, 's'},
        {"duration", required_argument, NULL, 'd'},
        {"timeout", required_argument, NULL, 't'},
        {"server-pid", required_argument, NULL, 'P'},
        {"max-connecting", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    struct in_addr unused;
    int c;

    *o = (struct options){"127.0.0.1", -1, 1, 100, 64, 0, 60, 0, 256};
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': o->host = optarg; break;
        case 'p': o->port = parse_count("--port", optarg, 1, 65535); break;
        case 'c':
            o->connections = parse_count("--connections", optarg, 1,
                                         MAX_CONNECTIONS);
            break;
        case 'm':
            o->messages = parse_count("--messages", optarg, 1, MAX_MESSAGES);
            break;
        case 's': o->size = parse_count("--size", optarg, 1, MAX_SIZE); break;
        case 'd': o->duration_s = parse_seconds("--duration", optarg); break;
        case 't': o->timeout_s = parse_seconds("--timeout", optarg); break;
        case 'P':
            o->server_pid = parse_count("--server-pid", optarg, 1, 1L << 30);
            break;
        case 'k':
            o->max_connecting = parse_count("--max-connecting", optarg, 1,
                                            MAX_CONNECTIONS);
            break;
        case 'H': fputs(usage, stdout); exit(0);
        case ':': usage_error("option '%s' needs a value", argv[optind - 1]);
        default: usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (o->port < 0)
        usage_error("--port is required");
    if (inet_pton(AF_INET, o->host, &unused) != 1)
        usage_error("--host '%s' is not an IPv4 address", o->host);
    if (o->connections * o->messages > MAX_SAMPLES)
        usage_error("--connections x --messages: at most %ld messages in "
                    "one run", MAX_SAMPLES);
}

/* ---- the server, seen through /proc ----------------------------------- */

/* User + system CPU seconds of a whole process (all its threads), or -1. */
static double proc_cpu_s(long pid)
{
    char path[64], buf[1024];
    unsigned long long utime, stime;
    FILE *f;
    size_t n;
    char *p;

    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name in parentheses may hold blanks: skip past its ')',
     * then field 3 (state) ... utime and stime are fields 14 and 15. */
    if (!(p = strrchr(buf, ')')) ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
               &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* Resident memory of a process in KiB (VmRSS), or -1. */
static long proc_rss_kib(long pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* ---- connections ------------------------------------------------------ */

enum conn_state {
    C_NEW,        /* not yet opened */
    C_CONNECTING, /* connect() in flight */
    C_READY,      /* connected, no message yet */
    C_ECHO,       /* a message is out, its echo is coming back */
    C_DONE,       /* all its messages echoed, held open */
    C_CLOSING,    /* sent FIN, waiting for the server's */
    C_CLOSED,     /* closed cleanly */
    C_FAILED,     /* an error was reported; fd closed */
};

struct conn {
    int fd;
    enum conn_state state;
    uint32_t events;  /* what epoll watches for it now */
    long done;        /* messages fully echoed */
    long sent, recvd; /* bytes of the current message */
    long offset;      /* where the current message starts in the pattern */
    double started;   /* when the current message's first byte went out */
};

static struct {
    struct options opt;
    struct conn *conns;
    int epfd;
    unsigned char *pattern; /* size + PATTERN_SPREAD random bytes */
    unsigned char *scratch; /* receive buffer, size bytes */
    float *latency;         /* one sample per echoed message, seconds */
    long samples;
    long errors;
    long established, connecting, echoing, closing;
    double message_deadline; /* no new message after this (0: none) */
} g;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *fmt, ...)
{
    va_list ap;

    if (++g.errors > ERRORS_SHOWN)
        return;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (g.errors == ERRORS_SHOWN)
        fprintf(stderr, "loadgen: (further errors only counted)\n");
}

static void watch(long i, uint32_t events)
{
    struct conn *c = &g.conns[i];
    struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)i};

    if (c->events == events)
        return;
    if (epoll_ctl(g.epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        perror("loadgen: epoll_ctl");
        exit(1);
    }
    c->events = events;
}

/* Leave the counters of the state the connection was in. */
static void leave_state(struct conn *c)
{
    if (c->state == C_CONNECTING)
        g.connecting--;
    else if (c->state == C_ECHO)
        g.echoing--;
    else if (c->state == C_CLOSING)
        g.closing--;
}

static void fail(long i, const char *what, int err)
{
    struct conn *c = &g.conns[i];

    if (err)
        report("connection %ld, message %ld: %s: %s", i, c->done, what,
               strerror(err));
    else
        report("connection %ld, message %ld: %s", i, c->done, what);
    leave_state(c);
    close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
    c->state = C_FAILED;
}

/* Start connect() number i; 0, or -1 when no descriptor is left. */
static int open_conn(long i, const struct sockaddr_in *addr)
{
    struct conn *c = &g.conns[i];
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)i};
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        int err = errno;
        c->state = C_FAILED;
        report("connection %ld: socket: %s", i, strerror(err));
        return err == EMFILE || err == ENFILE ? -1 : 0;
    }
    /* Small messages go out at once instead of waiting for Nagle. */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = C_CONNECTING;
    g.connecting++;
    if (connect(c->fd, (const struct sockaddr *)addr, sizeof *addr) < 0 &&
        errno != EINPROGRESS) {
        fail(i, "connect", errno);
        return 0;
    }
    if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        fail(i, "epoll_ctl", errno);
        return 0;
    }
    c->events = EPOLLOUT;
    return 0;
}

static void on_connected(long i)
{
    struct conn *c = &g.conns[i];
    int err = 0;
    socklen_t len = sizeof err;

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        fail(i, "connect", err);
        return;
    }
    g.connecting--;
    g.established++;
    c->state = C_READY;
    watch(i, EPOLLIN); /* anything from the server now is an error */
}

/* Send what is left of the current message; watch for room if needed. */
static void send_more(long i)
{
    struct conn *c = &g.conns[i];

    while (c->sent < g.opt.size) {
        ssize_t n = send(c->fd, g.pattern + c->offset + c->sent,
                         (size_t)(g.opt.size - c->sent), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            fail(i, "send", errno);
            return;
        }
        c->sent += n;
    }
    watch(i, c->sent < g.opt.size ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static void start_message(long i, double now)
{
    struct conn *c = &g.conns[i];

    if (c->done >= g.opt.messages ||
        (g.message_deadline > 0 && now >= g.message_deadline)) {
        c->state = C_DONE;
        watch(i, EPOLLIN);
        return;
    }
    /* A different window of the pattern for every message. */
    c->offset = (long)(((unsigned long)i * 7919u + (unsigned long)c->done *
                        104729u) % PATTERN_SPREAD);
    c->sent = c->recvd = 0;
    c->started = now;
    if (c->state != C_ECHO)
        g.echoing++;
    c->state = C_ECHO;
    send_more(i);
}

/* Bytes arrived for the current message: check each against the pattern. */
static void receive_echo(long i)
{
    struct conn *c = &g.conns[i];
    ssize_t n;

    /* Never read past the message: a byte too many must stay in the socket
     * to be seen as one. */
    n = recv(c->fd, g.scratch, (size_t)(g.opt.size - c->recvd), 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            fail(i, "recv", errno);
        return;
    }
    if (n == 0) {
        char what[96];
        snprintf(what, sizeof what, "server closed with %ld of %ld bytes "
                 "echoed", c->recvd, g.opt.size);
        fail(i, what, 0);
        return;
    }
    if (c->recvd + n > c->sent) {
        fail(i, "server sent bytes that were never sent to it", 0);
        return;
    }
    if (memcmp(g.scratch, g.pattern + c->offset + c->recvd, (size_t)n) != 0) {
        long at = 0;
        char what[128];
        while (g.scratch[at] == g.pattern[c->offset + c->recvd + at])
            at++;
        snprintf(what, sizeof what, "byte %ld of the echo is 0x%02x, "
                 "expected 0x%02x", c->recvd + at, g.scratch[at],
                 g.pattern[c->offset + c->recvd + at]);
        fail(i, what, 0);
        return;
    }
    c->recvd += n;
    if (c->recvd == g.opt.size) {
        double now = now_s();
        if (g.samples < MAX_SAMPLES)
            g.latency[g.samples++] = (float)(now - c->started);
        c->done++;
        start_message(i, now);
        if (c->state == C_DONE)
            g.echoing--;
    }
}

/* Readable while nothing is expected: bytes or an early close. */
static void unexpected_input(long i)
{
    struct conn *c = &g.conns[i];
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, 0);

    if (n > 0)
        fail(i, "server sent a byte nobody asked for", 0);
    else if (n == 0)
        fail(i, c->state == C_READY ? "server closed before any message"
                                    : "server closed while held",
             0);
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        fail(i, "recv", errno);
}

static void on_closing(long i)
{
    struct conn *c = &g.conns[i];
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, 0);

    if (n > 0) {
        fail(i, "server sent a byte after the last echo", 0);
    } else if (n == 0) {
        g.closing--;
        close(c->fd);
        c->fd = -1;
        c->state = C_CLOSED;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        fail(i, "recv after shutdown", errno);
    }
}

static void dispatch(long i, uint32_t events)
{
    struct conn *c = &g.conns[i];

    switch (c->state) {
    case C_CONNECTING: on_connected(i); break;
    case C_READY:
    case C_DONE: unexpected_input(i); break;
    case C_ECHO:
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            receive_echo(i);
        if (c->state == C_ECHO && (events & EPOLLOUT) && c->sent < g.opt.size)
            send_more(i);
        break;
    case C_CLOSING: on_closing(i); break;
    default: break;
    }
}

/* Run the event loop while *pending > 0; 0, or -1 at the deadline. */
static int run_while(const long *pending, double deadline,
                     void (*more)(void))
{
    struct epoll_event events[1024];

    while (*pending > 0) {
        double left = deadline - now_s();
        int n;

        if (left <= 0)
            return -1;
        n = epoll_wait(g.epfd, events, 1024, left > 1 ? 1000
                                                      : (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: epoll_wait");
            exit(1);
        }
        for (int k = 0; k < n; k++)
            dispatch((long)events[k].data.u64, events[k].events);
        if (more)
            more();
    }
    return 0;
}

/* ---- the three phases -------------------------------------------------- */

static struct sockaddr_in server_addr;
static long next_to_open;
static int out_of_fds;

/* Keep up to max_connecting connects in flight. */
static void open_more(void)
{
    while (!out_of_fds && next_to_open < g.opt.connections &&
           g.connecting < g.opt.max_connecting) {
        if (open_conn(next_to_open++, &server_addr) < 0) {
            out_of_fds = 1;
            report("out of descriptors after %ld connections "
                   "(RLIMIT_NOFILE)", next_to_open - 1);
        }
    }
}

static long pending_opens;

static void open_more_and_count(void)
{
    open_more();
    pending_opens = g.connecting +
                    (out_of_fds ? 0 : g.opt.connections - next_to_open);
}

static void describe_pending(const char *phase)
{
    long shown = 0;

    report("timeout after %.1f s in the %s phase: %ld connecting, %ld "
           "waiting for an echo, %ld waiting for the server to close",
           g.opt.timeout_s, phase, g.connecting, g.echoing, g.closing);
    for (long i = 0; i < g.opt.connections && shown < 3; i++) {
        struct conn *c = &g.conns[i];
        if (c->state == C_ECHO) {
            fprintf(stderr, "loadgen:   connection %ld, message %ld: sent "
                    "%ld of %ld bytes, %ld echoed\n", i, c->done, c->sent,
                    g.opt.size, c->recvd);
            shown++;
        }
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double percentile_us(double p)
{
    long k;

    if (g.samples == 0)
        return 0;
    k = (long)(p * (double)(g.samples - 1) + 0.5);
    return g.latency[k] * 1e6;
}

static void raise_nofile(long need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= (rlim_t)need)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= (rlim_t)need
                      ? (rlim_t)need
                      : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < (rlim_t)need)
        fprintf(stderr, "loadgen: note: RLIMIT_NOFILE is %llu, so at most "
                "about that many connections can be opened\n",
                (unsigned long long)rl.rlim_cur);
}

static void setup(void)
{
    unsigned long long x = 0x9E3779B97F4A7C15ull;

    g.conns = calloc((size_t)g.opt.connections, sizeof *g.conns);
    g.pattern = malloc((size_t)g.opt.size + PATTERN_SPREAD);
    g.scratch = malloc((size_t)g.opt.size);
    g.latency = malloc(sizeof(float) *
                       (size_t)(g.opt.connections * g.opt.messages));
    g.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!g.conns || !g.pattern || !g.scratch || !g.latency || g.epfd < 0) {
        perror("loadgen: set-up");
        exit(1);
    }
    for (long i = 0; i < g.opt.connections; i++)
        g.conns[i].fd = -1; /* C_NEW: nothing to close yet */
    for (long k = 0; k < g.opt.size + PATTERN_SPREAD; k++) {
        x ^= x << 13; /* xorshift64: cheap, and no short period */
        x ^= x >> 7;
        x ^= x << 17;
        g.pattern[k] = (unsigned char)(x >> 56);
    }
    memset(&server_addr, 0, sizeof server_addr);
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((unsigned short)g.opt.port);
    inet_pton(AF_INET, g.opt.host, &server_addr.sin_addr);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    double start, t0, t1 = 0, deadline, cpu0 = -1, cpu1 = -1;
    long rss0 = -1, rss1 = -1, held = 0, closed = 0;
    int timed_out = 0;

    parse_options(argc, argv, &g.opt);
    raise_nofile(g.opt.connections + 16);
    setup();
    start = now_s();
    deadline = start + g.opt.timeout_s;
    if (g.opt.server_pid)
        rss0 = proc_rss_kib(g.opt.server_pid);
    printf("loadgen: %ld connection(s) x %ld message(s) x %ld B to %s:%ld\n",
           g.opt.connections, g.opt.messages, g.opt.size, g.opt.host,
           g.opt.port);

    /* 1. connect */
    open_more_and_count();
    if (run_while(&pending_opens, deadline, open_more_and_count) < 0) {
        describe_pending("connect");
        timed_out = 1;
    }

    /* 2. messages */
    t0 = now_s();
    if (g.opt.server_pid)
        cpu0 = proc_cpu_s(g.opt.server_pid);
    if (g.opt.duration_s > 0)
        g.message_deadline = t0 + g.opt.duration_s;
    for (long i = 0; i < g.opt.connections && !timed_out; i++)
        if (g.conns[i].state == C_READY)
            start_message(i, t0);
    if (!timed_out && run_while(&g.echoing, deadline, NULL) < 0) {
        describe_pending("message");
        timed_out = 1;
    }
    t1 = now_s();
    if (g.opt.server_pid) {
        cpu1 = proc_cpu_s(g.opt.server_pid);
        rss1 = proc_rss_kib(g.opt.server_pid);
    }
    for (long i = 0; i < g.opt.connections; i++)
        held += g.conns[i].state == C_DONE;

    /* 3. close: our FIN, then the server's, and not a byte more */
    for (long i = 0; i < g.opt.connections && !timed_out; i++) {
        struct conn *c = &g.conns[i];
        if (c->state != C_DONE)
            continue;
        if (shutdown(c->fd, SHUT_WR) < 0) {
            fail(i, "shutdown", errno);
            continue;
        }
        c->state = C_CLOSING;
        g.closing++;
    }
    if (!timed_out && run_while(&g.closing, deadline, NULL) < 0) {
        describe_pending("close");
        timed_out = 1;
    }
    for (long i = 0; i < g.opt.connections; i++)
        closed += g.conns[i].state == C_CLOSED;

    qsort(g.latency, (size_t)g.samples, sizeof *g.latency, cmp_float);
    {
        double secs = t1 > t0 ? t1 - t0 : 0;
        double rate = secs > 0 ? (double)g.samples / secs : 0;
        double cpu_us = cpu0 >= 0 && cpu1 >= 0 && g.samples > 0
                            ? (cpu1 - cpu0) * 1e6 / (double)g.samples
                            : -1;

        printf("connections: %ld established, %ld held, %ld closed cleanly, "
               "of %ld\n", g.established, held, closed, g.opt.connections);
        printf("messages: %ld echoed in %.3f s: %.0f per second\n",
               g.samples, secs, rate);
        printf("latency: p50 %.1f us, p99 %.1f us, max %.1f us\n",
               percentile_us(0.50), percentile_us(0.99), percentile_us(1.0));
        if (g.opt.server_pid)
            printf("server: %.2f us CPU per echo (user+system), RSS %ld KiB "
                   "before, %ld KiB with all held\n", cpu_us, rss0, rss1);
        printf("errors: %ld\n", g.errors);
        printf("RESULT connections=%ld established=%ld held=%ld closed=%ld "
               "messages=%ld seconds=%.6f msgs_per_s=%.1f p50_us=%.1f "
               "p99_us=%.1f max_us=%.1f server_cpu_s=%.4f "
               "server_rss0_kib=%ld server_rss1_kib=%ld errors=%ld\n",
               g.opt.connections, g.established, held, closed, g.samples,
               secs, rate, percentile_us(0.50), percentile_us(0.99),
               percentile_us(1.0), cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1,
               rss0, rss1, g.errors);
    }
    if (fflush(stdout) != 0)
        return 1;
    for (long i = 0; i < g.opt.connections; i++)
        if (g.conns[i].fd >= 0)
            close(g.conns[i].fd);
    close(g.epfd);
    free(g.conns);
    free(g.pattern);
    free(g.scratch);
    free(g.latency);
    return g.errors == 0 && closed == g.opt.connections ? 0 : 1;
}
