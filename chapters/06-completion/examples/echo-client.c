/*
 * echo-client.c - chapter 06: chapter 05's client, on completions.
 *
 * The shape of the asyncio crawler of "500 Lines or Less": every
 * connection is a coroutine that reads like a blocking client (open the
 * connection, then write a chunk and read its echo back, chunk after
 * chunk), and a Semaphore bounds how many are open at once. The main
 * coroutine starts a connection's Task, in a task group, only once a
 * slot is free, so memory follows --parallel, not --connections; leaving
 * the group waits for the last ones. Every byte that comes back is
 * checked against what was sent, the connect and each echo must be done
 * within --timeout seconds (a timeout scope), and once every byte is back
 * the connection half-closes and must see the server's end of stream, not
 * more bytes. A summary line (with the peak memory) ends the run, and the
 * exit status is 0 only if every echo was exact.
 */
#include "loop.h"
#include "options.h"
#include "proactor.h" /* chapter 06 */
#include "run.h"
#include "stream.h"
#include "sync.h"
#include "taskgroup.h"
#include "timeout.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: echo-client --port N [--host ADDR] [--connections C]\n"
    "                   [--bytes B] [--parallel P] [--timeout S]\n"
    "\n"
    "Opens C connections (default 100) to an echo server at ADDR:N (ADDR\n"
    "an IPv4 address, default 127.0.0.1), at most P at a time (default\n"
    "1000), sends B bytes on each (default 100000) in chunks, and checks\n"
    "that every byte comes back in order, each chunk within S seconds\n"
    "(default 30; each connect gets as long), and that the server then\n"
    "ends the stream. Prints a summary; exits 0 if every echo was exact,\n"
    "1 otherwise, 2 for bad usage.\n";

#define CHUNK 8192

/* What main() hands the main coroutine. */
typedef struct config {
    const char *host;
    unsigned short port;
    long connections, bytes, parallel;
    double timeout_s;       /* for each echo, and for the end of stream */
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
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct in_addr ipv4;
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            if (inet_pton(AF_INET, optarg, &ipv4) != 1)
                options_usage_error("echo-client",
                                    "bad --host '%s': want an IPv4 address",
                                    optarg);
            cfg->host = optarg;
            break;
        case 'p':
            if (options_parse_port(optarg, &cfg->port) < 0 || cfg->port == 0)
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
        case 't':
            if (options_parse_interval(optarg, &cfg->timeout_s) < 0)
                options_usage_error("echo-client",
                                    "bad --timeout '%s': want seconds, "
                                    "e.g. 2 or 0.5", optarg);
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
    if (cfg->port == 0)
        options_usage_error("echo-client", "--port is required%s", "");
}

/* Byte i of connection k: a pattern that catches reordering and mix-ups
 * between connections. */
static unsigned char pattern(long k, long i)
{
    return (unsigned char)((i * 31 + k * 7 + (i >> 8)) & 0xff);
}

/* The main coroutine's frame: the slots and the group the connections
 * share, and their outcome. */
typedef struct client_main {
    coro_t co;
    const config_t *cfg;
    loop_t *loop;
    semaphore_t slots;      /* at most --parallel connections at once */
    task_group_t clients;   /* every connection's Task */
    waiter_t slot;
    long k;                 /* the next connection to start */
    long ok, failed;        /* connections verified, and not */
    double start;
} client_main_t;

typedef struct client {
    coro_t co;
    client_main_t *run;
    long k;                 /* which connection */
    long sent;              /* bytes sent and verified so far */
    size_t chunk;           /* this chunk's size */
    int err;                /* what ended it early, or 0 */
    int connected;          /* the connect is done: a timeout is an echo's */
    timeout_scope_t deadline;
    stream_connect_t connect;
    stream_t stream;
    char out[CHUNK];
    char in[CHUNK];
} client_t;

/* One connection's outcome: counted, and the first few failures said. */
static void client_done(client_t *f)
{
    if (f->err == 0) {
        f->run->ok++;
    } else if (f->run->failed++ < 5) {
        fprintf(stderr, "echo-client: connection %ld: ", f->k);
        if (f->err == ETIMEDOUT)
            fprintf(stderr, "%s %g s\n",
                    f->connected ? "nothing came back for"
                                 : "not connected within",
                    f->run->cfg->timeout_s);
        else
            fprintf(stderr, "%s\n",
                    f->err == ENODATA ? "the server closed it before "
                                        "echoing every byte"
                    : f->err == EILSEQ ? "the echo differs from what was "
                                         "sent"
                    : f->err == E2BIG ? "the server sent more bytes than "
                                        "it was sent"
                    : strerror(f->err));
    }
    semaphore_release(&f->run->slots);   /* the next one may start */
}

