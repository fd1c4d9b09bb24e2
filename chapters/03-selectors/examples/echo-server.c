/*
 * echo-server.c - chapter 03: one thread, non-blocking sockets, a selector.
 *
 * Every socket is non-blocking and registered with the selector. The main
 * loop waits for whichever is ready and runs a short handler for it:
 * accept every pending client on the listening socket; one recv() or
 * send() on a client (echo.c). No handler ever blocks, so one thread
 * serves thousands of clients; each costs a small struct and, while it has
 * unsent bytes, a bounded buffer: no thread, no stack.
 *
 * Shutdown on SIGINT/SIGTERM: the self-pipe trick. selector_select()
 * retries EINTR by itself, so a handler that only set a flag would not be
 * noticed until some descriptor became ready. Instead the handler writes a
 * byte into a pipe whose read end is registered like any client: the
 * signal becomes a readiness event, and the loop sees it at once.
 */
#define _GNU_SOURCE /* accept4, pipe2 */
#include "echo.h"
#include "errlog.h"
#include "monotonic.h"
#include "net.h"
#include "options.h"
#include "selector.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: echo-server [--host ADDR] [--port N] [--backend NAME]\n"
    "\n"
    "Echoes back every byte each client sends. ADDR defaults to 127.0.0.1,\n"
    "N to 8888; --port 0 lets the kernel pick a free port. The first line on\n"
    "stdout is 'listening on HOST:PORT'. SIGINT or SIGTERM stops it.\n"
    "NAME is select, poll, epoll or default (the best available).\n"
    "\n"
    "Chapter 03 (selectors): one thread serves every client, with\n"
    "non-blocking sockets and a selector.\n";

/* Back off this long when accept() runs out of descriptors or memory. */
#define ACCEPT_BACKOFF_S 0.1

/* [server-state] */
/* A client: its echo state, on the list of live clients. */
typedef struct client {
    echo_conn_t echo;
    struct client *prev, *next;
} client_t;

typedef struct server {
    selector_t *sel;
    int listen_fd;
    int wake_fd;          /* the self-pipe's read end */
    int accepting;        /* listen_fd is registered */
    double resume_at;     /* when to register it again after a back-off */
    int backoff_reported; /* the accept() error of this episode was said */
    client_t *clients;    /* every live client; owned */
    int refused_reported; /* the select backend's limit was reported */
} server_t;
/* [server-state] */

/* Every line said on starting or while serving goes through here: a
 * stderr that nobody reads must cost log lines, never the server (see
 * errlog.h). A client that keeps bringing the server to its descriptor
 * limit makes two lines per episode; once the pipe is full, a blocking
 * write would hold the one thread, and with it every client and the
 * stop. A pipe left full by the last run would hold the start. */
static errlog_t server_log = ERRLOG_INIT(STDERR_FILENO);

/* [self-pipe] */
/* Markers for the two descriptors that are not clients: a registration's
 * data is a client_t * for a client, and for these two the address of a
 * static variable, which no client can have. */
static char listener_mark, waker_mark;

static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int signo)
{
    int saved = errno; /* write() may change it under the interrupted code */
    (void)signo;
    if (write(stop_pipe[1], "", 1) < 0) {
        /* the pipe is full: a wake-up is already pending */
    }
    errno = saved;
}

static int install_signals(void)
{
    if (pipe2(stop_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Belt and braces: echo.c sends with MSG_NOSIGNAL already. */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}
/* [self-pipe] */

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

/* [rlimit] */
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
            errlog_printf(&server_log, "echo-server: cannot raise the "
                          "descriptor limit from %llu: %s",
                          (unsigned long long)was, strerror(errno));
            rl.rlim_cur = was;
        }
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 10240)
        errlog_printf(&server_log, "echo-server: at most %llu descriptors "
                      "(%s limit): fewer than 10,000 clients fit",
                      (unsigned long long)rl.rlim_cur,
                      rl.rlim_cur == rl.rlim_max ? "the hard" : "the soft");
}
/* [rlimit] */

static void close_client(server_t *s, client_t *c)
{
    selector_unregister(s->sel, c->echo.fd); /* before close: see selector.h */
    close(c->echo.fd);
    echo_deinit(&c->echo);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

static void add_client(server_t *s, int fd)
{
    client_t *c = malloc(sizeof *c);
    if (c == NULL) {
        close(fd);
        return;
    }
    echo_init(&c->echo, fd);
    c->echo.interest = SELECTOR_READ;
    if (selector_register(s->sel, fd, SELECTOR_READ, c) < 0) {
        /* ERANGE: the select backend cannot hold fd >= FD_SETSIZE. Only
         * this client pays; say why once, not once per client. */
        int err = errno;
        if (!s->refused_reported)
            errlog_printf(&server_log, "echo-server: client refused: %s%s",
                          strerror(err), err == ERANGE
                              ? " (select() cannot watch descriptors at or "
                                "above FD_SETSIZE; try --backend epoll). "
                                "Further refusals are not reported"
                              : "");
        s->refused_reported = err == ERANGE;
        close(fd);
        free(c);
        return;
    }
    c->prev = NULL;
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
}

/* [accept-all] */
/* The listening socket is readable: accept every pending client, until
 * accept() says EAGAIN. Level-triggered, one accept per wake-up would also
 * work, but would pay a whole selector round per client. */
static void accept_all(server_t *s)
{
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (s->backoff_reported)
                errlog_printf(&server_log,
                              "echo-server: accepting clients again");
            s->backoff_reported = 0;
            add_client(s, fd);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        /* Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM),
         * accept() would fail at once, every time: the listening socket
         * stays readable and the loop would spin. Stop watching it for a
         * moment instead; the client waits in the backlog. (Chapters 01-02
         * slept; here a sleep would freeze every client.) Said once per
         * episode, not at every retry. */
        if (!s->backoff_reported)
            errlog_printf(&server_log, "echo-server: accept: %s; retrying "
                          "every %g s until a client leaves", strerror(errno),
                          ACCEPT_BACKOFF_S);
        s->backoff_reported = 1;
        selector_unregister(s->sel, s->listen_fd);
        s->accepting = 0;
        s->resume_at = monotonic_s() + ACCEPT_BACKOFF_S;
        return;
    }
}
/* [accept-all] */

