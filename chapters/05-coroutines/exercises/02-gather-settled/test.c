/* Tests for exercise 02-gather-settled, on a fake clock. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "guard.h"
#include "sleep.h"
#include "task.h"

#define GUARD_S 10
#define GUARD_WHAT "a test of settled_start() never returned: does the " \
    "done callback loop, waiting for something?"

static fixture_t fx;
/* Every test runs under the guard: armed before the loop is made,
 * disarmed after it is gone. */
static void setup(void)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    fixture_start(&fx);
}

static void teardown(void)
{
    fixture_stop(&fx);
    guard_disarm();
}

TestSuite(gather_settled, .init = setup, .fini = teardown, .timeout = 60);

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

Test(gather_settled, waits_for_all_and_keeps_argument_order)
{
    task_t *t[3] = {job(0.3, 10, 0), job(0.1, 20, 0), job(0.2, 30, 0)};
    future_t *kids[3];
    void *results[3];
    int errors[3];
    future_callback_t records[3];
    settled_t s;
    future_t *all;

    for (int i = 0; i < 3; i++)
        kids[i] = task_future(t[i]);
    all = settled_start(&s, fx.loop, kids, 3, results, errors, records);
    fixture_advance(&fx, 0.25);
    cr_assert(!future_done(all), "the settled Future finished at 0.25 s, "
              "before its slowest child (0.3 s): it must wait for all");
    fixture_advance(&fx, 0.1);
    cr_assert_eq(future_state(all), FUTURE_RESULT, "all three children "
                 "have finished, but the settled Future has not finished "
                 "with a result: does every child count?");
    cr_assert_eq(all->result, (void *)results, "the settled Future's result "
                 "must be the results array itself");
    for (int i = 0; i < 3; i++) {
        cr_assert_eq((intptr_t)results[i], 10 * (i + 1), "results[%d] is "
                     "%ld, not %d: each child's outcome goes to its own "
                     "index, whatever the order they finish in", i,
                     (long)(intptr_t)results[i], 10 * (i + 1));
        cr_assert_eq(errors[i], 0, "errors[%d] is %d for a child that "
                     "succeeded; it must be 0", i, errors[i]);
        task_release(t[i]);
    }
}

