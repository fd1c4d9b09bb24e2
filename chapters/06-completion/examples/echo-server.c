/*
 * echo-server.c - chapter 06: chapter 05's echo server, on completions.
 *
 * asyncio's documentation shows a TCP echo server in a dozen lines: a
 * handler that reads, writes and drains, given to start_server(). This is
 * that program. The handler's body is chapter 01's loop again,
 *
 *     for (;;) { n = recv(); if (n == 0) break; send_all(n); }
 *
 * with awaits: stream_read(), stream_write(), stream_drain(). The drain is
 * the flow control: a handler whose client does not read its echo waits
 * there and reads nothing more, so what the client sends piles up in the
 * kernel, not here. Memory: every connection reads into the server's one
 * scratch buffer, and its bytes are sent, or copied into the stream's
 * queue, before it waits again; so an idle connection holds no data
 * buffer, and one holds a queue only while its client is slow to take
 * the echo.
 *
 * The connections are Tasks in a task group, so stopping is one call.
 * SIGINT and SIGTERM cancel the main coroutine (run() with
 * cancel_on_signals); it stops listening and cancels the group; each
 * handler sees ECANCELED at its await, the server closes its stream, and
 * the group's wait returns once they all have.
 */
#include "errlog.h"
#include "loop.h"
#include "net.h"
#include "options.h"
#include "proactor.h" /* chapter 06 */
#include "run.h"
#include "selector.h"
#include "stream.h"
#include "taskgroup.h"

#include <errno.h>
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
    "NAME is select, poll, epoll or default (the best available); the\n"
    "io_uring proactor of chapter 06 needs epoll or default.\n"
    "Set LOOP_TRACE=1 in the environment to watch the tasks step.\n"
    "\n"
    "Chapter 06 (completion): chapter 05's server, unchanged above the\n"
    "loop: each connection is a coroutine on a stream, whose body is the\n"
    "synchronous echo loop of chapter 01 with awaits (read, write, drain);\n"
    "the stream's reads and writes are io_uring operations that complete.\n";

/* What main() hands the main coroutine, and what it learns back. */
typedef struct config {
    const char *host;
    unsigned short port;
    selector_backend_t backend;
    int started;        /* the loop runs: the main coroutine began */
    int said;           /* the main coroutine reported its own failure */
} config_t;

/* Why a descriptor the loop cannot watch (ERANGE) cannot be. */
static const char past_fd_setsize[] =
    " (select() watches descriptors below FD_SETSIZE only; try --backend "
    "epoll)";

static void parse_args(int argc, char **argv, config_t *cfg)
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
            cfg->host = optarg;
            break;
        case 'p':
            if (options_parse_port(optarg, &cfg->port) < 0)
                options_usage_error("echo-server",
                                    "bad --port '%s': want 0 to 65535", optarg);
            break;
        case 'b':
            if (selector_backend_parse(optarg, &cfg->backend) < 0)
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

/* [server-log] */
/* Every line said on starting or while serving goes through here: a
 * stderr that nobody reads must cost log lines, never the server (see
 * errlog.h, chapter 01's). A client that keeps bringing the server to its
 * descriptor limit makes a report per episode; once the pipe is full, a
 * blocking write would hold the loop's one thread, and with it every
 * connection and the stop (a stop signal cuts one write short, and the
 * next report, or the last line, "stopped", blocks again). */
static errlog_t server_log = ERRLOG_INIT(STDERR_FILENO);
/* [server-log] */

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
            errlog_printf(&server_log,
                          "echo-server: cannot raise the descriptor limit "
                          "from %llu: %s",
                          (unsigned long long)was, strerror(errno));
            rl.rlim_cur = was;
        }
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 10240)
        errlog_printf(&server_log,
                      "echo-server: at most %llu descriptors (%s limit): "
                      "fewer than 10,000 clients fit",
                      (unsigned long long)rl.rlim_cur,
                      rl.rlim_cur == rl.rlim_max ? "the hard" : "the soft");
}

/* One read's worth: the size of the buffer every connection reads into. */
#define SCRATCH 16384

/* The main coroutine's frame: the server, its connections, and what they
 * share. */
typedef struct server {
    coro_t co;
    config_t *cfg;
    loop_t *loop;
    stream_server_t listener;
    task_group_t conns;         /* every connection's Task */
    char where[NET_ADDRSTR_MAX];
    int accept_failing;         /* accept() is failing: said once */
    int refused_said;           /* a client past FD_SETSIZE was reported */
    char scratch[SCRATCH];      /* the one read buffer, shared: one Task
                                   runs at a time, and none waits while
                                   its bytes are only here */
} server_t;

/* [conn-body] */
/* One connection. Its frame is the server's stream_conn_t: the stream
 * and the server's pointer, no buffer. Errors (a reset client) and the
 * cancellation at shutdown go up through the awaits to the server, which
 * closes the stream. */
static int conn_body(coro_t *co)
{
    stream_conn_t *c = (stream_conn_t *)co;
    server_t *s = c->arg;

    CORO_BEGIN(co);
    for (;;) {
        CORO_AWAIT_CORO(co, stream_read(&c->stream, s->scratch,
                                        sizeof s->scratch));
        if ((intptr_t)co->in == 0)             /* end of stream */
            break;
        if (stream_write(&c->stream, s->scratch,
                         (size_t)(intptr_t)co->in) < 0)
            CORO_FAIL(co, errno);
        AWAIT(co, stream_drain(&c->stream));   /* flow control */
    }
    CORO_END(co);                  /* the server sends the rest, closes */
}
/* [conn-body] */

