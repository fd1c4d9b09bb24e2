/*
 * test_executor.c - the thread pool: jobs, results back on the loop,
 * cancellation, shutdown with and without waiting.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"
#include "run.h"
#include "task.h"

TestSuite(executor, .timeout = 20);

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void *slow_double(void *arg)
{
    pause_ms(50);
    return (void *)((intptr_t)arg * 2);
}

typedef struct offload {
    coro_t co;
    executor_t *ex;
    future_t job;
    intptr_t got;
} offload_t;

static int offload_body(coro_t *co)
{
    offload_t *f = (offload_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, executor_submit(f->ex, &f->job, slow_double, (void *)21));
    f->got = (intptr_t)co->in;
    CORO_END(co);
}

/* A real clock and a real wait: the loop sleeps in the selector, and only
 * the worker's wake-up can end that sleep. */
Test(executor, a_worker_wakes_the_sleeping_loop_with_the_result)
{
    loop_t *loop = loop_create(NULL);
    executor_t *ex = executor_create(loop, 2);
    offload_t *f;
    task_t *t;

    cr_assert_not_null(ex);
    t = task_create(loop, offload_body, sizeof *f, (void **)&f);
    f->ex = ex;
    cr_assert_eq(loop_run_until_complete(loop, task_future(t), NULL, NULL),
                 FUTURE_OK);
    cr_assert_eq(f->got, 42);
    task_release(t);
    executor_destroy(ex);
    loop_destroy(loop);
}

Test(executor, many_jobs_on_few_workers_all_complete)
{
    enum { N = 20 };
    loop_t *loop = loop_create(NULL);
    executor_t *ex = executor_create(loop, 3);
    offload_t *f[N];
    task_t *t[N];

    for (int i = 0; i < N; i++) {
        t[i] = task_create(loop, offload_body, sizeof *f[i], (void **)&f[i]);
        f[i]->ex = ex;
    }
    for (int i = 0; i < N; i++) {
        loop_run_until_complete(loop, task_future(t[i]), NULL, NULL);
        cr_assert_eq(f[i]->got, 42);
        task_release(t[i]);
    }
    executor_destroy(ex);
    loop_destroy(loop);
}

Test(executor, a_cancelled_job_result_is_dropped_safely)
{
    loop_t *loop = loop_create(NULL);
    executor_t *ex = executor_create(loop, 1);
    offload_t *f;
    task_t *t = task_create(loop, offload_body, sizeof *f, (void **)&f);

    f->ex = ex;
    loop_run_once(loop);               /* submitted, now waiting */
    task_cancel(t);
    loop_run_until_complete(loop, task_future(t), NULL, NULL);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    task_release(t);                   /* frees the frame and its future */
    pause_ms(100);                    /* the worker finishes meanwhile */
    executor_destroy(ex);              /* joins, then collects its result */
    loop_destroy(loop);
}

/* A job that runs until the test lets it go: it reads one byte. */
static void *blocked_until_released(void *arg)
{
    char byte;

    return (void *)(intptr_t)read(*(int *)arg, &byte, 1);
}

Test(executor, shutdown_without_wait_leaves_a_running_job_behind)
{
    loop_t *loop = loop_create(NULL);
    executor_t *ex = executor_create(loop, 1);
    future_t running, queued;
    static int fds[2];

    cr_assert_not_null(ex);
    cr_assert_eq(pipe(fds), 0);
    executor_submit(ex, &running, blocked_until_released, &fds[0]);
    executor_submit(ex, &queued, slow_double, (void *)3);
    pause_ms(50);                      /* the only worker is busy now */
    future_cancel(&running);           /* nothing waits for it any more */
    executor_shutdown(ex, 0);          /* joining would hang here */
    cr_assert_eq(future_state(&queued), FUTURE_CANCELLED); /* not started */
    loop_destroy(loop);
    cr_assert_eq(write(fds[1], "x", 1), 1);  /* the worker ends, frees it */
    pause_ms(100);
    close(fds[0]);
    close(fds[1]);
}

static int blocked_started;

static void *flag_then_block(void *arg)
{
    __atomic_store_n(&blocked_started, 1, __ATOMIC_SEQ_CST);
    return blocked_until_released(arg);
}

/* Nobody awaits the running job's Future; shutdown without waiting must
 * still finish it (cancelled), and the worker that frees the job later
 * must not leave that Future pointing into freed memory. */
