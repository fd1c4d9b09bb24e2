/*
 * hello.c - chapter 05: the hello as two coroutines.
 *
 * Chapter 04 split the program into callbacks: a timer that re-arms
 * itself and a reader that answers whatever lines one read() brought.
 * Here each half is again a plain loop, as in chapter 01, except that the
 * waits are AWAITs:
 *
 *  - hello_body(): print, sleep an interval, repeat;
 *  - input_body(): read a line, queue its number, repeat, until `exit`
 *    or the end of input;
 *  - answer_body(): take a number from the queue, answer it, repeat.
 *
 * fib is CPU work, which no event loop can hide. By default it goes to
 * the executor (a worker thread) and answer_body() awaits its Future, so
 * the hellos keep coming while it runs, and input_body() still sees an
 * `exit`: the program then ends without waiting for the fib. With
 * --inline it runs on the loop's own thread, and the hellos (and the
 * exit) wait until it is done: the same stall as chapters 03 and 04, now
 * one flag away.
 *
 * LOOP_TRACE=1 shows every task step and Future completion on stderr.
 */
#include "executor.h"
#include "fib.h"
#include "gather.h"
#include "input.h"
#include "loop.h"
#include "options.h"
#include "sock.h"
#include "sync.h"
#include "task.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: hello [--interval SECONDS] [--inline]\n"
    "\n"
    "Prints '<unix-time> - Hello world!' every SECONDS (a decimal from\n"
    "0.001 to 86400, default 3) and answers each input line holding a\n"
    "natural number n with fib(n), computed by naive recursion.\n"
    "\n"
    "n may be at most %d: each step up makes fib about 1.6 times slower, and\n"
    "fib(%d) already takes seconds, so a larger n would freeze the program\n"
    "for minutes. Lines may be at most %d bytes, not counting the line\n"
    "end. Type exit, or end the input (Ctrl-D), to quit. Set LOOP_TRACE=1\n"
    "in the environment to watch the tasks step and the futures complete\n"
    "on stderr.\n"
    "\n"
    "Chapter 05 (coroutines): the hello and the input reader are two\n"
    "coroutines. fib runs on a worker thread (run_in_executor), so the\n"
    "hellos keep coming while it computes; --inline runs it on the event\n"
    "loop instead, which stops the hellos until it is done.\n";

static int run_inline;

static double parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"interval", required_argument, NULL, 'i'},
        {"inline", no_argument, NULL, 'n'},
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
        case 'n':
            run_inline = 1;
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

/* Standard output failed (a full disk: ENOSPC, an I/O error): the error, 0
 * while it works. Nothing printed from then on can be seen, so the program
 * stops at once instead of running on until its input ends. Called right
 * after each printf(), before any other call can change errno. A pipe
 * whose reader has gone never gets here: the write raises SIGPIPE, whose
 * default action ends the program at once (exit status 141 in the shell),
 * which is the normal Unix behaviour of a filter, as in `hello | head -1`;
 * SIGPIPE is left at its default on purpose. */
static int stdout_errno;

static int stdout_failed(loop_t *loop)
{
    if (!ferror(stdout))
        return 0;
    if (!stdout_errno) {
        stdout_errno = errno ? errno : EIO;
        loop_stop(loop);        /* main() then ends both tasks */
    }
    return 1;
}

/* The hello coroutine's frame: what lives across its sleeps. */
typedef struct hello_frame {
    coro_t co;
    loop_t *loop;
    double interval_s;
    double next_s;      /* when the next hello is due, on the loop clock */
    sleeper_t sleep;
} hello_frame_t;

/* [hello-body] */
static int hello_body(coro_t *co)
{
    hello_frame_t *f = (hello_frame_t *)co;

    CORO_BEGIN(co);
    f->next_s = loop_time(f->loop);
    for (;;) {
        printf("%lld - Hello world!\n", (long long)time(NULL));
        if (stdout_failed(f->loop))
            CORO_FAIL(co, stdout_errno);
        f->next_s += f->interval_s;
        if (f->next_s < loop_time(f->loop))   /* we were held up: */
            f->next_s = loop_time(f->loop);   /* no burst to catch up */
        AWAIT(co, sleep_start(&f->sleep, f->loop,   /* cancelled: ends */
                              f->next_s - loop_time(f->loop)));
    }
    CORO_END(co);
}
/* [hello-body] */

