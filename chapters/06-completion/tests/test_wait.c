/*
 * test_wait.c - wait and as_completed against asyncio's behaviour
 * (CPython's test_tasks.py: test_wait, test_wait_first_completed,
 * test_wait_really_done, test_wait_first_exception, test_wait_with_timeout,
 * test_wait_errors, test_as_completed, test_as_completed_with_timeout,
 * test_as_completed_with_unused_timeout, test_as_completed_reverse_wait).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "sleep.h"
#include "task.h"
#include "wait.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(wait, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(as_completed, .init = setup, .fini = teardown, .timeout = 10);

/* Sleeps, then returns `value` or fails with `error`. */
typedef struct job {
    coro_t co;
    double delay;
    intptr_t value;
    int error;
    sleeper_t sleep;
} job_t;

static int job_body(coro_t *co)
{
    job_t *f = (job_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, sleep_start(&f->sleep, f->delay));
    if (f->error)
        CORO_FAIL(co, f->error);
    CORO_RETURN(co, (void *)f->value);
    CORO_END(co);
}

static task_t *job(double delay, intptr_t value, int error)
{
    job_t *f;
    task_t *t = task_create(fx.loop, job_body, sizeof *f, (void **)&f);

    f->delay = delay;
    f->value = value;
    f->error = error;
    return t;
}

/* Three jobs a, b, c finishing at 0.1, 0.2 and 0.3 (b fails with `b_err`
 * if not 0), with their Futures in fs. */
typedef struct three {
    task_t *t[3];
    future_t *fs[3];
    future_t *done[3];
    future_t *pending[3];
    wait_sets_t sets;
} three_t;

static void three_start(three_t *x, int b_err)
{
    x->t[0] = job(0.1, 1, 0);
    x->t[1] = job(0.2, 2, b_err);
    x->t[2] = job(0.3, 3, 0);
    for (int i = 0; i < 3; i++)
        x->fs[i] = task_future(x->t[i]);
    x->sets.done = x->done;
    x->sets.pending = x->pending;
}

static void three_end(three_t *x)
{
    fixture_advance(&fx, 1.0);         /* let every job end */
    for (int i = 0; i < 3; i++) {
        future_result(x->fs[i], NULL, NULL);
        task_release(x->t[i]);
    }
}

Test(wait, all_completed_waits_for_every_future)
{
    three_t x;
    wait_t w;

    three_start(&x, 0);
    future_t *f = wait_start(&w, fx.loop, x.fs, 3, WAIT_ALL_COMPLETED, -1,
                             &x.sets);
    cr_assert_not_null(f);
    fixture_advance(&fx, 0.25);
    cr_assert(!future_done(f));
    fixture_advance(&fx, 0.1);
    void *result = NULL;
    cr_assert_eq(future_result(f, &result, NULL), FUTURE_OK);
    cr_assert_eq(result, &x.sets);
    cr_assert_eq(x.sets.ndone, 3);
    cr_assert_eq(x.sets.npending, 0);
    cr_assert_eq(x.done[0], x.fs[0]);
    cr_assert_eq(x.done[2], x.fs[2]);
    three_end(&x);
}

Test(wait, first_completed_reports_done_and_pending_and_cancels_nothing)
{
    three_t x;
    wait_t w;

    three_start(&x, 0);
    future_t *f = wait_start(&w, fx.loop, x.fs, 3, WAIT_FIRST_COMPLETED, -1,
                             &x.sets);
    fixture_advance(&fx, 0.15);
    cr_assert_eq(future_state(f), FUTURE_RESULT);
    cr_assert_eq(x.sets.ndone, 1);
    cr_assert_eq(x.done[0], x.fs[0]);
    cr_assert_eq(x.sets.npending, 2);
    cr_assert_eq(x.pending[0], x.fs[1]);
    cr_assert_eq(x.pending[1], x.fs[2]);
    fixture_advance(&fx, 0.2);          /* the rest still run to the end */
    cr_assert_eq(future_state(x.fs[1]), FUTURE_RESULT);
    cr_assert_eq(future_state(x.fs[2]), FUTURE_RESULT);
    three_end(&x);
}

Test(wait, futures_done_already_answer_at_once)
{
    three_t x;
    wait_t w;

    three_start(&x, 0);
    fixture_advance(&fx, 0.15);
    future_t *f = wait_start(&w, fx.loop, x.fs, 3, WAIT_FIRST_COMPLETED, -1,
                             &x.sets);
    cr_assert_eq(future_state(f), FUTURE_RESULT);
    cr_assert_eq(x.sets.ndone, 1);
    cr_assert_eq(x.sets.npending, 2);
    three_end(&x);
}