Test(executor, shutdown_without_wait_cancels_the_running_jobs_future)
{
    loop_t *loop = loop_create(NULL);
    executor_t *ex = executor_create(loop, 1);
    future_t running;
    static int fds[2];

    cr_assert_not_null(ex);
    cr_assert_eq(pipe(fds), 0);
    executor_submit(ex, &running, flag_then_block, &fds[0]);
    for (int i = 0; i < 1000 && !__atomic_load_n(&blocked_started,
                                                 __ATOMIC_SEQ_CST); i++)
        pause_ms(10);
    cr_assert(__atomic_load_n(&blocked_started, __ATOMIC_SEQ_CST),
              "the worker never took the job");
    executor_shutdown(ex, 0);
    cr_assert_eq(future_state(&running), FUTURE_CANCELLED,
                 "a running job's Future was left pending by "
                 "executor_shutdown(ex, 0)");
    cr_assert_eq(write(fds[1], "x", 1), 1);  /* the worker ends, frees it */
    pause_ms(100);
    future_cancel(&running);                 /* already done: no-op */
    loop_destroy(loop);
    close(fds[0]);
    close(fds[1]);
}

static int job_started;

static void *flag_then_double(void *arg)
{
    __atomic_store_n(&job_started, 1, __ATOMIC_SEQ_CST);
    return slow_double(arg);
}

Test(executor, shutdown_with_wait_is_destroy)
{
    loop_t *loop = loop_create(NULL);
    executor_t *ex = executor_create(loop, 1);
    future_t job;
    void *result = NULL;

    job_started = 0;
    executor_submit(ex, &job, flag_then_double, (void *)5);
    for (int i = 0; i < 1000 && !__atomic_load_n(&job_started,
                                                 __ATOMIC_SEQ_CST); i++)
        pause_ms(5);                   /* until the worker has it */
    executor_shutdown(ex, 1);
    cr_assert_eq(future_result(&job, &result, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)result, 10);
    loop_destroy(loop);
}

/* Counts its runs. */
static int counted_runs;

static void *count_run(void *arg)
{
    __atomic_add_fetch(&counted_runs, 1, __ATOMIC_SEQ_CST);
    return arg;
}

/* run_in_executor never starts a job whose Future was cancelled first. */
Test(executor, a_job_cancelled_before_a_worker_takes_it_never_runs)
{
    loop_t *loop = loop_create(NULL);
    executor_t *ex = executor_create(loop, 1);
    future_t running, queued;
    int fds[2];

    cr_assert_not_null(ex);
    cr_assert_eq(pipe(fds), 0);
    counted_runs = 0;
    executor_submit(ex, &running, blocked_until_released, &fds[0]);
    executor_submit(ex, &queued, count_run, NULL);
    pause_ms(50);                      /* the only worker is busy now */
    cr_assert_eq(future_cancel(&queued), 1);
    cr_assert_eq(write(fds[1], "x", 1), 1);  /* let the worker go on */
    cr_assert_eq(loop_run_until_complete(loop, &running, NULL, NULL),
                 FUTURE_OK);
    pause_ms(50);                      /* time to take the next job */
    executor_destroy(ex);
    cr_assert_eq(__atomic_load_n(&counted_runs, __ATOMIC_SEQ_CST), 0,
                 "the cancelled job ran");
    loop_destroy(loop);
    close(fds[0]);
    close(fds[1]);
}

/* Reports which of SIGINT and SIGTERM the worker's thread blocks (bit 0,
 * bit 1). */
static void *report_blocked_signals(void *arg)
{
    sigset_t now;

    (void)arg;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    return (void *)(intptr_t)(sigismember(&now, SIGINT) |
                              sigismember(&now, SIGTERM) << 1);
}

/* A signal sent to the process goes to any thread that does not block it;
 * a worker must not be that thread, whatever the creator's mask was: the
 * loop's thread handles signals (and after run() has removed its
 * handlers, a worker taking SIGTERM would die of it). */
Test(executor, workers_block_the_signals_the_loop_handles)
{
    loop_t *loop = loop_create(NULL);
    sigset_t stop, before;
    future_t job;
    void *blocked = NULL;

    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &stop, &before);
    executor_t *ex = executor_create(loop, 1);
    cr_assert_not_null(ex);
    executor_submit(ex, &job, report_blocked_signals, NULL);
    cr_assert_eq(loop_run_until_complete(loop, &job, &blocked, NULL),
                 FUTURE_OK);
    cr_assert_eq((intptr_t)blocked, 3, "the worker takes SIGINT or SIGTERM "
                 "(blocked: %ld)", (long)(intptr_t)blocked);
    executor_destroy(ex);
    loop_destroy(loop);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
}
