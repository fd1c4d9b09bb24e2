/*
 * echo-client.c - chapter 05: many connections, one coroutine each.
 *
 * The counterpart of the '500 lines' crawler from the notes: every
 * connection is a coroutine that reads like a blocking client (connect,
 * then send a chunk and read its echo back, chunk after chunk), and a
 * Semaphore bounds how many are open at once. Every byte that comes back
 * is checked against what was sent; a summary line ends the run, and the
 * exit status is 0 only if every echo was exact.
 */
#include "gather.h"
#include "loop.h"
#include "options.h"
#include "sock.h"
#include "sync.h"
#include "task.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: echo-client --port N [--host ADDR] [--connections C]\n"
    "                   [--bytes B] [--parallel P]\n"
    "\n"
    "Opens C connections (default 100) to an echo server at ADDR:N (ADDR\n"
    "an IPv4 address, default 127.0.0.1), at most P at a time (default\n"
    "1000), sends B bytes on each (default 100000) in chunks, and checks\n"
    "that every byte comes back in order. Prints a summary; exits 0 if\n"
    "every echo was exact, 1 otherwise, 2 for bad usage.\n";

#define CHUNK 8192

typedef struct config {
    struct sockaddr_in addr;
    long connections, bytes, parallel;
} config_t;

static long parse_count(const char *opt, const char *text, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < 1 || v > max) {
        char msg[64];

        snprintf(msg, sizeof msg, "bad %s '%%s': want 1 to %ld", opt, max);
        options_usage_error("echo-client", msg, text);
    }
    return v;
}

static void parse_args(int argc, char **argv, config_t *cfg)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
        {"connections", required_argument, NULL, 'c'},
        {"bytes", required_argument, NULL, 'b'},
        {"parallel", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned short port = 0;
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            if (inet_pton(AF_INET, optarg, &cfg->addr.sin_addr) != 1)
                options_usage_error("echo-client",
                                    "bad --host '%s': want an IPv4 address",
                                    optarg);
            break;
        case 'p':
            if (options_parse_port(optarg, &port) < 0 || port == 0)
                options_usage_error("echo-client",
                                    "bad --port '%s': want 1 to 65535",
                                    optarg);
            break;
        case 'c':
            cfg->connections = parse_count("--connections", optarg, 1000000);
            break;
        case 'b':
            cfg->bytes = parse_count("--bytes", optarg, 1L << 30);
            break;
        case 'j':
            cfg->parallel = parse_count("--parallel", optarg, 1000000);
            break;
        case 'h':
            fputs(usage, stdout);
            exit(0);
        default:
            options_usage_error("echo-client",
                                "unknown option or missing value: '%s'",
                                argv[optind - 1]);
        }
    }
    if (optind < argc)
        options_usage_error("echo-client", "unexpected argument '%s'",
                            argv[optind]);
    if (port == 0)
        options_usage_error("echo-client", "--port is required%s", "");
    cfg->addr.sin_port = htons(port);
}

/* Byte i of connection k: a pattern that catches reordering and mix-ups
 * between connections. */
static unsigned char pattern(long k, long i)
{
    return (unsigned char)((i * 31 + k * 7 + (i >> 8)) & 0xff);
}

typedef struct client {
    coro_t co;
    const config_t *cfg;
    loop_t *loop;
    semaphore_t *slots;
    long k;              /* which connection */
    long sent;           /* bytes sent and verified so far */
    size_t chunk, got;   /* this chunk's size, and how much came back */
    int fd;
    waiter_t slot;
    io_op_t op;
    char out[CHUNK];
    char in[CHUNK];
} client_t;

/* [client-body] */
static int client_body(coro_t *co)
{
    client_t *f = (client_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, semaphore_acquire(f->slots, &f->slot));
    if (co->err)
        CORO_FAIL(co, co->err);
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->fd < 0) {
        semaphore_release(f->slots);
        CORO_FAIL(co, errno);
    }
    AWAIT(co, sock_connect(&f->op, f->loop, f->fd,
                           (const struct sockaddr *)&f->cfg->addr,
                           sizeof f->cfg->addr));
    while (!co->err && f->sent < f->cfg->bytes) {
        f->chunk = (size_t)(f->cfg->bytes - f->sent);
        if (f->chunk > CHUNK)
            f->chunk = CHUNK;
        for (size_t i = 0; i < f->chunk; i++)
            f->out[i] = (char)pattern(f->k, f->sent + (long)i);
        AWAIT(co, sock_sendall(&f->op, f->loop, f->fd, f->out, f->chunk));
        for (f->got = 0; !co->err && f->got < f->chunk;) {
            AWAIT(co, sock_recv(&f->op, f->loop, f->fd, f->in + f->got,
                                f->chunk - f->got));
            if (!co->err && co->in == 0)
                co->err = ECONNRESET;  /* closed before echoing it all */
            if (!co->err)
                f->got += (size_t)(intptr_t)co->in;
        }
        if (!co->err && memcmp(f->in, f->out, f->chunk) != 0)
            co->err = EILSEQ;          /* the echo was not what we sent */
        if (!co->err)
            f->sent += (long)f->chunk;
    }
    close(f->fd);
    semaphore_release(f->slots);
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_RETURN(co, (void *)(intptr_t)f->sent);
    CORO_END(co);
}
/* [client-body] */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    config_t cfg = {.connections = 100, .bytes = 100000, .parallel = 1000};
    loop_t *loop;
    semaphore_t slots;
    task_t **tasks;
    long ok = 0, failed = 0;
    double start;

    cfg.addr.sin_family = AF_INET;
    cfg.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    parse_args(argc, argv, &cfg);
    signal(SIGPIPE, SIG_IGN);
    loop = loop_create(NULL);
    tasks = calloc((size_t)cfg.connections, sizeof *tasks);
    if (!loop || !tasks) {
        perror("echo-client: starting");
        return 1;
    }
    semaphore_init(&slots, loop, (size_t)cfg.parallel);
    start = now_s();
    for (long k = 0; k < cfg.connections; k++) {
        client_t *f;

        tasks[k] = task_create(loop, client_body, sizeof *f, (void **)&f);
        if (!tasks[k]) {
            perror("echo-client: creating a task");
            return 1;
        }
        task_set_name(tasks[k], "client");
        f->cfg = &cfg;
        f->loop = loop;
        f->slots = &slots;
        f->k = k;
    }
    for (long k = 0; k < cfg.connections; k++) {
        int err = 0;

        if (loop_run_until_complete(loop, task_future(tasks[k]), NULL,
                                    &err) == FUTURE_OK) {
            ok++;
        } else {
            if (failed++ < 5)
                fprintf(stderr, "echo-client: connection %ld: %s\n", k,
                        strerror(err));
        }
        task_release(tasks[k]);
    }
    printf("%ld connections, %ld verified, %ld failed, %ld bytes each, "
           "%.3f s\n", cfg.connections, ok, failed, cfg.bytes,
           now_s() - start);
    free(tasks);
    loop_destroy(loop);
    return failed ? 1 : 0;
}
