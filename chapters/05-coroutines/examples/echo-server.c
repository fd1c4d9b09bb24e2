/*
 * echo-server.c - chapter 05: one coroutine per connection.
 *
 * Chapter 04 turned the echo into a protocol: callbacks for "data
 * received", "pause writing", "resume writing", "eof received", and a
 * transport with a write buffer and watermarks in between. Here the
 * connection is one coroutine whose body is chapter 01's loop again:
 *
 *     for (;;) { n = recv(); if (n == 0) break; send_all(n); }
 *
 * with AWAITs in front: wait until readable, then read; send, and wait
 * only if the socket did not take it all. Flow control comes for free: a
 * coroutine that waits for its send to drain does not read, so a client
 * that sends but never reads fills its own socket buffers and then
 * nothing more. Memory: the server reads every connection's bytes into
 * one shared 16 KiB scratch buffer, so an idle connection holds no data
 * buffer at all, and one whose echo is stuck holds at most 16 KiB.
 * The socket stays registered with the selector between messages
 * (sock_watch_t): no epoll_ctl per message.
 *
 * Shutdown: SIGINT and SIGTERM are loop signal handlers that cancel the
 * accept task. Its clean-up closes the listening socket and cancels every
 * connection; each sees ECANCELED at its await, closes its socket and
 * leaves the list; main returns when the list is empty.
 */
#include "loop.h"
#include "net.h"
#include "options.h"
#include "run.h"
#include "selector.h"
#include "sleep.h"
#include "sock.h"
#include "sock_watch.h"
#include "sync.h"
#include "task.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char usage[] =
    "usage: echo-server [--host ADDR] [--port N] [--backend NAME]\n"
    "\n"
    "Echoes back every byte each client sends. ADDR defaults to 127.0.0.1,\n"
    "N to 8888; --port 0 lets the kernel pick a free port. The first line on\n"
    "stdout is 'listening on HOST:PORT'. SIGINT or SIGTERM stops it.\n"
    "NAME is select, poll, epoll or default (the best available).\n"
    "Set LOOP_TRACE=1 in the environment to watch the tasks step.\n"
    "\n"
    "Chapter 05 (coroutines): each connection is a coroutine whose body is\n"
    "the synchronous echo loop of chapter 01, with an AWAIT before each\n"
    "recv and send.\n";

static void parse_args(int argc, char **argv, const char **host,
                       unsigned short *port, selector_backend_t *backend)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            if (*optarg == '\0')
                options_usage_error("echo-server", "empty --host%s", "");
            *host = optarg;
            break;
        case 'p':
            if (options_parse_port(optarg, port) < 0)
                options_usage_error("echo-server",
                                    "bad --port '%s': want 0 to 65535", optarg);
            break;
        case 'b':
            if (selector_backend_parse(optarg, backend) < 0)
                options_usage_error(
                    "echo-server",
                    "bad --backend '%s': want select, poll, epoll or default",
                    optarg);
            break;
        case 'h':
            fputs(usage, stdout);
            exit(0);
        default:
            options_usage_error("echo-server",
                                "unknown option or missing value: '%s'",
                                argv[optind - 1]);
        }
    }
    if (optind < argc)
        options_usage_error("echo-server", "unexpected argument '%s'",
                            argv[optind]);
}

/* Each client is a descriptor, and the default soft limit is often 1024.
 * Raise it to the hard limit, which only the administrator can raise. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;

        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            fprintf(stderr, "echo-server: cannot raise the descriptor limit "
                    "from %llu: %s\n", (unsigned long long)was,
                    strerror(errno));
            rl.rlim_cur = was;
        }
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 10240)
        fprintf(stderr, "echo-server: at most %llu descriptors (%s limit): "
                "fewer than 10,000 clients fit\n",
                (unsigned long long)rl.rlim_cur,
                rl.rlim_cur == rl.rlim_max ? "the hard" : "the soft");
}

/* One read's worth: the size of the scratch buffer every connection reads
 * into, and so the most one connection ever keeps for a pending send. */
#define CONN_BUF 16384

typedef struct conn conn_t;

/* The server: the listening socket's task and the live connections. */
typedef struct server {
    loop_t *loop;
    int fd;
    task_t *acceptor;
    conn_t *conns;      /* every connection coroutine still running */
    size_t count;
    event_t idle;       /* set when the last connection has gone */
    int refused_reported; /* a client past FD_SETSIZE was reported */
    char scratch[CONN_BUF]; /* the one read buffer, shared: one coroutine
                               runs at a time, and none waits while its
                               bytes are only here */
} server_t;

/* A connection coroutine's frame: no data buffer. An idle connection
 * holds this frame and its Task, a few hundred bytes; one whose echo the
 * client is slow to take holds, besides, a copy of what is left to send
 * (at most CONN_BUF bytes), until it has gone. */
