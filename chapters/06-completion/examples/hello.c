/*
 * hello.c - chapter 06: chapter 05's hello, its stdin on completions.
 *
 * Chapter 04 split the program into callbacks: a timer that re-arms
 * itself and a reader that answers whatever lines one read() brought.
 * Here each half is again a plain loop, as in chapter 01, except that the
 * waits are AWAITs. One main coroutine, run by run() (asyncio.run), holds
 * a task group with three children:
 *
 *  - hello_body(): print, sleep an interval, repeat;
 *  - input_body(): read a line from standard input, a stream
 *    (asyncio's StreamReader), queue its number, repeat, until `exit` or
 *    the end of input;
 *  - answer_body(): take a number from the queue, answer it, repeat.
 *
 * When the work is over (every answer given, or `exit`), the group is
 * cancelled and the main coroutine leaves it; a child that fails (standard
 * output full) cancels the others; SIGINT or SIGTERM cancels the main
 * coroutine, and with it the whole group. Nothing outlives run().
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
#include "input.h"
#include "loop.h"
#include "options.h"
#include "proactor.h" /* chapter 06 */
#include "run.h"
#include "sleep.h"
#include "stream.h"
#include "sync.h"
#include "task.h"
#include "taskgroup.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
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
    "Chapter 06 (completion): chapter 05's hello, its standard input read\n"
    "by io_uring operations that complete. The hello, the input reader and\n"
    "the answerer are coroutines in one task group, run by run()\n"
    "(asyncio.run). fib runs on a worker thread (run_in_executor), so the\n"
    "hellos keep coming while it computes; --inline runs it on the event\n"
    "loop instead, which stops the hellos until it is done. SIGINT or\n"
    "SIGTERM ends it cleanly.\n";

/* What C main() hands to the main coroutine. */
typedef struct hello_args {
    double interval_s;
    int run_inline;     /* --inline: fib on the loop's own thread */
    int started;        /* set by the main coroutine: errors after this
                           were reported where they happened */
} hello_args_t;

static hello_args_t parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"interval", required_argument, NULL, 'i'},
        {"inline", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hello_args_t args = {.interval_s = 3.0};
    int opt;

    opterr = 0; /* we print our own messages */
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            if (options_parse_interval(optarg, &args.interval_s) < 0)
                options_usage_error(
                    "hello",
                    "bad --interval '%s': want a decimal from 0.001 to 86400",
                    optarg);
            break;
        case 'n':
            args.run_inline = 1;
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
    return args;
}

/* What the three children share; it lives in the main coroutine's frame,
 * which outlives them (the group is left only when all have ended). */
typedef struct app {
    loop_t *loop;
    task_t *main;           /* the main Task: a stop signal cancels it */
    executor_t *executor;   /* NULL with --inline */
    double interval_s;
    int quiet;              /* a stop signal cut a write: print no more */
    stream_t input;         /* standard input */
    queue_t numbers;        /* input -> answer */
    task_group_t group;
} app_t;

/* Standard output failed (a full disk: ENOSPC, an I/O error): say so and
 * return the error. Nothing printed from then on can be seen, so the child
 * that saw it fails, which cancels the others and ends the program with
 * status 1. Called right after the say() that failed, before any other
 * call can change errno. A pipe
 * whose reader has gone never gets here: the write raises SIGPIPE, whose
 * default action ends the program at once (exit status 141 in the shell),
 * which is the normal Unix behaviour of a filter, as in `hello | head -1`;
 * SIGPIPE is left at its default on purpose. */
static int stdout_error(void)
{
    int err = errno ? errno : EIO;

    fprintf(stderr, "hello: writing standard output: %s\n", strerror(err));
    return err;
}

/* A stop signal has come: run() has cancelled the main Task, or is about
 * to (the handler has noted the signal, and the loop will run its
 * callback once the step running now lets it). */
static int stopping(const app_t *app)
{
    return task_cancelling(app->main) > 0 ||
           loop_signal_pending(app->loop, SIGINT) ||
           loop_signal_pending(app->loop, SIGTERM);
}

