/*
 * test_gather.c - gather: results in argument order, the first error,
 * cancellation passed on to the children.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "fixture.h"
#include "gather.h"
#include "sleep.h"
#include "task.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(gather, .init = setup, .fini = teardown, .timeout = 10);

/* Sleeps, then returns `value` or fails with `error`. */
typedef struct job {
    coro_t co;
    double delay;
    intptr_t value;
    int error;
    int cleaned_up;
    sleeper_t sleep;
} job_t;

static int job_body(coro_t *co)
{
    job_t *f = (job_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, sleep_start(&f->sleep, f->delay));
    if (co->err) {
        f->cleaned_up = 1;
        CORO_FAIL(co, co->err);
    }
    if (f->error)
        CORO_FAIL(co, f->error);
    CORO_RETURN(co, (void *)f->value);
    CORO_END(co);
}

static task_t *job(double delay, intptr_t value, int error, job_t **frame)
{
    job_t *f;
    task_t *t = task_create(fx.loop, job_body, sizeof *f, (void **)&f);

    f->delay = delay;
    f->value = value;
    f->error = error;
    if (frame)
        *frame = f;
    return t;
}

Test(gather, results_come_in_argument_order_not_finishing_order)
{
    task_t *t[3] = {job(0.3, 10, 0, NULL), job(0.1, 20, 0, NULL),
                    job(0.2, 30, 0, NULL)};
    future_t *kids[3] = {task_future(t[0]), task_future(t[1]),
                         task_future(t[2])};
    void *results[3];
    gather_t g;
    future_t *all = gather_start(&g, fx.loop, kids, 3, results);

    fixture_advance(&fx, 0.25);
    cr_assert(!future_done(all));
    fixture_advance(&fx, 0.1);
    cr_assert_eq(future_state(all), FUTURE_RESULT);
    cr_assert_eq((intptr_t)results[0], 10);
    cr_assert_eq((intptr_t)results[1], 20);
    cr_assert_eq((intptr_t)results[2], 30);
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

Test(gather, the_first_error_fails_it_at_once_and_the_rest_keep_running)
{
    task_t *t[2] = {job(0.5, 1, 0, NULL), job(0.1, 0, ECONNREFUSED, NULL)};
    future_t *kids[2] = {task_future(t[0]), task_future(t[1])};
    void *results[2];
    gather_t g;
    int err = 0;
    future_t *all = gather_start(&g, fx.loop, kids, 2, results);

    fixture_advance(&fx, 0.2);
    cr_assert_eq(future_result(all, NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, ECONNREFUSED);
    cr_assert(!future_done(kids[0]));
    fixture_advance(&fx, 0.5);
    cr_assert_eq(future_state(kids[0]), FUTURE_RESULT);
    for (int i = 0; i < 2; i++)
        task_release(t[i]);
}

Test(gather, of_nothing_finishes_at_once)
{
    gather_t g;
    future_t *all = gather_start(&g, fx.loop, NULL, 0, NULL);

    cr_assert(future_done(all));
}

Test(gather, cancelling_it_cancels_every_child_and_ends_cancelled)
{
    job_t *f[2];
    task_t *t[2] = {job(5, 1, 0, &f[0]), job(5, 2, 0, &f[1])};
    future_t *kids[2] = {task_future(t[0]), task_future(t[1])};
    void *results[2];
    gather_t g;
    future_t *all = gather_start(&g, fx.loop, kids, 2, results);

    fixture_settle(&fx);
    cr_assert_eq(future_cancel(all), 1);
    fixture_settle(&fx);
    cr_assert(f[0]->cleaned_up && f[1]->cleaned_up);
    cr_assert_eq(future_state(all), FUTURE_CANCELLED);
    for (int i = 0; i < 2; i++)
        task_release(t[i]);
}

/* ---- defects found by restating CPython's own tests (issue 11) -------- */

/* test_duplicate_coroutines / test_one_exception: the same Future twice,
 * then failed. Its callback list is being walked when the gather takes its
 * records back; under ASan a record freed too early is a use after free. */
Test(gather, the_same_future_twice_then_failed_fails_it_once_and_safely)
{
    future_t f;
    future_t *kids[3];
    void *results[3];
    gather_t g;
    future_t *all;
    int err = 0;

    future_init(&f, fx.loop);
    kids[0] = kids[1] = kids[2] = &f;
    all = gather_start(&g, fx.loop, kids, 3, results);
    cr_assert_eq(future_set_error(&f, EPIPE), FUTURE_OK);
    cr_assert_eq(future_result(all, NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, EPIPE);
    fixture_settle(&fx);
}

Test(gather, the_same_future_twice_with_a_result_gives_it_twice)
{
    future_t f;
    future_t *kids[2];
    void *results[2] = {NULL, NULL};
    gather_t g;
    future_t *all;

    future_init(&f, fx.loop);
    kids[0] = kids[1] = &f;
    all = gather_start(&g, fx.loop, kids, 2, results);
    future_set_result(&f, (void *)7);
    cr_assert_eq(future_state(all), FUTURE_RESULT);
    cr_assert_eq((intptr_t)results[0], 7);
    cr_assert_eq((intptr_t)results[1], 7);
}

static void fail_other(future_t *done, void *arg)
{
    (void)done;
    future_set_error(arg, ECONNRESET);
}

/* One child's done callback fails the other child while the first one's
 * own callbacks (the gather's among them) are still being run. */
Test(gather, a_child_failed_from_another_child_callback_is_safe)
{
    future_t a, b;
    future_callback_t rec;
    future_t *kids[2] = {&a, &b};
    void *results[2];
    gather_t g;
    future_t *all;
    int err = 0;

    future_init(&a, fx.loop);
    future_init(&b, fx.loop);
    future_add_done_callback(&b, &rec, fail_other, &a);
    all = gather_start(&g, fx.loop, kids, 2, results);
    future_set_error(&b, EPIPE);
    cr_assert_eq(future_result(all, NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, ECONNRESET, "a failed first, from inside b's callbacks");
    fixture_settle(&fx);
}

/* bpo-26923 / test_cancel_gather_1: the last child has finished but the
 * gather has not heard yet (a callback added before its own runs first):
 * cancelling it now cancels nothing, so it reports 0 and keeps the
 * result. */
typedef struct late_cancel {
    future_t *gather;
    int answer;
} late_cancel_t;

static void cancel_gather(future_t *done, void *arg)
{
    late_cancel_t *lc = arg;

    (void)done;
    lc->answer = future_cancel(lc->gather);
}

Test(gather, cancel_after_every_child_finished_is_refused_and_keeps_result)
{
    future_t f;
    future_callback_t rec;
    future_t *kids[1] = {&f};
    void *results[1] = {NULL};
    gather_t g;
    late_cancel_t lc = {NULL, -1};

    future_init(&f, fx.loop);
    future_add_done_callback(&f, &rec, cancel_gather, &lc);
    lc.gather = gather_start(&g, fx.loop, kids, 1, results);
    future_set_result(&f, (void *)42);
    cr_assert_eq(lc.answer, 0, "nothing was left to cancel");
    cr_assert_eq(future_state(lc.gather), FUTURE_RESULT);
    cr_assert_eq((intptr_t)results[0], 42);
}