struct conn {
    coro_t co;
    server_t *server;
    task_t *task;
    sock_watch_t sock;  /* the socket, registered while the loop watches */
    char *unsent;       /* the rest of an echo the socket did not take */
    io_op_t op;         /* sending it */
    conn_t *next, *prev;
};

static void conn_leave(conn_t *c)
{
    server_t *s = c->server;

    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (--s->count == 0)
        event_set(&s->idle);
}

/* Read what the client sent into the scratch buffer: the byte count, 0 at
 * end of stream, -1 with errno. */
static ssize_t conn_read(conn_t *c)
{
    ssize_t n;

    do
        n = read(c->sock.fd, c->server->scratch, sizeof c->server->scratch);
    while (n < 0 && errno == EINTR);
    return n;
}

/* [echo-back] */
/* Send the n bytes of the scratch buffer back. What the socket takes at
 * once (nearly always all of it) needs no memory of this connection's
 * own; the rest is copied into a buffer that lives until it has been sent,
 * because the scratch buffer is the next connection's as soon as this
 * coroutine waits. The Future is finished already unless some is left. */
static future_t *echo_back(conn_t *c, size_t n)
{
    loop_t *loop = c->server->loop;
    ssize_t sent;

    do
        sent = send(c->sock.fd, c->server->scratch, n, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    future_init(&c->op.future, loop);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        future_set_error(&c->op.future, errno);
        return &c->op.future;
    }
    if (sent < 0)
        sent = 0;
    if ((size_t)sent == n) {
        future_set_result(&c->op.future, NULL);
        return &c->op.future;
    }
    n -= (size_t)sent;
    c->unsent = malloc(n);
    if (!c->unsent) {
        future_set_error(&c->op.future, ENOMEM);
        return &c->op.future;
    }
    memcpy(c->unsent, c->server->scratch + sent, n);
    return sock_sendall(&c->op, loop, c->sock.fd, c->unsent, n);
}
/* [echo-back] */

/* The loop cannot watch this socket: select() holds no descriptor at or
 * above FD_SETSIZE (ERANGE), or memory ran out. The client is closed;
 * say why, once for ERANGE (it repeats for every client past the limit). */
static void conn_refused(server_t *s, int err)
{
    if (!s->refused_reported)
        fprintf(stderr, "echo-server: client refused: %s%s\n", strerror(err),
                err == ERANGE ? " (select() cannot watch descriptors at or "
                                "above FD_SETSIZE; try --backend epoll). "
                                "Further refusals are not reported" : "");
    s->refused_reported = err == ERANGE;
}

/* [conn-body] */
static int conn_body(coro_t *co)
{
    conn_t *c = (conn_t *)co;
    ssize_t n;

    CORO_BEGIN(co);
    for (;;) {
        /* Catching forms: whatever happens, the socket is closed and the
         * server told (below the loop), as Python's try/finally would. */
        AWAIT_CATCH(co, sock_readable(&c->sock)); /* idle: no buffer held */
        if (co->err) {                       /* cancelled, or refused */
            if (co->err != ECANCELED)
                conn_refused(c->server, co->err);
            break;
        }
        n = conn_read(c);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            break;                           /* end of input, or reset */
        if (n < 0)
            continue;                        /* nothing after all */
        AWAIT_CATCH(co, echo_back(c, (size_t)n));
        free(c->unsent);
        c->unsent = NULL;
        if (co->err)                 /* the client vanished, or cancelled */
            break;
    }
    sock_watch_close(&c->sock);      /* all sent: the contract's close */
    conn_leave(c);
    CORO_END(co);
}
/* [conn-body] */

static void conn_start(server_t *s, int fd)
{
    conn_t *c;
    task_t *t = task_create(s->loop, conn_body, sizeof *c, (void **)&c);

    if (!t) {
        close(fd);                   /* no memory: refuse this one */
        return;
    }
    task_set_name(t, "conn");
    c->server = s;
    c->task = t;
    sock_watch_init(&c->sock, s->loop, fd);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->count++;
    event_clear(&s->idle);
    task_release(t);                 /* it frees itself when it ends */
}

typedef struct acceptor {
    coro_t co;
    server_t *server;
    io_op_t op;
    sleeper_t pause;
    int backing_off;    /* accept is failing: said once per episode */
} acceptor_t;