/* [server-errors] */
/* What the server reports instead of printing (the library never prints
 * a program's name): said here, once per episode for what repeats. */
static void on_server_error(void *arg, int err, const char *what)
{
    server_t *s = arg;

    if (strcmp(what, "accept") == 0) {
        /* Out of descriptors or memory: the client stays queued in the
         * kernel, and the server tries again after a pause. */
        if (!s->accept_failing)
            errlog_printf(&server_log,
                          "echo-server: accept: %s (pausing %g s)",
                          strerror(err), STREAM_ACCEPT_RETRY_S);
        s->accept_failing = 1;
    } else if (strcmp(what, "accepting") == 0) {
        errlog_printf(&server_log, "echo-server: accepting clients again");
        s->accept_failing = 0;
    } else if (strcmp(what, "watch") == 0) {
        if (!s->refused_said)
            errlog_printf(&server_log,
                          "echo-server: client refused: %s%s. Further "
                          "refusals are not reported",
                          strerror(err), err == ERANGE ? past_fd_setsize : "");
        s->refused_said = 1;
    } else if (strcmp(what, "handler") != 0 ||
               (err != ECONNRESET && err != EPIPE)) {
        errlog_printf(&server_log, "echo-server: %s: %s",
                      strcmp(what, "task") == 0 ? "client refused"
                                                : "connection",
                      strerror(err));
    }                              /* a client that left: its own business */
}
/* [server-errors] */

/* Listen, or say why not. The library registers the socket with the
 * loop at once: select() holds no descriptor at or above FD_SETSIZE, and
 * descriptors inherited from the parent can push ours there, so that is
 * known before anyone is told to connect. 0, or -1 with errno once the
 * reason is said. */
static int listen_or_say(server_t *s)
{
    const config_t *cfg = s->cfg;

    s->cfg->started = 1;              /* the loop and its signals are up */
    if (stream_server_listen(&s->listener, s->loop, cfg->host, cfg->port,
                             s->where) == 0)
        return 0;
    int err = errno;

    if (err == ERANGE)
        errlog_printf(&server_log,
                      "echo-server: the %s loop cannot watch the listening "
                      "socket: %s%s",
                      selector_backend_name(loop_backend(s->loop)),
                      strerror(err), past_fd_setsize);
    else
        errlog_printf(&server_log,
                      "echo-server: cannot listen on %s port %u: %s",
                      cfg->host, cfg->port,
                      err == EADDRNOTAVAIL
                          ? "not an address of this machine, or a name "
                            "that does not resolve"
                          : strerror(err));
    errno = err;
    return -1;
}

/* [serve] */
static int server_body(coro_t *co)
{
    server_t *s = (server_t *)co;

    CORO_BEGIN(co);
    s->loop = running_loop();
    if (listen_or_say(s) < 0) {
        s->cfg->said = 1;
        CORO_FAIL(co, errno);
    }
    stream_server_on_error(&s->listener, on_server_error, s);
    task_group_init(&s->conns, s->loop);
    printf("listening on %s\n", s->where);  /* signals are handled: run() */
    fflush(stdout);
    CORO_AWAIT_CORO_CATCH(co, stream_server_serve(&s->listener, &s->conns,
                                                  conn_body,
                                                  sizeof(stream_conn_t), s));
    if (co->err != 0 && co->err != ECANCELED) { /* not a stop signal */
        errlog_printf(&server_log, "echo-server: serving: %s",
                      strerror(co->err));
        s->cfg->said = 1;
    }
    stream_server_close(&s->listener);
    task_group_cancel(&s->conns);              /* shutdown: cancel them all */
    AWAIT_CATCH(co, task_group_wait(&s->conns));
    if (s->cfg->said)
        CORO_FAIL(co, EIO);
    CORO_END(co);
}
/* [serve] */

static int server_setup(void *frame, executor_t *executor, void *arg)
{
    server_t *s = frame;

    (void)executor;
    s->cfg = arg;
    return 0;
}

/* [main] */
int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    config_t cfg = {.host = "127.0.0.1", .port = 8888};
    int err = 0;

    parse_args(argc, argv, &cfg);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN); /* belt and braces: sends use MSG_NOSIGNAL */
    /* run() unblocks SIGINT and SIGTERM while it serves. Blocked here, one
     * that arrives after it has returned stays pending and dies with the
     * process, instead of killing a server on its way to exit 0. */
    run_block_stop_signals();
    run_options_t options = {.loop.backend = cfg.backend,
                             .cancel_on_signals = 1};
    if (run(server_body, sizeof(server_t), server_setup, &cfg, &options,
            NULL, &err) == FUTURE_E_ERROR) {
        if (!cfg.started)
            errlog_printf(
                &server_log, "echo-server: cannot start the %s loop: %s%s",
                selector_backend_name(selector_backend_resolve(cfg.backend)),
                proactor_strerror(err), /* chapter 06 */
                err == ERANGE ? past_fd_setsize : "");
        else if (!cfg.said)        /* not a stop: say so, exit 1 */
            errlog_printf(&server_log,
                          "echo-server: the event loop failed: %s",
                          strerror(err));
        return 1;
    }
    errlog_printf(&server_log, "echo-server: stopped");
    return 0;
}
/* [main] */
