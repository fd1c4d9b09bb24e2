/*
 * hello.c - chapter 03: one thread waits on stdin and on the clock at once.
 *
 * No second thread. The selector waits until standard input is readable,
 * but never longer than until the next hello is due: the timeout of the
 * wait is the time left to that hello. So the hellos keep coming while the
 * user types nothing, and a line is answered as soon as it arrives.
 *
 * What it cannot do: run anything while fib runs. Nothing interrupts fib;
 * the loop only gets back to the clock when fib returns, and the hellos due
 * in between come late (one is printed, the missed ones are not made up).
 * So the loop answers one line per turn: when one read() brings several
 * lines, a hello that fell due during one fib goes before the next line.
 * That is cooperative scheduling, made visible: every piece of work must
 * give control back for the others to run.
 *
 * Input is read with read() into our own line buffer (linebuf.h), never
 * with stdio: see linebuf.h for the trap that avoids. Standard input is
 * left blocking on purpose: its file description is shared with the shell
 * (a terminal) or the writer's side, and O_NONBLOCK on it would leak to
 * them. One read() after the selector said "readable" does not block,
 * unless another process reads the same stdin and takes the bytes first:
 * then hello blocks in read() until more input comes (the hellos wait),
 * which is the price of leaving the shared description alone. Should the
 * other process have set O_NONBLOCK on it, read() says EAGAIN instead and
 * the loop simply waits again.
 */
#include "fib.h"
#include "input.h"
#include "linebuf.h"
#include "monotonic.h"
#include "options.h"
#include "selector.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    "end. Type exit, or end the input (Ctrl-D), to quit.\n"
    "\n"
    "Chapter 03 (selectors): one thread waits for input with a timeout that\n"
    "ends when the next hello is due. While fib runs, the hellos wait.\n";

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

/* Answer one line. Returns 0 to go on, 1 when the user asked to exit. */
static int answer_line(const char *line, size_t len)
{
    unsigned n;
    input_kind_t kind = input_parse_line(line, len, &n);

    switch (kind) {
    case INPUT_NUMBER: {
        double seconds;
        uint64_t value = fib_timed(n, &seconds);
        printf("fib(%u) = %llu (%.3f s)\n", n, (unsigned long long)value,
               seconds);
        return 0;
    }
    case INPUT_EMPTY:
        return 0;
    case INPUT_EXIT:
        return 1;
    default:
        fprintf(stderr, "error: %s\n", input_strerror(kind));
        return 0;
    }
}

/* The selector, watching stdin. epoll refuses regular files (EPERM), which
 * is what stdin is after `hello < numbers.txt`; poll accepts them (always
 * readable, which is true of a file), so fall back to it. */
static selector_t *watch_stdin(void)
{
    if (fcntl(STDIN_FILENO, F_GETFD) < 0) /* closed: the selector's own */
        return NULL;                       /* descriptor would take fd 0 */
    selector_t *sel = selector_create(SELECTOR_DEFAULT);
    if (sel != NULL && selector_register(sel, STDIN_FILENO, SELECTOR_READ,
                                         NULL) == -1) {
        int err = errno;
        selector_destroy(sel);
        sel = NULL;
        errno = err;
        if (err == EPERM && (sel = selector_create(SELECTOR_POLL)) != NULL &&
            selector_register(sel, STDIN_FILENO, SELECTOR_READ, NULL) == -1) {
            err = errno;
            selector_destroy(sel);
            sel = NULL;
            errno = err;
        }
    }
    return sel;
}

/* [one-line] */
/* Answer the next complete line the buffer holds, if there is one.
 * Returns 1 when a line was answered, 0 when no complete line is left, -1
 * when the user asked to exit. */
static int answer_next(linebuf_t *lb)
{
    const char *line;
    size_t len;
    if (!linebuf_next(lb, &line, &len))
        return 0;
    return answer_line(line, len) ? -1 : 1;
}
/* [one-line] */

/* [hello-loop] */
static int run(selector_t *sel, double interval_s)
{
    linebuf_t lb;
    double next_hello = monotonic_s(); /* the first one at once */
    int lines_waiting = 0; /* the buffer may hold complete lines */
    int at_eof = 0;

    linebuf_init(&lb);
    for (;;) {
        double now = monotonic_s();
        if (now >= next_hello) {
            printf("%lld - Hello world!\n", (long long)time(NULL));
            next_hello += interval_s;
            if (next_hello <= now) /* late (fib ran): skip what was missed */
                next_hello = now + interval_s;
        }
        /* Wait for input, but only until the next hello is due; while
         * lines wait in the buffer, only look (timeout 0). */
        int timeout_ms =
            lines_waiting ? 0 : (int)ceil((next_hello - now) * 1000.0);
        if (selector_select(sel, timeout_ms) < 0)
            return -1;
        selector_event_t ev;
        /* While lines wait, a "stdin readable" is dropped unread: the
         * selector is level-triggered and says it again at the first wait
         * after the buffer runs out of lines. */
        if (selector_next(sel, &ev) && !lines_waiting) { /* stdin */
            ssize_t got = linebuf_read(&lb, STDIN_FILENO);
            if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            if (got < 0) /* nothing there after all (see the file comment) */
                continue;
            at_eof = got == 0;
            lines_waiting = 1;
        }
        if (lines_waiting) {
            /* One line per turn: the clock is looked at between two
             * answers, so a due hello goes before the next line. */
            int answered = answer_next(&lb);
            if (answered < 0) /* exit */
                return 0;
            if (answered == 0) { /* the buffer holds no complete line */
                lines_waiting = 0;
                if (at_eof)
                    return 0;
            }
        }
    }
}
/* [hello-loop] */

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    double interval_s = parse_args(argc, argv);

    /* stdout into a pipe is fully buffered by default; the contract wants
     * every line out as soon as it is printed. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    selector_t *sel = watch_stdin();
    if (sel == NULL) {
        fprintf(stderr, "hello: cannot watch standard input: %s\n",
                strerror(errno));
        return 1;
    }
    int status = 0;
    if (run(sel, interval_s) < 0) {
        perror("hello: reading standard input");
        status = 1;
    }
    selector_destroy(sel);

    /* printf's errors are sticky: one check at the end catches a full disk
     * or a closed pipe on stdout. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("hello: writing standard output");
        return 1;
    }
    return status;
}
