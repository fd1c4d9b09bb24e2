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
 * with AWAIT in front of the two calls. Flow control comes for free: a
 * coroutine that waits for its send to drain does not read, so a client
 * that sends but never reads fills its own socket buffers and then
 * nothing more; memory per connection is one 16 KiB buffer, whatever the
 * client does.
 *
 * Shutdown: SIGINT and SIGTERM are loop signal handlers that cancel the
 * accept task. Its clean-up closes the listening socket and cancels every
 * connection; each sees ECANCELED at its await, closes its socket and
 * leaves the list; main returns when the list is empty.
 */
#include "loop.h"
#include "net.h"
#include "options.h"
#include "selector.h"
#include "sock.h"
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
        fprintf(stderr, "echo-server: at most %llu descriptors (hard limit): "
                "fewer than 10,000 clients fit\n",
                (unsigned long long)rl.rlim_cur);
}

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
} server_t;

/* A connection coroutine's frame. */
struct conn {
    coro_t co;
    server_t *server;
    task_t *task;
    int fd;
    size_t n;           /* bytes in buf */
    io_op_t op;
    conn_t *next, *prev;
    char buf[CONN_BUF];
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

/* [conn-body] */
static int conn_body(coro_t *co)
{
    conn_t *c = (conn_t *)co;
    loop_t *loop = c->server->loop;

    CORO_BEGIN(co);
    for (;;) {
        AWAIT(co, sock_recv(&c->op, loop, c->fd, c->buf, sizeof c->buf));
        if (co->err || co->in == 0)  /* reset, cancelled, or end of input */
            break;
        c->n = (size_t)(intptr_t)co->in;
        AWAIT(co, sock_sendall(&c->op, loop, c->fd, c->buf, c->n));
        if (co->err)                 /* the client vanished, or cancelled */
            break;
    }
    close(c->fd);                    /* all sent: the contract's close */
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
    c->fd = fd;
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
    int last_err;       /* the last accept error reported, not to repeat it */
} acceptor_t;

/* [accept-body] */
static int accept_body(coro_t *co)
{
    acceptor_t *f = (acceptor_t *)co;
    server_t *s = f->server;

    CORO_BEGIN(co);
    for (;;) {
        AWAIT(co, sock_accept(&f->op, s->loop, s->fd));
        if (co->err == ECANCELED)
            break;
        if (co->err) {
            /* Out of descriptors (EMFILE, ENFILE) or memory, or a network
             * error: the pending client stays queued in the kernel; try
             * again when some connection may have closed. */
            if (co->err != f->last_err)
                fprintf(stderr, "echo-server: accept: %s (pausing 0.1 s)\n",
                        strerror(co->err));
            f->last_err = co->err;
            AWAIT(co, sleep_start(&f->pause, s->loop, 0.1));
            if (co->err == ECANCELED)
                break;
            continue;
        }
        f->last_err = 0;
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

static int serve(server_t *s)
{
    acceptor_t *f;
    waiter_t all_gone;

    s->acceptor = task_create(s->loop, accept_body, sizeof *f, (void **)&f);
    if (!s->acceptor ||
        loop_add_signal_handler(s->loop, SIGINT, on_stop_signal, s) < 0 ||
        loop_add_signal_handler(s->loop, SIGTERM, on_stop_signal, s) < 0)
        return -1;
    task_set_name(s->acceptor, "accept");
    f->server = s;
    /* [serve] */
    loop_run_until_complete(s->loop, task_future(s->acceptor), NULL, NULL);
    loop_run_until_complete(s->loop, event_wait(&s->idle, &all_gone), NULL,
                            NULL);
    /* [serve] */
    task_release(s->acceptor);
    return 0;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    unsigned short port = 8888;
    selector_backend_t backend = SELECTOR_DEFAULT;
    char where[NET_ADDRSTR_MAX];
    server_t s = {0};
    loop_options_t options = {0};

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
                selector_backend_name(backend), strerror(errno));
        close(s.fd);
        return 1;
    }
    event_init(&s.idle, s.loop);
    event_set(&s.idle);
    printf("listening on %s\n", where);
    fflush(stdout);
    if (serve(&s) < 0) {
        perror("echo-server: starting");
        close(s.fd);
        loop_destroy(s.loop);
        return 1;
    }
    loop_destroy(s.loop);
    fprintf(stderr, "echo-server: stopped\n");
    return 0;
}
