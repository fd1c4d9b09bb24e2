/*
 * echo-server.c - chapter 04: the echo server as an asyncio protocol.
 *
 * Chapter 03 wrote the server's loop by hand: select, then a switch on
 * which descriptor was ready, then echo.c's state machine. Here the loop is
 * the library's (loop.c), the sockets are the transport's (transport.c),
 * and what is left for the program is the protocol below: five small
 * callbacks that say what echo means. connection_made keeps the transport;
 * data_received writes the bytes back; pause_writing and resume_writing
 * stop and restart reading when the client does not read its echo (flow
 * control: bounded memory); eof_received lets the transport close once
 * everything is sent; connection_lost frees the state.
 *
 * Shutdown: SIGINT and SIGTERM are loop signal handlers, so stopping is an
 * ordinary callback: close the server (every connection is aborted), then
 * stop the loop once their connection_lost callbacks have run.
 */
#include "errlog.h"
#include "loop.h"
#include "net.h"
#include "options.h"
#include "selector.h"
#include "transport.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
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
    "Set LOOP_TRACE=1 in the environment to watch the event loop work.\n"
    "\n"
    "Chapter 04 (callbacks): an event loop runs the protocol's callbacks;\n"
    "transports own the sockets and their write buffers.\n";

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

/* Every line said on starting or while serving goes through here: a
 * stderr that nobody reads must cost log lines, never the server (see
 * errlog.h). A client that keeps bringing the server to its descriptor
 * limit makes two lines per episode; once the pipe is full, a blocking
 * write would hold the loop's one thread, and with it every client and
 * the stop. A pipe left full by the last run would hold the start. */
static errlog_t server_log = ERRLOG_INIT(STDERR_FILENO);

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

/* [echo-protocol] */
/* What one connection knows about itself. */
typedef struct echo_conn {
    transport_t *transport;
} echo_conn_t;

static void *echo_factory(void *arg)
{
    (void)arg;
    return calloc(1, sizeof(echo_conn_t)); /* NULL refuses the client */
}

static void echo_connection_made(transport_t *transport, void *state)
{
    echo_conn_t *c = state;
    c->transport = transport;
}

static void echo_data_received(transport_t *transport, void *state,
                               const char *data, size_t len)
{
    (void)state;
    transport_write(transport, data, len); /* the transport keeps the rest */
}

/* The client's echo piles up in our buffer: stop reading from it. */
static void echo_pause_writing(transport_t *transport, void *state)
{
    (void)state;
    transport_pause_reading(transport);
}

static void echo_resume_writing(transport_t *transport, void *state)
{
    (void)state;
    transport_resume_reading(transport);
}

/* Returning 0 lets the transport close, once the buffer is sent. */
static int echo_eof_received(transport_t *transport, void *state)
{
    (void)transport;
    (void)state;
    return 0;
}

static void echo_connection_lost(transport_t *transport, void *state, int err)
{
    (void)transport;
    if (err != 0 && err != ECONNRESET && err != EPIPE)
        errlog_printf(&server_log, "echo-server: connection: %s",
                      strerror(err));
    free(state);
}

static const protocol_t echo_protocol = {
    .connection_made = echo_connection_made,
    .data_received = echo_data_received,
    .eof_received = echo_eof_received,
    .pause_writing = echo_pause_writing,
    .resume_writing = echo_resume_writing,
    .connection_lost = echo_connection_lost,
};
/* [echo-protocol] */

/* [stop] */
static void stop_loop(loop_t *loop, void *arg)
{
    (void)arg;
    loop_stop(loop);
}

/* SIGINT or SIGTERM, delivered as a callback. Closing the server queues
 * every connection's connection_lost(); stop_loop is queued behind them,
 * so the loop stops once they have all run and nothing is leaked. */
static void on_stop_signal(loop_t *loop, void *arg)
{
    server_close(arg);
    loop_call_soon(loop, stop_loop, NULL);
}
/* [stop] */

/* What the server tells us (the library prints nothing itself). A
 * refusal for ERANGE is said once: every later client would repeat it. */
static void on_server_event(server_t *server, server_event_t event, int err,
                            void *arg)
{
    int *range_said = arg;

    (void)server;
    switch (event) {
    case SERVER_CLIENT_REFUSED:
        if (!*range_said)
            errlog_printf(&server_log, "echo-server: client refused: %s%s",
                          strerror(err),
                          err == ERANGE ? " (select() cannot watch "
                                          "descriptors at or above "
                                          "FD_SETSIZE; try --backend epoll). "
                                          "Further refusals are not "
                                          "reported" : "");
        *range_said = err == ERANGE;
        break;
    case SERVER_ACCEPT_PAUSED:
        errlog_printf(&server_log, "echo-server: accept: %s; retrying every "
                      "%g s until a client leaves", strerror(err),
                      SERVER_ACCEPT_RETRY_S);
        break;
    case SERVER_ACCEPT_RESUMED:
        errlog_printf(&server_log, "echo-server: accepting clients again");
        break;
    case SERVER_WATCH_FAILED:
        errlog_printf(&server_log, "echo-server: cannot watch the listening "
                      "socket: %s", strerror(err));
        break;
    }
}

static int start(loop_t **loop, server_t **server, selector_backend_t backend,
                 int listen_fd)
{
    loop_options_t options = {.backend = backend};

    *loop = loop_create(&options);
    if (*loop == NULL) {
        close(listen_fd);
        return -1;
    }
    static int range_said;

    *server = server_create(*loop, listen_fd, &echo_protocol, echo_factory,
                            NULL);
    if (*server != NULL)
        server_set_report(*server, on_server_event, &range_said);
    if (*server == NULL ||
        loop_add_signal_handler(*loop, SIGINT, on_stop_signal, *server) < 0 ||
        loop_add_signal_handler(*loop, SIGTERM, on_stop_signal, *server) < 0)
        return -1;
    return 0;
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
    signal(SIGPIPE, SIG_IGN); /* belt and braces: sends use MSG_NOSIGNAL */

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
    loop_t *loop = NULL;
    server_t *server = NULL;
    if (start(&loop, &server, backend, fd) < 0) {
        fprintf(stderr, "echo-server: cannot start the %s loop: %s\n",
                selector_backend_name(loop ? loop_backend(loop)
                                      : selector_backend_resolve(backend)),
                strerror(errno));
        server_destroy(server);
        loop_destroy(loop);
        return 1;
    }
    errlog_printf(&server_log, "echo-server: using the %s selector",
                  selector_backend_name(loop_backend(loop)));
    printf("listening on %s\n", where);
    fflush(stdout);

    /* [run] */
    int rc = loop_run_forever(loop); /* until on_stop_signal() */
    /* From here on, SIGINT and SIGTERM stay blocked. loop_destroy() gives
     * them back their default action, which kills the process: one more
     * signal of a burst (a second Ctrl-C, a supervisor's repeated TERM)
     * arriving then would end us with "killed by SIGTERM" instead of the
     * clean exit the client-side teardown has earned. Blocked, a late
     * signal just stays pending and goes away with the process. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, NULL);
    if (rc < 0)
        errlog_printf(&server_log, "echo-server: event loop: %s",
                      strerror(errno));
    server_destroy(server);
    loop_destroy(loop);
    /* [run] */
    errlog_printf(&server_log, "echo-server: stopped");
    return rc < 0 ? 1 : 0;
}
