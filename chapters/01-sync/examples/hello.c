/*
 * hello.c - chapter 01: print a hello every few seconds while answering input.
 *
 * The synchronous attempt. The program does one thing at a time, in order:
 * print a hello if one is due, then wait for a line, then answer it. While it
 * waits in input_read_line() nothing else can happen, so the hellos stop
 * whenever the user stops typing. That is the problem the next four chapters
 * solve in four different ways.
 */
#include "fib.h"
#include "input.h"
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
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
    "Chapter 01 (sync): hellos are printed only between input lines, because\n"
    "the program is blocked in a read while it waits for you.\n";

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

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    double interval_s = parse_args(argc, argv);

    /* stdout into a pipe is fully buffered by default; the contract wants
     * every line out as soon as it is printed. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* [sync-loop] */
    char line[INPUT_LINE_MAX + 1];
    size_t len;
    double last_hello = 0.0;
    int first = 1;

    for (;;) {
        double now = monotonic_s();
        if (first || now - last_hello >= interval_s) {
            printf("%lld - Hello world!\n", (long long)time(NULL));
            last_hello = now;
            first = 0;
        }

        int got = input_read_line(stdin, line, &len); /* blocks here */
        if (got == 0)
            break;
        if (got < 0) {
            perror("hello: reading standard input");
            return 1;
        }
        if (answer_line(line, len))
            break;
    }
    /* [sync-loop] */

    /* printf's errors are sticky: one check at the end catches a full disk
     * or a closed pipe on stdout. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("hello: writing standard output");
        return 1;
    }
    return 0;
}
