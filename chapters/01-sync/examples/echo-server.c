/*
 * echo-server.c - chapter 01: an iterative echo server.
 *
 * Accept a client, echo until it is done, close, accept the next. Correct,
 * simple, and hopeless at concurrency: while one client is connected, every
 * other one waits in the kernel's accept queue.
 *
 * Shutdown on SIGINT/SIGTERM. The handler only sets a flag and calls
 * shutdown() on the sockets (both async-signal-safe). Shutting the sockets
 * down, rather than relying on EINTR alone, closes a race: a signal that
 * lands just before accept() or recv() is entered would otherwise leave the
 * call blocked with the flag already set and nobody to look at it.
 */
#include "echo.h"
#include "errlog.h"
#include "net.h"
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: echo-server [--host ADDR] [--port N]\n"
    "\n"
    "Echoes back every byte each client sends. ADDR defaults to 127.0.0.1,\n"
    "N to 8888; --port 0 lets the kernel pick a free port. The first line on\n"
    "stdout is 'listening on HOST:PORT'. SIGINT or SIGTERM stops it.\n"
    "\n"
    "Chapter 01 (sync): one client at a time; the next one waits.\n";

/* Every line logged while serving goes through here: a stderr that nobody
 * reads must cost log lines, never the server (see errlog.h). */
static errlog_t server_log = ERRLOG_INIT(STDERR_FILENO);

/* [stop-signal] */
static volatile sig_atomic_t stop_requested = 0;
static volatile sig_atomic_t listen_fd = -1;
static volatile sig_atomic_t client_fd = -1;

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
    if (listen_fd >= 0)
        shutdown(listen_fd, SHUT_RDWR); /* wakes (or pre-empts) accept() */
    if (client_fd >= 0)
        shutdown(client_fd, SHUT_RDWR); /* wakes (or pre-empts) recv() */
}
/* [stop-signal] */

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* Belt and braces: net_send_all() uses MSG_NOSIGNAL already. */
    signal(SIGPIPE, SIG_IGN);
}

/* Out of descriptors or memory, accept() fails at once, every time, until
 * something is closed. Pause instead of spinning the CPU, and say so once
 * per episode rather than ten times a second; the client stays in the
 * backlog and is accepted when there is room. */
static int backing_off; /* accept() keeps failing; already reported */

static void accept_failed(int err)
{
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        if (!backing_off)
            errlog_printf(&server_log, "echo-server: accept: %s; retrying "
                          "every 0.1 s until a client leaves", strerror(err));
        backing_off = 1;
        struct timespec pause = {0, 100 * 1000000L};
        nanosleep(&pause, NULL);
    } else {
        errlog_printf(&server_log, "echo-server: accept: %s", strerror(err));
    }
}

/* A client was accepted: if accept() had been failing, say it recovered. */
static void accept_succeeded(void)
{
    if (backing_off)
        errlog_printf(&server_log, "echo-server: accepting clients again");
    backing_off = 0;
}

static void parse_args(int argc, char **argv, const char **host,
                       unsigned short *port)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
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

/* Serve one accepted client to the end and close it. */
static void serve_client(int fd, const char *peer)
{
    client_fd = fd;
    if (!stop_requested) {
        errlog_printf(&server_log, "echo-server: %s connected", peer);
        if (echo_serve(fd) == 0)
            errlog_printf(&server_log, "echo-server: %s done", peer);
        else
            errlog_printf(&server_log, "echo-server: %s dropped: %s", peer,
                          strerror(errno));
    }
    client_fd = -1;
    close(fd);
}

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    const char *host = "127.0.0.1";
    unsigned short port = 8888;
    char where[NET_ADDRSTR_MAX];

    parse_args(argc, argv, &host, &port);
    install_signals();

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
    listen_fd = fd;
    printf("listening on %s\n", where);
    fflush(stdout);

    /* [accept-loop] */
    while (!stop_requested) {
        struct sockaddr_storage addr;
        socklen_t addr_len = sizeof addr;
        int conn = accept(fd, (struct sockaddr *)&addr, &addr_len);
        if (conn < 0) {
            if (errno != EINTR && !stop_requested)
                accept_failed(errno);
            continue;
        }
        accept_succeeded();
        char peer[NET_ADDRSTR_MAX];
        net_format_address((struct sockaddr *)&addr, addr_len, peer);
        serve_client(conn, peer); /* everyone else waits until this returns */
    }
    /* [accept-loop] */

    listen_fd = -1;
    close(fd);
    errlog_printf(&server_log, "echo-server: stopped");
    return 0;
}
