#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "executor.h"
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
    if (co->err)
        CORO_FAIL(co, co->err);
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
    loop_run_once(loop);
    executor_destroy(ex);
    loop_destroy(loop);
}