Test(wait, first_exception_stops_at_the_first_error)
{
    three_t x;
    wait_t w;

    three_start(&x, ECONNREFUSED);
    future_t *f = wait_start(&w, fx.loop, x.fs, 3, WAIT_FIRST_EXCEPTION, -1,
                             &x.sets);
    fixture_advance(&fx, 0.15);
    cr_assert(!future_done(f), "a result is not an exception");
    fixture_advance(&fx, 0.1);
    cr_assert_eq(future_state(f), FUTURE_RESULT, "wait itself never fails");
    cr_assert_eq(x.sets.ndone, 2);
    cr_assert_eq(x.done[1], x.fs[1]);
    cr_assert_eq(x.sets.npending, 1);
    cr_assert_eq(x.pending[0], x.fs[2]);
    three_end(&x);
}

Test(wait, first_exception_without_errors_waits_for_all)
{
    three_t x;
    wait_t w;

    three_start(&x, 0);
    future_t *f = wait_start(&w, fx.loop, x.fs, 3, WAIT_FIRST_EXCEPTION, -1,
                             &x.sets);
    fixture_advance(&fx, 0.25);
    cr_assert(!future_done(f));
    fixture_advance(&fx, 0.1);
    cr_assert_eq(future_state(f), FUTURE_RESULT);
    cr_assert_eq(x.sets.ndone, 3);
    three_end(&x);
}

Test(wait, first_exception_does_not_count_a_cancellation)
{
    three_t x;
    wait_t w;

    three_start(&x, 0);
    future_t *f = wait_start(&w, fx.loop, x.fs, 3, WAIT_FIRST_EXCEPTION, -1,
                             &x.sets);
    task_cancel(x.t[1]);
    fixture_settle(&fx);
    cr_assert_eq(future_state(x.fs[1]), FUTURE_CANCELLED);
    cr_assert(!future_done(f));
    three_end(&x);
    cr_assert_eq(future_state(f), FUTURE_RESULT);
}

Test(wait, a_timeout_reports_what_is_done_and_cancels_nothing)
{
    three_t x;
    wait_t w;

    three_start(&x, 0);
    future_t *f = wait_start(&w, fx.loop, x.fs, 3, WAIT_ALL_COMPLETED, 0.15,
                             &x.sets);
    fixture_advance(&fx, 0.12);
    cr_assert(!future_done(f));
    fixture_advance(&fx, 0.05);
    cr_assert_eq(future_state(f), FUTURE_RESULT, "a timeout is no error");
    cr_assert_eq(x.sets.ndone, 1);
    cr_assert_eq(x.sets.npending, 2);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(future_state(x.fs[2]), FUTURE_RESULT);
    three_end(&x);
}

Test(wait, a_timeout_of_zero_with_nothing_done_reports_all_pending)
{
    three_t x;
    wait_t w;

    three_start(&x, 0);
    future_t *f = wait_start(&w, fx.loop, x.fs, 3, WAIT_FIRST_COMPLETED, 0,
                             &x.sets);
    fixture_settle(&fx);
    cr_assert_eq(future_state(f), FUTURE_RESULT);
    cr_assert_eq(x.sets.ndone, 0);
    cr_assert_eq(x.sets.npending, 3);
    three_end(&x);
}

Test(wait, cancelling_the_wait_cancels_none_of_the_futures)
{
    three_t x;
    wait_t w;

    three_start(&x, 0);
    future_t *f = wait_start(&w, fx.loop, x.fs, 3, WAIT_ALL_COMPLETED, 5,
                             &x.sets);
    fixture_advance(&fx, 0.05);
    cr_assert_eq(future_cancel(f), 1);
    cr_assert_eq(future_state(f), FUTURE_CANCELLED);
    memset(&w, 0xa5, sizeof w);       /* nothing may point into it now */
    fixture_advance(&fx, 0.5);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(future_state(x.fs[i]), FUTURE_RESULT);
    three_end(&x);
}

Test(wait, bad_arguments_are_refused)
{
    future_t *fs[1];
    future_t *room[1];
    future_t one;
    wait_sets_t sets = {.done = room, .pending = room};
    wait_sets_t half = {.done = room};
    wait_t w;

    future_init(&one, fx.loop);
    fs[0] = &one;
    errno = 0;
    cr_assert_null(wait_start(&w, fx.loop, fs, 0, WAIT_ALL_COMPLETED, -1,
                              &sets));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(wait_start(&w, fx.loop, fs, 1, (wait_when_t)7, -1,
                              &sets));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(wait_start(&w, fx.loop, fs, 1, WAIT_ALL_COMPLETED, -1,
                              &half));
    cr_assert_eq(errno, EINVAL);
}

