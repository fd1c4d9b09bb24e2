/* Tests for exercise 01-gather-settled, on a fake clock. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "task.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(gather_settled, .init = setup, .fini = teardown, .timeout = 10);

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
    AWAIT(co, sleep_start(&f->sleep, fx.loop, f->delay));
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
    cr_assert(!future_done(all), "finished before the slowest child");
    fixture_advance(&fx, 0.1);
    cr_assert_eq(future_state(all), FUTURE_RESULT);
    cr_assert_eq(all->result, (void *)results);
    cr_assert_eq((intptr_t)results[0], 10);
    cr_assert_eq((intptr_t)results[1], 20);
    cr_assert_eq((intptr_t)results[2], 30);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(errors[i], 0);
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
    cr_assert(!future_done(all), "an error must not finish it early");
    fixture_advance(&fx, 0.3);
    cr_assert_eq(future_state(all), FUTURE_RESULT, "it must never fail");
    cr_assert_eq((intptr_t)results[0], 1);
    cr_assert_eq(errors[0], 0);
    cr_assert_eq(results[1], NULL);
    cr_assert_eq(errors[1], ECONNREFUSED);
    cr_assert_eq(errors[2], ECANCELED);
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
    cr_assert(future_done(all));
    cr_assert_eq(errors[0], EPIPE);
    cr_assert_eq((intptr_t)results[1], 7);
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
    cr_assert(future_done(&s.future));
    cr_assert_null(results[0], "a failed child's result must be NULL");
    cr_assert_eq(errors[0], ECONNRESET);
    cr_assert_eq((intptr_t)results[1], 9);
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
    cr_assert(!future_done(&s.future), "finished without b");
    future_set_error(&b, EPIPE);
    fixture_settle(&fx);
    cr_assert_eq(future_state(&s.future), FUTURE_RESULT);
    cr_assert_eq((intptr_t)results[0], 4);
    cr_assert_eq((intptr_t)results[2], 4);
    cr_assert_eq(errors[0], 0);
    cr_assert_eq(errors[2], 0);
    cr_assert_null(results[1]);
    cr_assert_eq(errors[1], EPIPE);
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
    cr_assert_eq(future_cancel(&o->s.future), 1);
    cr_assert_eq(future_state(&o->s.future), FUTURE_CANCELLED);
    memset(o, 0x5a, sizeof *o);           /* reused for something else */
    future_set_result(&a, (void *)1);     /* no-op if it was cancelled */
    fixture_advance(&fx, 1.0);            /* the Task, queued callbacks */
    for (size_t i = 0; i < sizeof *o; i++)
        cr_assert_eq(bytes[i], 0x5a, "byte %zu of the freed storage was "
                     "written after the cancel", i);
    cr_assert(future_done(task_future(slow)));
    free(o);
    task_release(slow);
}
