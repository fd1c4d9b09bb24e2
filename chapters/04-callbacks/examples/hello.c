/*
 * hello.c - chapter 04: the hello as callbacks on an event loop.
 *
 * Chapter 03's hello had its own loop: compute how long until the next
 * hello, wait that long for stdin, then see which of the two it was. Here
 * the event loop (loop.c) owns that loop, and the program is two callbacks:
 *
 *  - say_hello(), a timer callback that prints and re-arms itself, as a
 *    Python print_hello() would call loop.call_later(3, print_hello);
 *  - on_input(), the reader of standard input: one read() into the line
 *    buffer, then an answer for every complete line; `exit` or end of
 *    input stops the loop.
 *
 * The scheduling is still cooperative: while fib runs inside on_input(),
 * nothing else runs, and the hello that falls due waits for it. Run it with
 * LOOP_TRACE=1 to watch each iteration: what woke the loop, which timers
 * were due, how many callbacks ran.
 *
 * Standard input stays blocking, as in chapter 03: O_NONBLOCK would leak
 * to the shell that shares the descriptor. One read() after the loop said
 * "readable" does not block unless another process reading the same stdin
 * took the bytes first (then hello waits in read(), hellos included).
 */
#include "fib.h"
#include "input.h"
#include "linebuf.h"
#include "loop.h"
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: hello [--interval SECONDS]\n"
    "\n"
    "Prints '<unix-time> - Hello world!' every SECONDS (a decimal from\n"
    "0.001 to 86400, default 3) and answers each input line holding a\n"
    "natural number n with fib(n), computed by naive recursion.\n"
    "\n"
    "n may be at most %d: each step up makes fib about 1.6 times slower, and\n"
    "fib(%d) already takes seconds, so a larger n would freeze the program\n"
    "for minutes. Lines may be at most %d bytes, not counting the line\n"
    "end. Type exit, end the input (Ctrl-D), or send SIGINT (Ctrl-C) or\n"
    "SIGTERM to quit. Set LOOP_TRACE=1 in the environment to watch the\n"
    "event loop's iterations on stderr.\n"
    "\n"
    "Chapter 04 (callbacks): the hello is a timer callback that re-arms\n"
    "itself, input a reader callback. While fib runs, the hellos wait.\n";

static double parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"interval", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double interval_s = 3.0;
    int opt;

    opterr = 0; /* we print our own messages */
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            if (options_parse_interval(optarg, &interval_s) < 0)
                options_usage_error(
                    "hello",
                    "bad --interval '%s': want a decimal from 0.001 to 86400",
                    optarg);
            break;
        case 'h':
            printf(usage, FIB_MAX_N, FIB_MAX_N, INPUT_LINE_MAX);
            exit(0);
        default:
            options_usage_error("hello",
                                "unknown option or missing value: '%s'",
                                argv[optind - 1]);
        }
    }
    if (optind < argc)
        options_usage_error("hello", "unexpected argument '%s'",
                            argv[optind]);
    return interval_s;
}

/* [hello-state] */
/* Everything the timer and reader callbacks share: their arg. */
typedef struct hello {
    loop_t *loop;
    double interval_s;
    loop_timer_t tick; /* the hello timer, re-armed by say_hello() */
    loop_timer_t next_line; /* answers the next buffered line */
    linebuf_t input;
    int at_eof;        /* the last read() returned 0 */
    int quiet;         /* stopping on a signal: print nothing more */
    int status;        /* the exit status */
} hello_t;

/* Report a failure of the loop's machinery and stop with status 1. */
static void fail(loop_t *loop, hello_t *h, const char *what)
{
    perror(what);
    h->status = 1;
    loop_stop(loop);
}
/* [hello-state] */

/* [say] */
/* A stop signal has come: its callback has run, or the loop will run it
 * once the callback running now returns. */
static int stopping(const hello_t *h)
{
    return h->quiet || loop_signal_pending(h->loop, SIGINT) ||
           loop_signal_pending(h->loop, SIGTERM);
}