/* [client-event] */
static void client_event(server_t *s, client_t *c, unsigned events)
{
    echo_status_t st = ECHO_OPEN;
    if (events & SELECTOR_READ)
        st = echo_on_readable(&c->echo);
    if (st == ECHO_OPEN && (events & SELECTOR_WRITE))
        st = echo_on_writable(&c->echo);
    if (st == ECHO_FAILED && errno != EPIPE && errno != ECONNRESET)
        errlog_printf(&server_log, "echo-server: connection: %s",
                      strerror(errno));
    if (st != ECHO_OPEN) {
        close_client(s, c);
        return;
    }
    unsigned want = echo_interest(&c->echo);
    if (want != c->echo.interest) { /* a system call only on a change */
        if (selector_modify(s->sel, c->echo.fd, want, c) < 0) {
            errlog_printf(&server_log, "echo-server: selector: %s",
                          strerror(errno));
            close_client(s, c);
            return;
        }
        c->echo.interest = want;
    }
}
/* [client-event] */

/* [server-loop] */
/* Returns 0 when a stop signal arrived, -1 when the selector failed. */
static int serve(server_t *s)
{
    for (;;) {
        int timeout_ms = -1;
        if (!s->accepting) {
            double left = s->resume_at - monotonic_s();
            timeout_ms = left > 0 ? (int)(left * 1000.0) + 1 : 0;
        }
        if (selector_select(s->sel, timeout_ms) < 0)
            return -1;
        if (!s->accepting && monotonic_s() >= s->resume_at &&
            selector_register(s->sel, s->listen_fd, SELECTOR_READ,
                              &listener_mark) == 0)
            s->accepting = 1;
        selector_event_t ev;
        while (selector_next(s->sel, &ev)) {
            if (ev.data == &waker_mark)
                return 0;
            if (ev.data == &listener_mark)
                accept_all(s);
            else
                client_event(s, ev.data, ev.events);
        }
    }
}
/* [server-loop] */

static int start(server_t *s, selector_backend_t backend, int listen_fd)
{
    memset(s, 0, sizeof *s);
    s->listen_fd = listen_fd;
    s->wake_fd = stop_pipe[0];
    s->sel = selector_create(backend);
    if (s->sel == NULL)
        return -1;
    if (fcntl(listen_fd, F_SETFL, O_NONBLOCK) < 0 ||
        selector_register(s->sel, s->wake_fd, SELECTOR_READ, &waker_mark) < 0 ||
        selector_register(s->sel, listen_fd, SELECTOR_READ, &listener_mark) < 0)
        return -1;
    s->accepting = 1;
    return 0;
}

static void stop(server_t *s)
{
    while (s->clients)
        close_client(s, s->clients);
    selector_destroy(s->sel);
    close(s->listen_fd);
}

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    const char *host = "127.0.0.1";
    unsigned short port = 8888;
    selector_backend_t backend = SELECTOR_DEFAULT;
    char where[NET_ADDRSTR_MAX];

    parse_args(argc, argv, &host, &port, &backend);
    raise_fd_limit();
    if (install_signals() < 0) {
        perror("echo-server: pipe");
        return 1;
    }

    int fd = net_listen(host, port, where);
    if (fd < 0) {
        fprintf(stderr, "echo-server: cannot listen on %s port %u: %s\n",
                host, port,
                errno == EADDRNOTAVAIL
                    ? "not an address of this machine, or a name that does "
                      "not resolve"
                    : strerror(errno));
        return 1;
    }
    server_t srv;
    if (start(&srv, backend, fd) < 0) {
        fprintf(stderr, "echo-server: cannot start the %s selector: %s\n",
                selector_backend_name(srv.sel ? selector_backend(srv.sel)
                                       : selector_backend_resolve(backend)),
                strerror(errno));
        if (srv.sel)
            selector_destroy(srv.sel);
        close(fd);
        return 1;
    }
    errlog_printf(&server_log, "echo-server: using the %s selector",
                  selector_backend_name(selector_backend(srv.sel)));
    printf("listening on %s\n", where);
    fflush(stdout);

    int rc = serve(&srv);
    if (rc < 0)
        errlog_printf(&server_log, "echo-server: selector: %s",
                      strerror(errno));
    stop(&srv);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    errlog_printf(&server_log, "echo-server: stopped");
    return rc < 0 ? 1 : 0;
}