/* What the worker thread computes; it writes only these two fields, and
 * the coroutine reads them only after the Future has finished. Static,
 * not in a frame: a job still running at exit is abandoned (see main())
 * and may write here while the process ends, after the frames are freed. */
typedef struct fib_job {
    unsigned n;
    uint64_t value;
    double seconds;
} fib_job_t;

static fib_job_t job;

static void *fib_on_worker(void *arg)
{
    fib_job_t *j = arg;

    j->value = fib_timed(j->n, &j->seconds);
    return j;
}

/* The input coroutine reads lines and queues the numbers; the answer
 * coroutine takes them one by one, has each computed and prints it. So
 * the answers keep the input's order, and the reader is free to see
 * `exit` or the end of input while a fib is still running. */
enum { QUEUED_LINES = 64 };                 /* then the reader waits */
#define NO_MORE_LINES ((void *)(uintptr_t)UINT32_MAX)

typedef struct input_frame {
    coro_t co;
    loop_t *loop;
    line_reader_t lines;
    queue_t *numbers;
    unsigned n;
    waiter_t put;
    int said_exit;      /* ended by the line `exit`, not by end of input */
} input_frame_t;

typedef struct answer_frame {
    coro_t co;
    loop_t *loop;
    executor_t *executor;
    queue_t *numbers;
    waiter_t get;
    future_t done;      /* the executor's Future for job */
    future_t *pending;  /* &done while the job runs, NULL inline */
    sleeper_t pause;    /* sleep(0) after an inline answer */
} answer_frame_t;

/* Reports a line that is not a number; 1 if the program should end. */
static int parse(input_frame_t *f)
{
    input_kind_t kind = input_parse_line(f->lines.line, f->lines.len,
                                         &f->n);

    if (kind == INPUT_EXIT)
        return 1;
    if (kind != INPUT_NUMBER && kind != INPUT_EMPTY)
        fprintf(stderr, "error: %s\n", input_strerror(kind));
    if (kind != INPUT_NUMBER)
        f->n = UINT32_MAX;   /* nothing to compute */
    return 0;
}

/* How far the loop's clock lags behind the real one: the loop reads the
 * clock once per iteration (CLOCK_MONOTONIC, its default), so after a long
 * fib its "now" is the time before the fib. A timer armed this far ahead
 * is due "now, really", which sorts it after any hello already due. */
static double loop_lag_s(const loop_t *loop)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double lag = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - loop_time(loop);
    return lag > 0 ? lag : 0;
}

/* [input-body] */
static int input_body(coro_t *co)
{
    input_frame_t *f = (input_frame_t *)co;

    CORO_BEGIN(co);
    for (;;) {
        CORO_AWAIT_CORO_CATCH(co, line_reader_next(&f->lines));
        if (co->err) {                /* say what failed, then re-raise */
            if (co->err != ECANCELED)
                fprintf(stderr, "hello: reading standard input: %s\n",
                        strerror(co->err));
            CORO_FAIL(co, co->err);
        }
        if (co->in == LINE_EOF)
            break;
        if (parse(f)) {              /* `exit`: quit now, see main() */
            f->said_exit = 1;
            break;
        }
        if (f->n == UINT32_MAX)
            continue;
        AWAIT(co, queue_put(f->numbers, &f->put, (void *)(uintptr_t)f->n));
    }
    AWAIT(co, queue_put(f->numbers, &f->put, NO_MORE_LINES));
    CORO_END(co);
}

static int answer_body(coro_t *co)
{
    answer_frame_t *f = (answer_frame_t *)co;

    CORO_BEGIN(co);
    for (;;) {
        AWAIT(co, queue_get(f->numbers, &f->get));
        if (co->in == NO_MORE_LINES)
            break;
        job.n = (unsigned)(uintptr_t)co->in;
        f->pending = run_inline ? NULL
                     : executor_submit(f->executor, &f->done, fib_on_worker,
                                       &job);
        if (!f->pending) {            /* --inline (or no memory for a job): */
            fib_on_worker(&job);      /* the loop stops while this runs */
        } else {
            AWAIT(co, f->pending);    /* cancelled at exit: we end here */
        }
        printf("fib(%u) = %" PRIu64 " (%.3f s)\n", job.n, job.value,
               job.seconds);
        if (stdout_failed(f->loop))
            CORO_FAIL(co, stdout_errno);
        if (!f->pending) {
            /* The next number may be queued already: queue_get() would
             * hand it over without giving the loop a turn, and the hellos
             * due would wait for every fib of the queue. So give the loop
             * a turn first, like asyncio.sleep(0), but sleep until the
             * real "now" so that a hello due goes first. */
            AWAIT(co, sleep_start(&f->pause, f->loop, loop_lag_s(f->loop)));
        }
    }
    CORO_END(co);
}
/* [input-body] */