/* Wait until @p to can take a line, or a stop signal comes: 0, or -1 if
 * one came (drop the line). A signal taken before a blocking write has
 * nothing left to interrupt: one that comes while fib computes, say, and
 * the answer's write then finds the pipe full. So the stop signals are
 * blocked from the check to the wait, which unblocks them as it starts
 * (pselect()): one that comes in between interrupts the wait. A pipe that
 * polls writable has room for a line (up to PIPE_BUF bytes), and only
 * this thread writes: the write then does not block. So the usual case,
 * room now, costs one poll(), and only a full pipe the signal dance. */
static int wait_for_room(const hello_t *h, FILE *to)
{
    struct pollfd now = {.fd = fileno(to), .events = POLLOUT};
    sigset_t stop, old;
    fd_set out;
    int rc = 0;

    if (stopping(h))
        return -1;
    if (poll(&now, 1, 0) == 1)    /* room, or an error the write will say */
        return 0;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, &old);
    for (;;) {
        if (stopping(h)) {
            rc = -1;
            break;
        }
        FD_ZERO(&out);
        FD_SET(fileno(to), &out);
        if (pselect(fileno(to) + 1, NULL, &out, NULL, NULL, &old) >= 0 ||
            errno != EINTR)
            break;                /* room, or no wait possible: write */
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* fprintf() one line to @p to, standard output or error, unless the
 * program is stopping on a signal. The output waits for its reader
 * (`hello | less`, less no longer reading; or `2>` a pipe whose reader has
 * stalled, with input full of bad lines), in wait_for_room(), until a
 * stop signal comes (Ctrl-C); from then on output is dropped, on both
 * streams, the price of ending when asked: any line printed before the
 * loop has stopped would block on the same full pipe with no signal left
 * to free it. A signal that cuts short a write blocked all the same (on a
 * terminal, say, where writable does not promise room for a whole line)
 * makes it fail with EINTR: the loop's handlers do not restart it. That
 * is no output error either, so the error flag is cleared; glibc has
 * dropped the line it could not write. */
static void say(hello_t *h, FILE *to, const char *format, ...)
{
    if (h->quiet)
        return;
    if (wait_for_room(h, to) < 0) {
        h->quiet = 1;
        return;
    }
    int failing = ferror(to); /* sticky: an earlier error stays */
    va_list ap;
    va_start(ap, format);
    vfprintf(to, format, ap);
    va_end(ap);
    if (!failing && ferror(to) && errno == EINTR) {
        clearerr(to);
        h->quiet = 1;
    }
}
/* [say] */

/* Answer one line. Returns 0 to go on, 1 when the user asked to exit. */
static int answer_line(hello_t *h, const char *line, size_t len)
{
    unsigned n;
    input_kind_t kind = input_parse_line(line, len, &n);

    switch (kind) {
    case INPUT_NUMBER: {
        double seconds;
        uint64_t value = fib_timed(n, &seconds);
        say(h, stdout, "fib(%u) = %llu (%.3f s)\n", n,
            (unsigned long long)value, seconds);
        return 0;
    }
    case INPUT_EMPTY:
        return 0;
    case INPUT_EXIT:
        return 1;
    default:
        say(h, stderr, "error: %s\n", input_strerror(kind));
        return 0;
    }
}

/* [say-hello] */
static void say_hello(loop_t *loop, void *arg)
{
    hello_t *h = arg;
    say(h, stdout, "%lld - Hello world!\n", (long long)time(NULL));
    /* Re-arm: the loop unlinked the timer before calling us. */
    loop_call_later(loop, &h->tick, h->interval_s, say_hello, h);
}
/* [say-hello] */

/* [on-input] */
/* How far the loop's clock lags behind the real one. The loop reads the
 * clock once per iteration (CLOCK_MONOTONIC, its default), so after a long
 * fib, loop_time() is still the time before the fib. */
static double loop_lag_s(const loop_t *loop)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double lag = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - loop_time(loop);
    return lag > 0 ? lag : 0;
}

static void answer_next(loop_t *loop, void *arg);

static void on_input(loop_t *loop, void *arg)
{
    hello_t *h = arg;
    ssize_t got = linebuf_read(&h->input, STDIN_FILENO);

    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        perror("hello: reading standard input");
        h->status = 1;
        loop_stop(loop);
        return;
    }
    h->at_eof = got == 0;
    /* No more reading until every line of this read is answered; they are
     * answered one per iteration, so that due hellos run between them. */
    loop_remove_reader(loop, STDIN_FILENO);
    answer_next(loop, h);
}

