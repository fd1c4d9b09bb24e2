/*
 * echo-client.c - chapter 05: many connections, one coroutine each.
 *
 * The shape of the asyncio crawler of "500 Lines or Less": every
 * connection is a coroutine that reads like a blocking client (connect,
 * then send a chunk and read its echo back, chunk after chunk), and a
 * Semaphore bounds how many are open at once. A launcher coroutine makes
 * each connection's Task only when a slot is free, so memory follows
 * --parallel, not --connections. Every byte that comes back is checked
 * against what was sent; a summary line (with the peak memory) ends the
 * run, and the exit status is 0 only if every echo was exact.
 */
#include "gather.h"
#include "loop.h"
#include "options.h"
#include "run.h"
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

/* What every connection reports to, and the slots they share. */
typedef struct run {
    const config_t *cfg;
    loop_t *loop;
    semaphore_t slots;   /* at most --parallel connections at once */
    long ok, failed;
} run_t;

typedef struct client {
    coro_t co;
    const config_t *cfg;
    loop_t *loop;
    run_t *run;
    long k;              /* which connection */
    long sent;           /* bytes sent and verified so far */
    size_t chunk, got;   /* this chunk's size, and how much came back */
    int fd;
    io_op_t op;
    char out[CHUNK];
    char in[CHUNK];
} client_t;

/* One connection's outcome: counted, and the first few failures said. */
static void client_done(client_t *f, int err)
{
    if (!err) {
        f->run->ok++;
    } else if (f->run->failed++ < 5) {
        fprintf(stderr, "echo-client: connection %ld: %s\n", f->k,
                strerror(err));
    }
    semaphore_release(&f->run->slots);   /* the launcher's next one */
}

/* [client-body] */
static int client_body(coro_t *co)
{
    client_t *f = (client_t *)co;

    CORO_BEGIN(co);
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->fd < 0) {
        client_done(f, errno);           /* counted and said: handled */
        CORO_RETURN(co, NULL);
    }
    /* Catching forms throughout: any error ends the loop below, and the
     * socket is closed and the error counted either way. */
    AWAIT_CATCH(co, sock_connect(&f->op, f->loop, f->fd,
                           (const struct sockaddr *)&f->cfg->addr,
                           sizeof f->cfg->addr));
    while (!co->err && f->sent < f->cfg->bytes) {
        f->chunk = (size_t)(f->cfg->bytes - f->sent);
        if (f->chunk > CHUNK)
            f->chunk = CHUNK;
        for (size_t i = 0; i < f->chunk; i++)
            f->out[i] = (char)pattern(f->k, f->sent + (long)i);
        AWAIT_CATCH(co, sock_sendall(&f->op, f->loop, f->fd, f->out,
                                     f->chunk));
        for (f->got = 0; !co->err && f->got < f->chunk;) {
            AWAIT_CATCH(co, sock_recv(&f->op, f->loop, f->fd,
                                      f->in + f->got, f->chunk - f->got));
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
    client_done(f, co->err);             /* an error is handled here */
    CORO_RETURN(co, (void *)(intptr_t)f->sent);
    CORO_END(co);
}
/* [client-body] */

/* The launcher: a connection's Task (and its two buffers) is made only
 * once a slot is free, so at most --parallel frames exist at a time, be
 * --connections a hundred or a million. At the end it takes every slot
 * back: that waits for the last connections to finish. */
typedef struct launcher {
    coro_t co;
    run_t *run;
    long k, drained;
    waiter_t slot;
} launcher_t;

/* [launcher-body] */
static int launcher_body(coro_t *co)
{
    launcher_t *f = (launcher_t *)co;
    run_t *run = f->run;

    CORO_BEGIN(co);
    for (f->k = 0; f->k < run->cfg->connections; f->k++) {
        client_t *c;
        task_t *t;

        AWAIT(co, semaphore_acquire(&run->slots, &f->slot));
        t = task_create(run->loop, client_body, sizeof *c, (void **)&c);
        if (!t)
            CORO_FAIL(co, errno);
        task_set_name(t, "client");
        c->cfg = run->cfg;
        c->loop = run->loop;
        c->run = run;
        c->k = f->k;
        task_release(t);              /* the loop's reference frees it */
    }
    for (f->drained = 0; f->drained < run->cfg->parallel; f->drained++)
        AWAIT(co, semaphore_acquire(&run->slots, &f->slot));
    CORO_END(co);
}
/* [launcher-body] */

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

/* The loop's own clock reader, so these times and the loop's agree. */
static double now_s(void)
{
    return loop_clock_monotonic(NULL);
}

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    config_t cfg = {.connections = 100, .bytes = 100000, .parallel = 1000};
    run_t run = {.cfg = &cfg};
    launcher_t *lf;
    task_t *launcher;
    int err = 0;
    double start;

    cfg.addr.sin_family = AF_INET;
    cfg.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    parse_args(argc, argv, &cfg);
    signal(SIGPIPE, SIG_IGN);
    run.loop = loop_create(NULL);
    if (!run.loop) {
        perror("echo-client: starting");
        return 1;
    }
    semaphore_init(&run.slots, run.loop, (size_t)cfg.parallel);
    start = now_s();
    launcher = task_create(run.loop, launcher_body, sizeof *lf, (void **)&lf);
    if (!launcher) {
        perror("echo-client: creating a task");
        return 1;
    }
    lf->run = &run;
    if (loop_run_until_complete(run.loop, task_future(launcher), NULL,
                                &err) != FUTURE_OK) {
        fprintf(stderr, "echo-client: %s\n", strerror(err ? err : errno));
        return 1;
    }
    task_release(launcher);
    printf("%ld connections, %ld verified, %ld failed, %ld bytes each, "
           "%.3f s, peak memory %ld KiB\n", cfg.connections, run.ok,
           run.failed, cfg.bytes, now_s() - start, peak_kib());
    loop_destroy(run.loop);
    return run.failed ? 1 : 0;
}
