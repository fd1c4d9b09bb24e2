/*
 * echo-server.c - chapter 02: one thread per connection.
 *
 * The main thread accepts; every accepted client gets a thread of its own
 * that runs chapter 01's echo_serve() unchanged. A blocked recv() now blocks
 * only its own thread, so clients are served at the same time. The price is
 * a thread (a stack, a kernel task) per client, and a harder shutdown.
 *
 * Shutdown on SIGINT/SIGTERM. The handler only sets a flag and calls
 * shutdown() on the listening socket (both async-signal-safe), which wakes
 * accept() in the main thread. Connection threads block the two signals, so
 * the main thread is the one that receives them. The
 * main thread then shuts down every live client socket through the registry,
 * so that connection threads blocked in recv() return, and waits for the
 * last of them. Connection threads are detached: nobody joins them, the
 * registry's count is what the main thread waits on.
 */
#include "echo.h"
#include "errlog.h"
#include "net.h"
#include "options.h"
#include "registry.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
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
    "Chapter 02 (threads): one thread per client, all served at once.\n";

static volatile sig_atomic_t stop_requested = 0;
static volatile sig_atomic_t listen_fd = -1;

/* The main thread's lines after start-up go through here: a stderr that
 * nobody reads must cost log lines, never the server (see errlog.h). A
 * client that keeps bringing the server to its descriptor limit makes two
 * lines per episode, and a blocking write would stop accept() for good
 * once the pipe is full. Each connection thread has an errlog_t of its own
 * (one errlog_t is for one thread). */
static errlog_t server_log = ERRLOG_INIT(STDERR_FILENO);

/* Every live connection, so that shutdown can reach the threads. */
static registry_t connections;

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
    if (listen_fd >= 0)
        shutdown(listen_fd, SHUT_RDWR); /* wakes (or pre-empts) accept() */
}

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

/* [conn-thread] */
/* A connection's thread: echo until the client is done, then leave the
 * registry (which closes the socket). The descriptor travels in the void *
 * argument itself, so there is nothing to allocate and nothing to leak. */
static void *serve_client(void *arg)
{
    int fd = (int)(intptr_t)arg;
    errlog_t log = ERRLOG_INIT(STDERR_FILENO); /* this thread's own */

    if (echo_serve(fd) < 0 && errno != EPIPE && errno != ECONNRESET)
        errlog_printf(&log, "echo-server: connection: %s", strerror(errno));
    registry_close(&connections, fd); /* the thread's last use of shared state */
    return NULL;
}
/* [conn-thread] */

/* [spawn] */
/* Register the connection and give it a thread. On failure (EAGAIN: the
 * system will not make another thread) only this client pays: we tell it
 * why on stderr and close it. */
static void start_client(int conn, const char *peer)
{
    pthread_attr_t attr;
    pthread_t thread;
    int err;

    if (registry_add(&connections, conn) < 0) {
        close(conn); /* stopping, or out of memory */
        return;
    }
    /* A new thread inherits its creator's signal mask. Blocking SIGINT and
     * SIGTERM around pthread_create() means only the main thread ever
     * receives them, where the handler's shutdown() of the listening socket
     * is certain to wake accept(). */
    sigset_t stop_signals, saved;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &saved);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    err = pthread_create(&thread, &attr, serve_client, (void *)(intptr_t)conn);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (err != 0) {
        errlog_printf(&server_log, "echo-server: %s refused: cannot start a "
                      "thread: %s", peer, strerror(err));
        registry_close(&connections, conn);
    }
}
/* [spawn] */

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    const char *host = "127.0.0.1";
    unsigned short port = 8888;
    char where[NET_ADDRSTR_MAX];

    parse_args(argc, argv, &host, &port);
    registry_init(&connections);
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
        start_client(conn, peer); /* returns at once: the thread serves */
    }
    /* [accept-loop] */

    /* [stop] */
    listen_fd = -1;
    close(fd);
    registry_shutdown_all(&connections); /* wakes every thread in recv() */
    size_t left = registry_wait_empty(&connections, 0.8);
    if (left > 0) {
        errlog_printf(&server_log, "echo-server: %zu connections did not end",
                      left);
        return 1; /* they still use the registry: do not free it under them */
    }
    registry_deinit(&connections);
    /* [stop] */
    errlog_printf(&server_log, "echo-server: stopped");
    return 0;
}