/* Wait until @p to can take a line, or a stop signal comes: 0, or -1 if
 * one came (drop the line). A signal taken before a blocking write has
 * nothing left to interrupt: one that comes while the loop's thread
 * computes an inline fib, say, and the answer's write then finds the
 * pipe full. So the stop signals are blocked from the check to the wait,
 * which unblocks them as it starts (pselect()): one that comes in
 * between interrupts the wait. A pipe that polls writable has room for
 * a line (up to PIPE_BUF bytes), and only this thread writes: the write
 * then does not block. So the usual case, room now, costs one poll(),
 * and only a full pipe the signal dance. */
static int wait_for_room(const app_t *app, FILE *to)
{
    struct pollfd now = {.fd = fileno(to), .events = POLLOUT};
    sigset_t stop, old;
    fd_set out;
    int rc = 0;

    if (stopping(app))
        return -1;
    if (poll(&now, 1, 0) == 1)    /* room, or an error the write will say */
        return 0;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    for (;;) {
        if (stopping(app)) {
            rc = -1;
            break;
        }
        FD_ZERO(&out);
        FD_SET(fileno(to), &out);
        if (pselect(fileno(to) + 1, NULL, &out, NULL, NULL, &old) >= 0 ||
            errno != EINTR)
            break;                /* room, or no wait possible: write */
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* fprintf() one line to @p to, standard output or error: 0 when done or
 * dropped, -1 with errno set when the stream failed. The output waits
 * for its reader (`hello | less`, less no longer reading), in
 * wait_for_room(), until a stop signal comes (Ctrl-C); from then on output
 * is dropped, on both streams, the price of ending when asked: any line
 * printed before the loop has cancelled the program would block on the
 * same full pipe with no signal left to free it (the input coroutine,
 * say, goes on with the lines it has buffered, an error line each, before
 * it awaits again). A signal that cuts short a write blocked all the same
 * (on a terminal, say, where writable does not promise room for a whole
 * line) makes it fail with EINTR: the loop's handlers do not restart it.
 * That is no output error either, so the error flag is cleared; glibc has
 * dropped the line it could not write. */
static int say(app_t *app, FILE *to, const char *format, ...)
{
    if (app->quiet)
        return 0;
    if (wait_for_room(app, to) < 0) {
        app->quiet = 1;
        return 0;
    }
    va_list ap;
    va_start(ap, format);
    vfprintf(to, format, ap);
    va_end(ap);
    if (!ferror(to))
        return 0;
    if (errno != EINTR)
        return -1;
    clearerr(to);
    app->quiet = 1;
    return 0;
}

/* The hello coroutine's frame: what lives across its sleeps. */
typedef struct hello_frame {
    coro_t co;
    app_t *app;
    double next_s;      /* when the next hello is due, on the loop clock */
    sleeper_t sleep;
} hello_frame_t;

/* [hello-body] */
static int hello_body(coro_t *co)
{
    hello_frame_t *f = (hello_frame_t *)co;
    loop_t *loop = f->app->loop;

    CORO_BEGIN(co);
    f->next_s = loop_time(loop);
    for (;;) {
        if (say(f->app, stdout, "%lld - Hello world!\n",
                (long long)time(NULL)) < 0)
            CORO_FAIL(co, stdout_error());
        f->next_s += f->app->interval_s;
        if (f->next_s <= loop_time(loop))       /* held up: skip the */
            f->next_s = loop_time(loop) + f->app->interval_s; /* missed */
        AWAIT(co, sleep_start(&f->sleep, f->next_s - loop_time(loop)));
    }
    CORO_END(co);
}
/* [hello-body] */

/* The worker's job: n in, fib(n) out, both by value, so an abandoned job
 * (a fib still running at exit) points into no frame. fib(FIB_MAX_N)
 * fits in 32 bits, hence in a pointer. */
static void *fib_on_worker(void *arg)
{
    return (void *)(uintptr_t)fib((unsigned)(uintptr_t)arg);
}

/* The input coroutine reads lines and queues the numbers; the answer
 * coroutine takes them one by one, has each computed and prints it. So
 * the answers keep the input's order, and the reader is free to see
 * `exit` or the end of input while a fib is still running. */
enum { QUEUED_LINES = 64 };                 /* then the reader waits */
#define NO_MORE_LINES ((void *)(uintptr_t)UINT32_MAX)

/* On `exit`, the answers to the lines read before get this long to come;
 * a fib still running then is abandoned. */
static const double EXIT_GRACE_S = 0.1;

typedef struct input_frame {
    coro_t co;
    app_t *app;
    unsigned n;
    waiter_t put;
    int said_exit;      /* ended by the line `exit`, not by end of input */
    sleeper_t grace;
} input_frame_t;

typedef struct answer_frame {
    coro_t co;
    app_t *app;
    waiter_t get;
    unsigned n;
    uint64_t value;
    double seconds;
    future_t job;       /* the executor's Future */
    sleeper_t pause;    /* giving way after an inline answer */
} answer_frame_t;

/* [input-body] */
/* What the line just read is. The stream hands it out with its '\n',
 * input_parse_line() wants it without; a line over the stream's limit
 * (EMSGSIZE) has been dropped by the stream, up to its end, and is one
 * error like any other too-long line. */
static input_kind_t classify(input_frame_t *f, int err, size_t len)
{
    const char *line = stream_line(&f->app->input);

    if (err == EMSGSIZE)
        return INPUT_ERR_TOO_LONG;
    if (line[len - 1] == '\n')
        len--;
    return input_parse_line(line, len, &f->n);
}

static int input_body(coro_t *co)
{
    input_frame_t *f = (input_frame_t *)co;
    input_kind_t kind;  /* used between two awaits only */

    CORO_BEGIN(co);
    for (;;) {
        CORO_AWAIT_CORO_CATCH(co, stream_readline(&f->app->input));
        if (co->err != 0 && co->err != EMSGSIZE) { /* say it, re-raise */
            if (co->err != ECANCELED)
                fprintf(stderr, "hello: reading standard input: %s\n",
                        strerror(co->err));
            CORO_FAIL(co, co->err);
        }
        if (co->err == 0 && co->in == 0)
            break;                               /* end of input */
        kind = classify(f, co->err, (size_t)(intptr_t)co->in);
        if (kind == INPUT_EXIT) {
            f->said_exit = 1;
            break;
        }
        if (kind != INPUT_NUMBER) {
            if (kind != INPUT_EMPTY) /* a failing stderr: nothing to do */
                (void)say(f->app, stderr, "error: %s\n",
                          input_strerror(kind));
            continue;
        }
        AWAIT(co, queue_put(&f->app->numbers, &f->put,
                            (void *)(uintptr_t)f->n));
    }
    /* The answerer ends the group once it has answered what is queued. */
    AWAIT(co, queue_put(&f->app->numbers, &f->put, NO_MORE_LINES));
    if (f->said_exit) {     /* `exit`: it gets a moment, no more */
        AWAIT(co, sleep_start(&f->grace, EXIT_GRACE_S));
        task_group_cancel(&f->app->group);
    }
    CORO_END(co);
}

static int answer_body(coro_t *co)
{
    answer_frame_t *f = (answer_frame_t *)co;
    app_t *app = f->app;

    CORO_BEGIN(co);
    for (;;) {
        AWAIT(co, queue_get(&app->numbers, &f->get));
        if (co->in == NO_MORE_LINES)
            break;
        f->n = (unsigned)(uintptr_t)co->in;
        if (app->executor == NULL) {       /* --inline: the loop stops */
            f->value = fib_timed(f->n, &f->seconds);
        } else {                           /* cancelled at exit: ends here */
            f->seconds = loop_time(app->loop);
            AWAIT(co, executor_submit(app->executor, &f->job, fib_on_worker,
                                      (void *)(uintptr_t)f->n));
            f->value = (uint64_t)(uintptr_t)co->in;
            f->seconds = loop_time(app->loop) - f->seconds;
        }
        if (say(app, stdout, "fib(%u) = %" PRIu64 " (%.3f s)\n", f->n,
                f->value, f->seconds) < 0)
            CORO_FAIL(co, stdout_error());
        if (app->executor == NULL) {
            /* The next number may be queued already, and queue_get()
             * would hand it over at once: the hellos due would wait for
             * every fib in the queue. So give way: one turn for the loop
             * to read its clock (it read it before the fib) and fire the
             * hello timer now due, then a timer of our own from that
             * fresh "now", which sorts after it. */
            AWAIT(co, NULL);
            AWAIT(co, sleep_start(&f->pause, 1e-9));
        }
    }
    task_group_cancel(&app->group);        /* all answered: stop the rest */
    CORO_END(co);
}
/* [input-body] */

/* The main coroutine's frame: the arguments and what the children share. */
typedef struct main_frame {
    coro_t co;
    hello_args_t *args;
    app_t app;
} main_frame_t;

static int start_children(app_t *app)
{
    hello_frame_t *hf;
    input_frame_t *inf;
    answer_frame_t *af;
    task_t *hello, *input, *answer;

    if ((hello = task_group_create_task(&app->group, hello_body, sizeof *hf,
                                        (void **)&hf)) == NULL ||
        (input = task_group_create_task(&app->group, input_body,
                                        sizeof *inf, (void **)&inf)) == NULL ||
        (answer = task_group_create_task(&app->group, answer_body,
                                         sizeof *af, (void **)&af)) == NULL)
        return -1;
    task_set_name(hello, "hello");
    task_set_name(input, "input");
    task_set_name(answer, "answer");
    hf->app = inf->app = af->app = app;
    return 0;
}

/* [hello-main] */
static int main_body(coro_t *co)
{
    main_frame_t *f = (main_frame_t *)co;

    CORO_BEGIN(co);
    f->args->started = 1;
    f->app.loop = running_loop();
    f->app.main = task_current();
    if (queue_init(&f->app.numbers, f->app.loop, QUEUED_LINES) != 0) {
        co->err = errno;
        fprintf(stderr, "hello: making the queue: %s\n", strerror(co->err));
        CORO_FAIL(co, co->err);
    }
    /* Standard input stays as it is (blocking: the flag is shared with
     * other processes); the stream waits before each read(), or not at all
     * for a regular file. A line the parser can accept is its text and a
     * CR; the stream drops a longer one without keeping it. */
    stream_init(&f->app.input, f->app.loop, STDIN_FILENO);
    stream_set_limit(&f->app.input, INPUT_LINE_MAX + 1);
    task_group_init(&f->app.group, f->app.loop);
    if (start_children(&f->app) != 0) {
        co->err = errno;
        fprintf(stderr, "hello: starting the tasks: %s\n", strerror(co->err));
        task_group_abort(&f->app.group, co->err);
    }
    /* The only await: every path leaves the group here, errors too. */
    AWAIT_CATCH(co, task_group_wait(&f->app.group));
    stream_close(&f->app.input);        /* nothing queued: closed now */
    queue_deinit(&f->app.numbers);
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_END(co);
}
/* [hello-main] */

static int setup(void *frame, executor_t *executor, void *arg)
{
    main_frame_t *f = frame;

    f->args = arg;
    f->app.executor = executor;
    f->app.interval_s = f->args->interval_s;
    return 0;
}

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    hello_args_t args = parse_args(argc, argv);
    run_options_t options = {
        .executor_threads = args.run_inline ? 0 : 2,
        .cancel_on_signals = 1,  /* SIGINT, SIGTERM: a clean end, status 0 */
    };
    int err = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);   /* a line at a time, even to a pipe */
    run_block_stop_signals(); /* one after run(): pending, not a kill */
    future_status_t status = run(main_body, sizeof(main_frame_t), setup,
                                 &args, &options, NULL, &err);
    if (status == FUTURE_E_ERROR) {
        if (!args.started)
            fprintf(stderr, "hello: cannot start the event loop: %s\n",
                    proactor_strerror(err)); /* chapter 06 */
        return 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "hello: writing standard output: %s\n",
                strerror(errno ? errno : EIO));
        return 1;
    }
    return 0;
}