/* A coroutine that waits for FIRST_COMPLETED, like asyncio's example. */
typedef struct waiter {
    coro_t co;
    wait_t w;
    three_t *x;
} waiter_t;

static int waiter_body(coro_t *co)
{
    waiter_t *f = (waiter_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, wait_start(&f->w, fx.loop, f->x->fs, 3, WAIT_FIRST_COMPLETED,
                         -1, &f->x->sets));
    CORO_RETURN(co, (void *)(intptr_t)((wait_sets_t *)co->in)->ndone);
    CORO_END(co);
}

Test(wait, a_task_awaits_it)
{
    three_t x;
    waiter_t *f;

    three_start(&x, 0);
    task_t *t = task_create(fx.loop, waiter_body, sizeof *f, (void **)&f);
    f->x = &x;
    fixture_advance(&fx, 0.15);
    void *result = NULL;
    cr_assert_eq(future_result(task_future(t), &result, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)result, 1);
    task_release(t);
    three_end(&x);
}

/* ---- as_completed ---------------------------------------------------------- */

/* Hands out every Future in finishing order into `order` (ETIMEDOUT
 * counted in `timeouts`). */
typedef struct collector {
    coro_t co;
    as_completed_t ac;
    future_t **fs;
    size_t n;
    double timeout;
    future_t *order[3];
    size_t got;
    int timeouts;
} collector_t;

static int collector_body(coro_t *co)
{
    collector_t *f = (collector_t *)co;

    CORO_BEGIN(co);
    if (as_completed_start(&f->ac, fx.loop, f->fs, f->n, f->timeout) < 0)
        CORO_FAIL(co, errno);
    while (as_completed_left(&f->ac) > 0) {
        AWAIT_CATCH(co, as_completed_next(&f->ac));
        if (co->err == ETIMEDOUT) {
            f->timeouts++;
        } else if (co->err) {
            as_completed_end(&f->ac);
            CORO_FAIL(co, co->err);
        } else {
            f->order[f->got++] = co->in;
        }
    }
    as_completed_end(&f->ac);
    CORO_RETURN(co, NULL);
    CORO_END(co);
}

static task_t *collect(future_t **fs, size_t n, double timeout,
                       collector_t **frame)
{
    collector_t *f;
    task_t *t = task_create(fx.loop, collector_body, sizeof *f, (void **)&f);

    f->fs = fs;
    f->n = n;
    f->timeout = timeout;
    *frame = f;
    return t;
}

Test(as_completed, hands_out_the_futures_in_finishing_order)
{
    task_t *t[3] = {job(0.3, 1, 0), job(0.1, 2, ECONNRESET), job(0.2, 3, 0)};
    future_t *fs[3] = {task_future(t[0]), task_future(t[1]),
                       task_future(t[2])};
    collector_t *f;
    task_t *c = collect(fs, 3, -1, &f);

    fixture_advance(&fx, 0.15);
    cr_assert_eq(f->got, 1);
    cr_assert_eq(f->order[0], fs[1], "a failed one comes out like any");
    fixture_advance(&fx, 0.2);
    cr_assert_eq(future_state(task_future(c)), FUTURE_RESULT);
    cr_assert_eq(f->got, 3);
    cr_assert_eq(f->order[1], fs[2]);
    cr_assert_eq(f->order[2], fs[0]);
    cr_assert_eq(f->timeouts, 0);
    for (int i = 0; i < 3; i++) {
        future_result(fs[i], NULL, NULL);
        task_release(t[i]);
    }
    task_release(c);
}

Test(as_completed, finished_ones_come_out_first_without_waiting)
{
    task_t *t[2] = {job(0.5, 1, 0), job(0.1, 2, 0)};
    future_t *fs[2] = {task_future(t[0]), task_future(t[1])};
    as_completed_t ac;

    fixture_advance(&fx, 0.15);
    cr_assert_eq(as_completed_start(&ac, fx.loop, fs, 2, -1), 0);
    cr_assert_eq(as_completed_left(&ac), 2);
    future_t *next = as_completed_next(&ac);
    void *got = NULL;
    cr_assert_eq(future_result(next, &got, NULL), FUTURE_OK);
    cr_assert_eq(got, fs[1]);
    next = as_completed_next(&ac);
    cr_assert(!future_done(next));
    fixture_advance(&fx, 0.4);
    cr_assert_eq(future_result(next, &got, NULL), FUTURE_OK);
    cr_assert_eq(got, fs[0]);
    cr_assert_eq(as_completed_left(&ac), 0);
    errno = 0;
    cr_assert_null(as_completed_next(&ac));
    cr_assert_eq(errno, ENOENT);
    as_completed_end(&ac);
    for (int i = 0; i < 2; i++)
        task_release(t[i]);
}