Test(gather_settled, an_error_does_not_stop_it_and_is_kept_at_its_index)
{
    task_t *t[3] = {job(0.5, 1, 0), job(0.1, 0, ECONNREFUSED),
                    job(0.2, 0, 0)};
    future_t *kids[3];
    void *results[3];
    int errors[3];
    future_callback_t records[3];
    settled_t s;
    future_t *all;

    for (int i = 0; i < 3; i++)
        kids[i] = task_future(t[i]);
    all = settled_start(&s, fx.loop, kids, 3, results, errors, records);
    task_cancel(t[2]);
    fixture_advance(&fx, 0.3);
    cr_assert(!future_done(all), "the settled Future finished while a "
              "child was still running, after another one failed: an "
              "error is an outcome to keep, not a reason to stop waiting");
    fixture_advance(&fx, 0.3);
    cr_assert_eq(future_state(all), FUTURE_RESULT, "every child has "
                 "finished (one failed, one was cancelled): the settled "
                 "Future must finish with the results, never fail (state "
                 "%d; 0 is pending, 2 failed). Does every child count, "
                 "whatever its outcome?", future_state(all));
    cr_assert_eq((intptr_t)results[0], 1, "results[0] is wrong");
    cr_assert_eq(errors[0], 0, "errors[0] must be 0: that child succeeded");
    cr_assert_null(results[1], "a failed child's result must be NULL");
    cr_assert_eq(errors[1], ECONNREFUSED, "errors[1] must hold the child's "
                 "error, ECONNREFUSED, not %d", errors[1]);
    cr_assert_eq(errors[2], ECANCELED, "errors[2] must be ECANCELED for a "
                 "cancelled child, not %d", errors[2]);
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

Test(gather_settled, children_finished_beforehand_count_too)
{
    future_t a, b;
    future_t *kids[2] = {&a, &b};
    void *results[2];
    int errors[2];
    future_callback_t records[2];
    settled_t s;
    future_t *all;

    future_init(&a, fx.loop);
    future_init(&b, fx.loop);
    future_set_error(&a, EPIPE);
    all = settled_start(&s, fx.loop, kids, 2, results, errors, records);
    future_set_result(&b, (void *)7);
    fixture_settle(&fx);
    cr_assert(future_done(all), "one child finished before settled_start() "
              "and the other after: the settled Future must finish");
    cr_assert_eq(errors[0], EPIPE, "errors[0] must be EPIPE, the error of "
                 "a child that had failed before the start");
    cr_assert_eq((intptr_t)results[1], 7, "results[1] is wrong");
}

#define STALE ((void *)0x5ca1ab1e)

Test(gather_settled, a_failed_child_leaves_no_stale_result)
{
    future_t a, b;
    future_t *kids[2] = {&a, &b};
    void *results[2] = {STALE, STALE};
    int errors[2] = {-1, -1};
    future_callback_t records[2];
    settled_t s;

    future_init(&a, fx.loop);
    future_init(&b, fx.loop);
    settled_start(&s, fx.loop, kids, 2, results, errors, records);
    future_set_error(&a, ECONNRESET);
    future_set_result(&b, (void *)9);
    fixture_settle(&fx);
    cr_assert(future_done(&s.future), "both children finished, the settled "
              "Future did not");
    cr_assert_null(results[0], "a failed child's result must be NULL, "
                   "whatever the array held before");
    cr_assert_eq(errors[0], ECONNRESET, "errors[0] must be ECONNRESET");
    cr_assert_eq((intptr_t)results[1], 9, "results[1] is wrong");
    cr_assert_eq(errors[1], 0, "a child that succeeded has error 0");
}

Test(gather_settled, a_future_passed_twice_fills_both_slots)
{
    future_t a, b;
    future_t *kids[3] = {&a, &b, &a};
    void *results[3] = {STALE, STALE, STALE};
    int errors[3] = {-1, -1, -1};
    future_callback_t records[3];
    settled_t s;

    future_init(&a, fx.loop);
    future_init(&b, fx.loop);
    settled_start(&s, fx.loop, kids, 3, results, errors, records);
    future_set_result(&a, (void *)4);
    fixture_settle(&fx);
    cr_assert(!future_done(&s.future), "the settled Future finished while "
              "b (index 1) was pending: a Future passed twice still "
              "counts once per index");
    future_set_error(&b, EPIPE);
    fixture_settle(&fx);
    cr_assert_eq(future_state(&s.future), FUTURE_RESULT, "all finished, "
                 "the settled Future did not finish with its results");
    for (int i = 0; i < 3; i += 2) {
        cr_assert_eq((intptr_t)results[i], 4, "the same Future is at index 0 "
                     "and 2, but results[%d] does not hold its result: "
                     "every index where it appears gets its outcome", i);
        cr_assert_eq(errors[i], 0, "errors[%d] must be 0", i);
    }
    cr_assert_null(results[1], "a failed child's result must be NULL");
    cr_assert_eq(errors[1], EPIPE, "errors[1] must be EPIPE");
}

/* A Task awaiting the settled Future is cancelled and frees its frame:
 * the settled Future, its records and its arrays go with it, while the
 * children live on. Nothing may touch that storage afterwards. */
typedef struct owner {
    settled_t s;
    future_t *kids[3];
    void *results[3];
    int errors[3];
    future_callback_t records[3];
} owner_t;

Test(gather_settled, cancelled_then_freed_its_storage_is_never_touched)
{
    future_t a, done;
    task_t *slow = job(0.5, 1, 0);
    owner_t *o = malloc(sizeof *o);
    unsigned char *bytes = (unsigned char *)o;

    cr_assert_not_null(o);
    future_init(&a, fx.loop);
    future_init(&done, fx.loop);
    future_set_result(&done, (void *)3);  /* finished beforehand */
    o->kids[0] = &a;
    o->kids[1] = task_future(slow);
    o->kids[2] = &done;
    settled_start(&o->s, fx.loop, o->kids, 3, o->results, o->errors,
                  o->records);
    cr_assert_eq(future_cancel(&o->s.future), 1, "cancelling a pending "
                 "settled Future must succeed");
    cr_assert_eq(future_state(&o->s.future), FUTURE_CANCELLED, "cancelled, "
                 "the settled Future must finish cancelled at once");
    memset(o, 0x5a, sizeof *o);           /* reused for something else */
    future_set_result(&a, (void *)1);     /* no-op if it was cancelled */
    fixture_advance(&fx, 1.0);            /* the Task, queued callbacks */
    for (size_t i = 0; i < sizeof *o; i++)
        cr_assert_eq(bytes[i], 0x5a, "byte %zu of the freed storage was "
                     "written after the cancel", i);
    cr_assert(future_done(task_future(slow)), "the slow child was not "
              "cancelled with the settled Future");
    free(o);
    task_release(slow);
}