/* [client-body] */
static int client_body(coro_t *co)
{
    client_t *f = (client_t *)co;
    const config_t *cfg = f->run->cfg;

    CORO_BEGIN(co);
    /* Catching forms throughout: an error is this connection's outcome,
     * counted, not a reason to cancel the others in the group. The
     * connect is bounded too: to a server whose accept queue is full, the
     * kernel's own give-up comes minutes later. */
    if (timeout_enter(&f->deadline, cfg->timeout_s) < 0) {
        f->err = errno;
        client_done(f);
        CORO_RETURN(co, NULL);
    }
    CORO_AWAIT_CORO_CATCH(co, stream_open_connection(&f->connect,
                                                     f->run->loop, cfg->host,
                                                     cfg->port, &f->stream));
    f->err = timeout_exit(&f->deadline, co->err);
    if (f->err) {
        client_done(f);
        CORO_RETURN(co, NULL);
    }
    f->connected = 1;
    while (f->err == 0 && f->sent < cfg->bytes) {
        f->chunk = (size_t)(cfg->bytes - f->sent);
        if (f->chunk > CHUNK)
            f->chunk = CHUNK;
        for (size_t i = 0; i < f->chunk; i++)
            f->out[i] = (char)pattern(f->k, f->sent + (long)i);
        if (stream_write(&f->stream, f->out, f->chunk) < 0) {
            f->err = errno;
            break;
        }
        if (timeout_enter(&f->deadline, cfg->timeout_s) < 0) {
            f->err = errno;
            break;
        }
        AWAIT_CATCH(co, stream_drain(&f->stream));
        if (co->err == 0)
            CORO_AWAIT_CORO_CATCH(co, stream_readexactly(&f->stream, f->in,
                                                         f->chunk));
        /* ENODATA: closed before echoing all; ETIMEDOUT: too slow */
        f->err = timeout_exit(&f->deadline, co->err);
        if (f->err == 0 && memcmp(f->in, f->out, f->chunk) != 0)
            f->err = EILSEQ;       /* the echo was not what we sent */
        if (f->err == 0)
            f->sent += (long)f->chunk;
    }
    /* All back: half-close, and the server must end its side too, with
     * nothing more (a byte more would be one it made up). */
    if (f->err == 0 && stream_write_eof(&f->stream) < 0)
        f->err = errno;
    if (f->err == 0 && timeout_enter(&f->deadline, cfg->timeout_s) < 0)
        f->err = errno;
    if (f->err == 0) {
        CORO_AWAIT_CORO_CATCH(co, stream_read(&f->stream, f->in, 1));
        f->err = timeout_exit(&f->deadline, co->err);
        if (f->err == 0 && (intptr_t)co->in != 0)
            f->err = E2BIG;
    }
    stream_close(&f->stream);
    AWAIT_CATCH(co, stream_wait_closed(&f->stream));
    client_done(f);
    CORO_END(co);
}
/* [client-body] */

/* The peak resident memory of this program, in KiB: VmHWM in
 * /proc/self/status (getrusage's ru_maxrss would do, but on Linux it
 * keeps the peak of the process that forked us, a test runner say); -1
 * where there is no /proc. */
static long peak_kib(void)
{
    char line[128];
    long kib = -1;
    FILE *status = fopen("/proc/self/status", "r");

    while (status && fgets(line, sizeof line, status))
        if (sscanf(line, "VmHWM: %ld", &kib) == 1)
            break;
    if (status)
        fclose(status);
    return kib;
}

/* [launcher-body] */
/* A connection's Task (and its two buffers) is made only once a slot is
 * free, so at most --parallel frames exist at a time, be --connections a
 * hundred or a million. */
static int client_main_body(coro_t *co)
{
    client_main_t *m = (client_main_t *)co;
    const config_t *cfg = m->cfg;

    CORO_BEGIN(co);
    m->loop = running_loop();
    m->start = loop_time(m->loop);
    semaphore_init(&m->slots, m->loop, (size_t)cfg->parallel);
    task_group_init(&m->clients, m->loop);
    for (m->k = 0; m->k < cfg->connections; m->k++) {
        client_t *c;

        AWAIT_CATCH(co, semaphore_acquire(&m->slots, &m->slot));
        if (co->err == 0 &&
            task_group_create_task(&m->clients, client_body, sizeof *c,
                                   (void **)&c) == NULL)
            co->err = errno;
        if (co->err) {             /* the group's owner must still wait */
            task_group_abort(&m->clients, co->err);
            break;
        }
        c->run = m;
        c->k = m->k;
    }
    AWAIT(co, task_group_wait(&m->clients));
    printf("%ld connections, %ld verified, %ld failed, %ld bytes each, "
           "%.3f s, peak memory %ld KiB\n", cfg->connections, m->ok,
           m->failed, cfg->bytes, loop_time(m->loop) - m->start,
           peak_kib());
    CORO_RETURN(co, (void *)(intptr_t)m->failed);
    CORO_END(co);
}
/* [launcher-body] */

static int client_setup(void *frame, executor_t *executor, void *arg)
{
    client_main_t *m = frame;

    (void)executor;
    m->cfg = arg;
    return 0;
}

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    config_t cfg = {.host = "127.0.0.1", .connections = 100,
                    .bytes = 100000, .parallel = 1000, .timeout_s = 30};
    void *failed = NULL;
    int err = 0;

    parse_args(argc, argv, &cfg);
    signal(SIGPIPE, SIG_IGN); /* belt and braces: sends use MSG_NOSIGNAL */
    if (run(client_main_body, sizeof(client_main_t), client_setup, &cfg,
            NULL, &failed, &err) != FUTURE_OK) {
        fprintf(stderr, "echo-client: %s\n",
                proactor_strerror(err)); /* chapter 06 */
        return 1;
    }
    return failed != NULL ? 1 : 0;
}