/* Answer one buffered line, then schedule the next one; when no complete
 * line is left, watch stdin again (or stop at end of input). */
static void answer_next(loop_t *loop, void *arg)
{
    hello_t *h = arg;
    const char *line;
    size_t len;

    if (linebuf_next(&h->input, &line, &len)) {
        if (answer_line(h, line, len)) {
            loop_stop(loop); /* `exit` */
            return;
        }
        /* The next line is a timer due at the real "now": it sorts after
         * a hello that fell due during this fib. */
        if (loop_call_later(loop, &h->next_line, loop_lag_s(loop),
                            answer_next, h) < 0)
            fail(loop, h, "hello: queueing the next line");
        return;
    }
    if (h->at_eof)
        loop_stop(loop); /* end of input, last line answered */
    else if (loop_add_reader(loop, STDIN_FILENO, on_input, h) < 0)
        fail(loop, h, "hello: watching standard input");
}
/* [on-input] */

/* [hello-signals] */
/* SIGINT and SIGTERM arrive as ordinary callbacks: stop the loop, and main()
 * ends as after `exit`. Like every callback, this one waits while fib runs:
 * Ctrl-C during fib(45) takes effect when fib returns. The callbacks left
 * in this iteration print nothing (see say()): stdout may be a full pipe. */
static void on_stop_signal(loop_t *loop, void *arg)
{
    hello_t *h = arg;
    h->quiet = 1;
    loop_stop(loop);
}
/* [hello-signals] */

/* The loop, with stdin as a reader. epoll refuses regular files (EPERM),
 * which is what stdin is after `hello < numbers.txt`; poll accepts them
 * (always readable, which is true of a file), so fall back to it. */
static loop_t *watch_stdin(hello_t *h)
{
    if (fcntl(STDIN_FILENO, F_GETFD) < 0) /* closed: the loop's own */
        return NULL;                       /* descriptor would take fd 0 */
    loop_t *loop = loop_create(NULL);
    if (loop != NULL && loop_add_reader(loop, STDIN_FILENO, on_input, h) < 0) {
        int err = errno;
        loop_destroy(loop);
        loop = NULL;
        if (err == EPERM) {
            loop_options_t poll_options = {.backend = SELECTOR_POLL};
            loop = loop_create(&poll_options);
            if (loop != NULL &&
                loop_add_reader(loop, STDIN_FILENO, on_input, h) < 0) {
                err = errno;
                loop_destroy(loop);
                loop = NULL;
            }
        }
        errno = err;
    }
    return loop;
}

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    hello_t h = {.interval_s = parse_args(argc, argv)};

    /* stdout into a pipe is fully buffered by default; the contract wants
     * every line out as soon as it is printed. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* [hello-main] */
    linebuf_init(&h.input);
    loop_timer_init(&h.tick);
    loop_timer_init(&h.next_line);
    loop_t *loop = watch_stdin(&h); /* a loop with stdin's reader added */
    if (loop == NULL) {
        fprintf(stderr, "hello: cannot watch standard input: %s\n",
                strerror(errno));
        return 1;
    }
    h.loop = loop;
    loop_call_later(loop, &h.tick, 0, say_hello, &h); /* the first at once */
    if (loop_add_signal_handler(loop, SIGINT, on_stop_signal, &h) < 0 ||
        loop_add_signal_handler(loop, SIGTERM, on_stop_signal, &h) < 0) {
        perror("hello: signal handlers");
        h.status = 1;
    } else if (loop_run_forever(loop) < 0) {
        perror("hello: event loop");
        h.status = 1;
    }
    /* As in echo-server.c: loop_destroy() gives SIGINT and SIGTERM back
     * their default action, and one more signal of a burst (a second
     * Ctrl-C) would then kill us on the way out. Blocked, it stays
     * pending and goes away with the process. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, NULL);
    loop_destroy(loop); /* disarms the hello timer */
    /* [hello-main] */

    /* printf's errors are sticky: one check at the end catches a full disk
     * or a closed pipe on stdout. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("hello: writing standard output");
        return 1;
    }
    return h.status;
}