Test(as_completed, the_deadline_gives_etimedout_for_the_rest_and_cancels_none)
{
    task_t *t[3] = {job(0.1, 1, 0), job(0.5, 2, 0), job(0.6, 3, 0)};
    future_t *fs[3] = {task_future(t[0]), task_future(t[1]),
                       task_future(t[2])};
    collector_t *f;
    task_t *c = collect(fs, 3, 0.2, &f);

    fixture_advance(&fx, 0.3);
    cr_assert_eq(future_state(task_future(c)), FUTURE_RESULT);
    cr_assert_eq(f->got, 1);
    cr_assert_eq(f->order[0], fs[0]);
    cr_assert_eq(f->timeouts, 2);
    fixture_advance(&fx, 0.5);
    cr_assert_eq(future_state(fs[1]), FUTURE_RESULT);
    cr_assert_eq(future_state(fs[2]), FUTURE_RESULT);
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
    task_release(c);
}

Test(as_completed, an_unused_timeout_changes_nothing)
{
    task_t *t[2] = {job(0.2, 1, 0), job(0.1, 2, 0)};
    future_t *fs[2] = {task_future(t[0]), task_future(t[1])};
    collector_t *f;
    task_t *c = collect(fs, 2, 10.0, &f);

    fixture_advance(&fx, 0.3);
    cr_assert_eq(future_state(task_future(c)), FUTURE_RESULT);
    cr_assert_eq(f->got, 2);
    cr_assert_eq(f->order[0], fs[1]);
    cr_assert_eq(f->timeouts, 0);
    cr_assert_eq(loop_timer_count(fx.loop), 0, "the deadline is disarmed");
    for (int i = 0; i < 2; i++)
        task_release(t[i]);
    task_release(c);
}

Test(as_completed, finished_before_the_deadline_but_not_taken_still_come_out)
{
    task_t *t[2] = {job(0.1, 1, 0), job(0.5, 2, 0)};
    future_t *fs[2] = {task_future(t[0]), task_future(t[1])};
    as_completed_t ac;

    cr_assert_eq(as_completed_start(&ac, fx.loop, fs, 2, 0.2), 0);
    fixture_advance(&fx, 0.3);          /* nobody asked until now */
    void *got = NULL;
    int err = 0;
    cr_assert_eq(future_result(as_completed_next(&ac), &got, NULL),
                 FUTURE_OK);
    cr_assert_eq(got, fs[0]);
    cr_assert_eq(future_result(as_completed_next(&ac), NULL, &err),
                 FUTURE_E_ERROR);
    cr_assert_eq(err, ETIMEDOUT);
    cr_assert_eq(as_completed_left(&ac), 0);
    as_completed_end(&ac);
    fixture_advance(&fx, 0.3);
    for (int i = 0; i < 2; i++)
        task_release(t[i]);
}

Test(as_completed, cancelling_the_awaiting_task_loses_no_future)
{
    task_t *t[2] = {job(0.1, 1, 0), job(0.2, 2, 0)};
    future_t *fs[2] = {task_future(t[0]), task_future(t[1])};
    as_completed_t ac;

    cr_assert_eq(as_completed_start(&ac, fx.loop, fs, 2, -1), 0);
    future_t *next = as_completed_next(&ac);
    cr_assert_eq(future_cancel(next), 1);       /* the awaiter gave up */
    fixture_advance(&fx, 0.15);
    cr_assert_eq(as_completed_left(&ac), 2, "nothing was handed out");
    void *got = NULL;
    cr_assert_eq(future_result(as_completed_next(&ac), &got, NULL),
                 FUTURE_OK);
    cr_assert_eq(got, fs[0]);
    next = as_completed_next(&ac);
    cr_assert(!future_done(next));
    as_completed_end(&ac);
    cr_assert_eq(future_state(next), FUTURE_CANCELLED);
    fixture_advance(&fx, 0.2);
    for (int i = 0; i < 2; i++)
        task_release(t[i]);
}

Test(as_completed, nothing_to_watch_hands_out_nothing)
{
    as_completed_t ac;

    cr_assert_eq(as_completed_start(&ac, fx.loop, NULL, 0, 1.0), 0);
    cr_assert_eq(as_completed_left(&ac), 0);
    cr_assert_null(as_completed_next(&ac));
    as_completed_end(&ac);
}