/* [accept-body] */
static int accept_body(coro_t *co)
{
    acceptor_t *f = (acceptor_t *)co;
    server_t *s = f->server;

    CORO_BEGIN(co);
    for (;;) {
        AWAIT_CATCH(co, sock_accept(&f->op, s->loop, s->fd));
        if (co->err == ECANCELED)
            break;
        if (co->err) {
            /* Out of descriptors (EMFILE, ENFILE) or memory, or a network
             * error: the pending client stays queued in the kernel; try
             * again when some connection may have closed. */
            if (!f->backing_off)
                fprintf(stderr, "echo-server: accept: %s (pausing 0.1 s)\n",
                        strerror(co->err));
            f->backing_off = 1;
            AWAIT_CATCH(co, sleep_start(&f->pause, s->loop, 0.1));
            if (co->err == ECANCELED)
                break;
            continue;
        }
        if (f->backing_off)
            fprintf(stderr, "echo-server: accepting clients again\n");
        f->backing_off = 0;
        conn_start(s, (int)(intptr_t)co->in);
    }
    close(s->fd);                    /* stop accepting, then stop them all */
    for (conn_t *c = s->conns; c; c = c->next)
        task_cancel(c->task);
    CORO_FAIL(co, ECANCELED);
    CORO_END(co);
}
/* [accept-body] */

static void on_stop_signal(loop_t *loop, void *arg)
{
    server_t *s = arg;

    (void)loop;
    task_cancel(s->acceptor);
}

/* Announce `where` once ready, then serve until stopped: 0 after a signal,
 * -1 with errno if the server could not start, -2 with errno if the loop
 * failed under it. A failing loop
 * returns from loop_run_until_complete() with the Future still pending;
 * taking that for the end of the acceptor would turn, say, a failed poll()
 * into a quiet "stopped" and exit status 0. */
static int serve(server_t *s, const char *where)
{
    acceptor_t *f;
    waiter_t all_gone;
    future_status_t st;

    s->acceptor = task_create(s->loop, accept_body, sizeof *f, (void **)&f);
    if (!s->acceptor ||
        loop_add_signal_handler(s->loop, SIGINT, on_stop_signal, s) < 0 ||
        loop_add_signal_handler(s->loop, SIGTERM, on_stop_signal, s) < 0)
        return -1;
    task_set_name(s->acceptor, "accept");
    f->server = s;
    /* Only now, with the stop signals handled: a client (or a test) may
     * signal us the moment it reads this line. */
    printf("listening on %s\n", where);
    fflush(stdout);
    /* [serve] */
    st = loop_run_until_complete(s->loop, task_future(s->acceptor), NULL,
                                 NULL);
    if (st != FUTURE_E_PENDING)           /* pending: the loop failed */
        st = loop_run_until_complete(s->loop, event_wait(&s->idle,
                                                         &all_gone),
                                     NULL, NULL);
    /* [serve] */
    if (st == FUTURE_E_PENDING) {
        int err = errno;

        task_release(s->acceptor);        /* the loop's reference stays */
        errno = err;
        return -2;
    }
    task_release(s->acceptor);
    return 0;
}

static void block_stop_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    unsigned short port = 8888;
    selector_backend_t backend = SELECTOR_DEFAULT;
    char where[NET_ADDRSTR_MAX];
    server_t s = {0};
    loop_options_t options = {0};

    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    parse_args(argc, argv, &host, &port, &backend);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN); /* belt and braces: sends use MSG_NOSIGNAL */

    s.fd = net_listen(host, port, where);
    if (s.fd < 0) {
        fprintf(stderr, "echo-server: cannot listen on %s port %u: %s\n",
                host, port,
                errno == EADDRNOTAVAIL
                    ? "not an address of this machine, or a name that does "
                      "not resolve"
                    : strerror(errno));
        return 1;
    }
    fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) | O_NONBLOCK);
    options.backend = backend;
    s.loop = loop_create(&options);
    if (!s.loop) {
        fprintf(stderr, "echo-server: cannot start the %s loop: %s\n",
                selector_backend_name(s.loop ? loop_backend(s.loop)
                                      : selector_backend_resolve(backend)),
                strerror(errno));
        close(s.fd);
        return 1;
    }
    event_init(&s.idle, s.loop);
    event_set(&s.idle);
    switch (serve(&s, where)) {
    case -1:
        perror("echo-server: starting");
        close(s.fd);
        loop_destroy(s.loop);
        return 1;
    case -2:                          /* not a stop: say so, exit 1 */
        fprintf(stderr, "echo-server: the event loop failed: %s\n",
                strerror(errno));
        return 1;                     /* the exit closes every socket */
    }
    /* The stop is decided. loop_destroy() gives SIGINT and SIGTERM their
     * default action back, so one more arriving now (a burst of them, say)
     * would kill the server half-way out, with a signal status instead
     * of 0. Blocked, they stay pending and vanish with the process. */
    block_stop_signals();
    loop_destroy(s.loop);
    fprintf(stderr, "echo-server: stopped\n");
    return 0;
}