/* A loop that can watch stdin. epoll refuses regular files (EPERM), which
 * is what stdin is after `hello < numbers.txt`; poll accepts them. */
static loop_t *make_loop(void)
{
    loop_options_t poll_options = {.backend = SELECTOR_POLL};
    loop_t *loop;

    if (fcntl(STDIN_FILENO, F_GETFD) < 0) /* closed: the loop's own */
        return NULL;                       /* descriptor would take fd 0 */
    loop = loop_create(NULL);
    if (loop && loop_add_reader(loop, STDIN_FILENO, NULL, NULL) < 0) {
        loop_destroy(loop);
        loop = errno == EPERM ? loop_create(&poll_options) : NULL;
    } else if (loop) {
        loop_remove_reader(loop, STDIN_FILENO);
    }
    return loop;
}

/* On `exit`, the answers to the lines read before get this long to come;
 * a fib still running then is abandoned. */
static const double EXIT_GRACE_S = 0.1;

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    double interval_s = parse_args(argc, argv);
    hello_frame_t *hf;
    input_frame_t *inf;
    answer_frame_t *af;
    task_t *hello, *input, *answer;
    executor_t *executor = NULL;
    queue_t numbers;
    timeout_t grace;
    loop_t *loop;
    int status = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);   /* a line at a time, even to a pipe */
    loop = make_loop();
    if (!loop || (!run_inline && !(executor = executor_create(loop, 2))) ||
        queue_init(&numbers, loop, QUEUED_LINES) < 0) {
        fprintf(stderr, "hello: cannot start the event loop: %s\n",
                strerror(errno));
        executor_destroy(executor);
        loop_destroy(loop);
        return 1;
    }
    /* [hello-main] */
    hello = task_create(loop, hello_body, sizeof *hf, (void **)&hf);
    input = task_create(loop, input_body, sizeof *inf, (void **)&inf);
    answer = task_create(loop, answer_body, sizeof *af, (void **)&af);
    if (!hello || !input || !answer) {
        perror("hello: creating the tasks");
        return 1;
    }
    task_set_name(hello, "hello");
    task_set_name(input, "input");
    task_set_name(answer, "answer");
    hf->loop = loop;
    hf->interval_s = interval_s;
    inf->loop = af->loop = loop;
    inf->numbers = af->numbers = &numbers;
    af->executor = executor;
    line_reader_init(&inf->lines, loop, STDIN_FILENO);

    if (loop_run_until_complete(loop, task_future(input), NULL, NULL) !=
        FUTURE_OK)
        status = 1;
    task_cancel(input);                  /* stopped early: end it too */
    loop_run_until_complete(loop, task_future(input), NULL, NULL);
    /* End of input: every line read gets its answer, as in the earlier
     * chapters. `exit`: the answers due get a moment, then the answer task
     * (and the job it awaits) is cancelled, like asyncio.wait_for(). */
    if (status == 0 && !stdout_errno && !inf->said_exit)
        loop_run_until_complete(loop, task_future(answer), NULL, NULL);
    else if (status == 0 && !stdout_errno &&
             wait_for_start(&grace, loop, task_future(answer), EXIT_GRACE_S))
        loop_run_until_complete(loop, &grace.future, NULL, NULL);
    task_cancel(answer);
    loop_run_until_complete(loop, task_future(answer), NULL, NULL);
    task_cancel(hello);                  /* and stop the hellos too */
    loop_run_until_complete(loop, task_future(hello), NULL, NULL);
    /* [hello-main] */
    task_release(hello);
    task_release(input);
    task_release(answer);
    queue_deinit(&numbers);
    executor_shutdown(executor, 0);      /* a fib still running: let it be */
    loop_destroy(loop);
    if (!stdout_errno && (fflush(stdout) != 0 || ferror(stdout)))
        stdout_errno = errno ? errno : EIO;
    if (stdout_errno) {
        fprintf(stderr, "hello: writing standard output: %s\n",
                strerror(stdout_errno));
        return 1;
    }
    return status;
}
