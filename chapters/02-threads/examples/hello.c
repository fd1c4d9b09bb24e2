/*
 * hello.c - chapter 02: print a hello every few seconds while answering input.
 *
 * Two threads. A ticker thread prints the hellos; the main thread reads
 * lines and computes fib, exactly as in chapter 01. The operating system
 * schedules both, so the hellos keep coming while the main thread is blocked
 * in a read or busy in fib. The price: two threads now write to stdout, and
 * shutting down means telling the other thread to stop and waiting for it.
 *
 * Line-atomic output. Each line is written by exactly one printf() call, and
 * stdout is line buffered. POSIX requires every stdio call to lock the FILE
 * for its duration (as if by flockfile()), so one printf() is never cut in
 * half by another thread's printf(), and with line buffering the finished
 * line leaves in one write(). We rely on that lock instead of adding our own
 * mutex: a second mutex around printf() would guard exactly what stdio
 * already guards. The rule it imposes: never build one line out of several
 * printf() calls, or another thread's line can land in the middle.
 */
#include "fib.h"
#include "input.h"
#include "options.h"
#include "ticker.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    "Chapter 02 (threads): a second thread prints the hellos, so they keep\n"
    "coming while the program waits for you or computes fib.\n";

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

/* [say-hello] */
/* The ticker's callback, run on the ticker thread. One printf() per line:
 * see the comment at the top of the file. */
static void say_hello(void *arg)
{
    (void)arg;
    printf("%lld - Hello world!\n", (long long)time(NULL));
}
/* [say-hello] */

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

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    double interval_s = parse_args(argc, argv);

    /* stdout into a pipe is fully buffered by default; the contract wants
     * every line out as soon as it is printed. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* [threads-main] */
    ticker_t ticker;
    if (ticker_start(&ticker, interval_s, say_hello, NULL) < 0) {
        fprintf(stderr, "hello: cannot start the hello thread: %s\n",
                strerror(errno));
        return 1;
    }

    char line[INPUT_LINE_MAX + 1];
    size_t len;
    int status = 0;
    for (;;) {
        int got = input_read_line(stdin, line, &len); /* only this thread waits */
        if (got == 0)
            break;
        if (got < 0) {
            perror("hello: reading standard input");
            status = 1;
            break;
        }
        if (answer_line(line, len))
            break;
    }

    ticker_stop(&ticker); /* wakes the ticker at once and joins it */
    /* [threads-main] */

    /* printf's errors are sticky: one check at the end catches a full disk
     * or a closed pipe on stdout. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("hello: writing standard output");
        return 1;
    }
    return status;
}
