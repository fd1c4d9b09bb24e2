/*
 * run.c - asyncio.run(): the whole life of a program's loop in one call,
 * and run_until_complete() beneath it.
 *
 * The order of the clean-up matters. Tasks go first, while the loop still
 * runs: a cancelled Task may await its own clean-up. The executor next:
 * the Futures of its jobs have no one left awaiting them. The loop last,
 * when nothing refers to it.
 */
#include "run.h"

#include "proactor.h" /* chapter 06 */

#include <errno.h>
#include <signal.h>
#include <time.h>

static void stop_loop(future_t *future, void *arg)
{
    (void)future;
    loop_stop(arg);
}

future_status_t loop_run_until_complete(loop_t *loop, future_t *future,
                                        void **result, int *error)
{
    future_callback_t record;

    if (!future_done(future)) {
        future_add_done_callback(future, &record, stop_loop, loop);
        loop_run_forever(loop);
        future_remove_done_callback(future, &record);
    }
    return future_result(future, result, error);
}

loop_t *running_loop(void)
{
    task_t *task = task_current();

    return task != NULL ? task_future(task)->loop : NULL;
}

static const int stop_signals[] = {SIGINT, SIGTERM};
enum { STOP_SIGNALS = sizeof stop_signals / sizeof stop_signals[0] };

static void on_stop_signal(loop_t *loop, void *arg)
{
    (void)loop;
    task_cancel(arg);                 /* the main Task unwinds */
}

static sigset_t stop_set(void)
{
    sigset_t set;

    sigemptyset(&set);
    for (int i = 0; i < STOP_SIGNALS; i++)
        sigaddset(&set, stop_signals[i]);
    return set;
}

int run_block_stop_signals(void)
{
    sigset_t set = stop_set();
    int err = pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

/* The handlers go in, and the signals are unblocked in this thread (the
 * loop's) for as long as it runs. */
static int watch_signals(loop_t *loop, task_t *main_task)
{
    sigset_t set = stop_set();

    for (int i = 0; i < STOP_SIGNALS; i++)
        if (loop_add_signal_handler(loop, stop_signals[i], on_stop_signal,
                                    main_task) != 0)
            return -1;
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return 0;
}

/* The program has decided to end: a signal now changes nothing, so block
 * it before the handler goes (the default action would kill us). */
static void unwatch_signals(loop_t *loop)
{
    sigset_t set = stop_set();

    pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (int i = 0; i < STOP_SIGNALS; i++)
        loop_remove_signal_handler(loop, stop_signals[i]);
}

/* Give the caller its mask back. A stop signal that came during the
 * shutdown asked for what is already done: it is taken off first, unless
 * the caller blocks that signal itself (then it is the caller's). */
static void restore_signals(const sigset_t *caller)
{
    sigset_t ours = stop_set();
    struct timespec now = {0, 0};

    for (int i = 0; i < STOP_SIGNALS; i++)
        if (sigismember(caller, stop_signals[i]))
            sigdelset(&ours, stop_signals[i]);
    while (sigtimedwait(&ours, NULL, &now) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, caller, NULL);
}

/* [run-cancel-rest] */
/* What the main coroutine left running is cancelled, and the loop runs
 * until every such Task has unwound (asyncio's _cancel_all_tasks). */
static void cancel_the_rest(loop_t *loop)
{
    if (task_cancel_all(loop) == 0)
        return;
    while (task_count_pending(loop) > 0)
        if (loop_run_once(loop) != 0)
            break;                    /* the selector failed: give up */
}
/* [run-cancel-rest] */

static future_status_t fail(int *error, int err)
{
    if (error != NULL)
        *error = err;
    return FUTURE_E_ERROR;
}

future_status_t run(coro_fn *main, size_t frame_size, run_setup_fn *setup,
                    void *arg, const run_options_t *options, void **result,
                    int *error)
{
    static const run_options_t defaults;
    const run_options_t *o = options != NULL ? options : &defaults;
    executor_t *executor = NULL;
    loop_t *loop = loop_create(&o->loop);
    int err = 0;
    sigset_t caller_mask;
    void *frame;

    if (loop == NULL)
        return fail(error, errno);
    /* chapter 06: the loop's I/O is io_uring's; without it, say so now,
     * before the program has started anything (proactor_strerror()). */
    if (proactor_get(loop) == NULL) {
        err = errno;
        loop_destroy(loop);
        return fail(error, err);
    }
    pthread_sigmask(SIG_SETMASK, NULL, &caller_mask);
    if (o->executor_threads > 0 &&
        (executor = executor_create(loop, o->executor_threads)) == NULL) {
        err = errno;
        loop_destroy(loop);
        return fail(error, err);
    }
    task_t *main_task = task_create(loop, main, frame_size, &frame);
    if (main_task == NULL) {
        err = errno;
    } else {
        task_set_name(main_task, "main");
        errno = 0; /* a setup that fails without saying why is still a failure */
        if ((setup != NULL && setup(frame, executor, arg) != 0) ||
            (o->cancel_on_signals && watch_signals(loop, main_task) != 0)) {
            err = errno != 0 ? errno : EIO;
            task_cancel(main_task);   /* it will never run its body */
        }
    }
    /* [run-body] */
    future_status_t status = FUTURE_E_ERROR;
    if (main_task != NULL) {
        status = loop_run_until_complete(loop, task_future(main_task),
                                         result, error);
        if (status == FUTURE_E_PENDING) {    /* the loop failed */
            err = errno;
            task_cancel(main_task);
        }
    }
    cancel_the_rest(loop);
    if (o->cancel_on_signals)
        unwatch_signals(loop);
    executor_shutdown(executor, o->executor_wait);
    task_release(main_task);
    loop_destroy(loop);
    if (o->cancel_on_signals)
        restore_signals(&caller_mask);
    /* [run-body] */
    return err ? fail(error, err) : status;
}
