/*
 * test_timeout.c - timeout scopes and wait_for, on the fake clock.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "fixture.h"
#include "sleep.h"
#include "task.h"
#include "timeout.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(timeout, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(wait_for, .init = setup, .fini = teardown, .timeout = 10);

/* A block of `steps` sleeps of `step_s` each; counts the ones done, and
 * notes the error that ended it (it cleans up, then re-raises). With
 * `swallow`, a cancellation is eaten and `value` returned instead. */
typedef struct block {
    coro_t co;
    int steps;
    double step_s;
    intptr_t value;
    int swallow;
    int done;
    int seen;           /* the error that reached the block, or 0 */
    sleeper_t sleep;
} block_t;

static int block_body(coro_t *co)
{
    block_t *b = (block_t *)co;

    CORO_BEGIN(co);
    for (b->done = 0; b->done < b->steps; b->done++) {
        AWAIT_CATCH(co, sleep_start(&b->sleep, b->step_s));
        if (co->err) {
            b->seen = co->err;
            if (b->swallow && co->err == ECANCELED)
                CORO_RETURN(co, (void *)b->value);
            CORO_FAIL(co, co->err);
        }
    }
    CORO_RETURN(co, (void *)b->value);
    CORO_END(co);
}

static void block_init(block_t *b, int steps, double step_s, intptr_t value)
{
    coro_init(&b->co, block_body);
    b->steps = steps;
    b->step_s = step_s;
    b->value = value;
}

/* A Task that runs a block in a scope of `limit_s`, then (if `after_s`)
 * sleeps once more, to see that no cancel is left over. */
typedef struct scoped {
    coro_t co;
    double limit_s;
    double after_s;
    block_t block;
    timeout_scope_t scope;
    sleeper_t sleep;
    int err;            /* what the scope raised */
    int expired;
    int after_done;
    void *result;
} scoped_t;

static int scoped_body(coro_t *co)
{
    scoped_t *f = (scoped_t *)co;

    CORO_BEGIN(co);
    CORO_AWAIT_CORO_CATCH(co, timeout_run(&f->scope, f->limit_s,
                                          &f->block.co));
    f->err = co->err;
    f->expired = timeout_expired(&f->scope);
    if (co->err)
        CORO_FAIL(co, co->err);
    f->result = co->in;
    if (f->after_s > 0) {
        AWAIT(co, sleep_start(&f->sleep, f->after_s));
        f->after_done = 1;
    }
    CORO_RETURN(co, f->result);
    CORO_END(co);
}

static task_t *scoped(double limit_s, int steps, double step_s,
                      scoped_t **frame)
{
    scoped_t *f;
    task_t *t = task_create(fx.loop, scoped_body, sizeof *f, (void **)&f);

    cr_assert_not_null(t);
    f->limit_s = limit_s;
    block_init(&f->block, steps, step_s, 7);
    *frame = f;
    return t;
}

Test(timeout, a_block_that_ends_in_time_gives_its_result_and_no_timer)
{
    scoped_t *f;
    task_t *t = scoped(1.0, 3, 0.1, &f);
    void *r = NULL;

    fixture_advance(&fx, 0.35);
    cr_assert_eq(future_result(task_future(t), &r, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)r, 7);
    cr_assert_eq(f->block.done, 3);
    cr_assert(!f->expired);
    cr_assert_eq(loop_timer_count(fx.loop), 0, "the deadline stayed armed");
    task_release(t);
}

/* The deadline falls during each of the block's awaits in turn: each time
 * the block sees ECANCELED there, and the scope raises ETIMEDOUT. */
Test(timeout, the_deadline_interrupts_the_block_at_every_await)
{
    for (int k = 0; k < 4; k++) {
        scoped_t *f;
        task_t *t = scoped(0.05 + 0.1 * k, 4, 0.1, &f);
        int err = 0;

        fixture_advance(&fx, 0.5);
        cr_assert_eq(f->block.done, k, "deadline %d: stopped at step %d",
                     k, f->block.done);
        cr_assert_eq(f->block.seen, ECANCELED);
        cr_assert_eq(f->err, ETIMEDOUT);
        cr_assert(f->expired);
        cr_assert_eq(future_result(task_future(t), NULL, &err),
                     FUTURE_E_ERROR);
        cr_assert_eq(err, ETIMEDOUT);
        cr_assert_eq(loop_timer_count(fx.loop), 0);
        task_release(t);
    }
}

Test(timeout, an_outside_cancel_stays_a_cancel)
{
    scoped_t *f;
    task_t *t = scoped(1.0, 3, 0.1, &f);

    fixture_advance(&fx, 0.15);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(f->err, ECANCELED, "an outside cancel became %d", f->err);
    cr_assert(!f->expired);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    cr_assert_eq(loop_timer_count(fx.loop), 0);
    task_release(t);
}

/* The deadline passes and an outside cancel comes too before the block
 * has seen either: the outside one wins (asyncio: uncancel() > 0). */
Test(timeout, an_outside_cancel_after_the_deadline_still_wins)
{
    scoped_t *f;
    task_t *t = scoped(0.1, 1, 10, &f);

    /* Advance the clock past the deadline and fire the timer, but cancel
     * from outside before the Task's step runs. */
    fixture_settle(&fx);
    fx.now += 0.2;
    loop_run_once(fx.loop);             /* the timer: the scope cancels */
    cr_assert(timeout_expired(&f->scope));
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    task_release(t);
}

Test(timeout, a_block_that_swallows_the_cancel_keeps_its_value_and_no_cancel_is_left)
{
    scoped_t *f;
    task_t *t = scoped(0.1, 1, 10, &f);
    void *r = NULL;

    f->block.swallow = 1;
    f->block.value = 42;
    f->after_s = 0.5;
    fixture_advance(&fx, 0.7);
    cr_assert_eq(f->err, 0);
    cr_assert(f->expired, "it did expire");
    cr_assert(f->after_done, "a cancel was left over for a later await");
    cr_assert_eq(future_result(task_future(t), &r, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)r, 42);
    task_release(t);
}

/* A Task that enters a scope by hand, moves its deadline, and awaits. */
typedef struct moved {
    coro_t co;
    double first_s;     /* the deadline given at entry */
    double moved_s;     /* then moved to now + this (INFINITY: none) */
    double sleep_s;
    timeout_scope_t scope;
    sleeper_t sleep;
    int reschedule_rc;
    int err;
} moved_t;

static int moved_body(coro_t *co)
{
    moved_t *f = (moved_t *)co;

    CORO_BEGIN(co);
    cr_assert_eq(timeout_enter(&f->scope, f->first_s), 0);
    f->reschedule_rc = timeout_reschedule(&f->scope,
                                          loop_time(fx.loop) + f->moved_s);
    AWAIT_CATCH(co, sleep_start(&f->sleep, f->sleep_s));
    f->err = timeout_exit(&f->scope, co->err);
    cr_assert_eq(timeout_reschedule(&f->scope, 0), -1, "moved after exit");
    cr_assert_eq(errno, EINVAL);
    CORO_END(co);
}

static moved_t *moved(double first_s, double moved_s, double sleep_s)
{
    moved_t *f;
    task_t *t = task_create(fx.loop, moved_body, sizeof *f, (void **)&f);

    f->first_s = first_s;
    f->moved_s = moved_s;
    f->sleep_s = sleep_s;
    (void)t;     /* never released: the test reads the frame afterwards */
    return f;
}

Test(timeout, a_deadline_moved_later_lets_the_block_finish)
{
    moved_t *f = moved(0.1, 1.0, 0.5);
    double when;

    fixture_settle(&fx);
    when = timeout_when(&f->scope);
    cr_assert(when > fx.now + 0.9 && when < fx.now + 1.1);
    fixture_advance(&fx, 0.6);
    cr_assert_eq(f->reschedule_rc, 0);
    cr_assert_eq(f->err, 0, "timed out at the old deadline");
}

Test(timeout, a_deadline_moved_earlier_expires_sooner)
{
    moved_t *f = moved(10, 0.1, 0.5);
    int err;

    fixture_advance(&fx, 0.15);
    err = f->err;
    cr_assert_eq(err, ETIMEDOUT);
}

Test(timeout, no_deadline_never_expires)
{
    moved_t *f = moved(0.1, INFINITY, 2.0);

    fixture_advance(&fx, 2.1);
    cr_assert_eq(f->err, 0);
    cr_assert(isinf(timeout_when(&f->scope)));
}

Test(timeout, a_scope_outside_a_task_is_refused)
{
    timeout_scope_t s;

    cr_assert_eq(timeout_enter(&s, 1.0), -1);
    cr_assert_eq(errno, EPERM);
}

/* Nested scopes: the one whose deadline passes first is the one that
 * says ETIMEDOUT; the other passes the error on. */
typedef struct nested {
    coro_t co;
    double outer_s, inner_s;
    timeout_scope_t outer, inner;
    sleeper_t sleep;
    int inner_err, outer_err;
} nested_t;

static int nested_body(coro_t *co)
{
    nested_t *f = (nested_t *)co;

    CORO_BEGIN(co);
    timeout_enter(&f->outer, f->outer_s);
    timeout_enter(&f->inner, f->inner_s);
    AWAIT_CATCH(co, sleep_start(&f->sleep, 5));
    f->inner_err = timeout_exit(&f->inner, co->err);
    f->outer_err = timeout_exit(&f->outer, f->inner_err);
    CORO_END(co);
}

Test(timeout, nested_the_outer_deadline_first)
{
    nested_t *f;
    task_t *t = task_create(fx.loop, nested_body, sizeof *f, (void **)&f);

    f->outer_s = 0.1;
    f->inner_s = 1.0;
    fixture_advance(&fx, 0.2);
    cr_assert_eq(f->inner_err, ECANCELED, "the inner scope took it");
    cr_assert(!timeout_expired(&f->inner));
    cr_assert_eq(f->outer_err, ETIMEDOUT);
    cr_assert_eq(loop_timer_count(fx.loop), 0);
    task_release(t);
}

Test(timeout, nested_the_inner_deadline_first)
{
    nested_t *f;
    task_t *t = task_create(fx.loop, nested_body, sizeof *f, (void **)&f);

    f->outer_s = 1.0;
    f->inner_s = 0.1;
    fixture_advance(&fx, 0.2);
    cr_assert_eq(f->inner_err, ETIMEDOUT);
    cr_assert(!timeout_expired(&f->outer));
    cr_assert_eq(f->outer_err, ETIMEDOUT, "passed on unchanged");
    cr_assert_eq(loop_timer_count(fx.loop), 0);
    task_release(t);
}

/* ---- wait_for ---------------------------------------------------------- */

/* A Task that awaits wait_for(inner, limit) and keeps what it raised. */
typedef struct limited {
    coro_t co;
    future_t *inner;
    double limit_s;
    wait_for_t w;
    int err;
    void *result;
    int finished;
} limited_t;

static int limited_body(coro_t *co)
{
    limited_t *f = (limited_t *)co;

    CORO_BEGIN(co);
    CORO_AWAIT_CORO_CATCH(co, wait_for(&f->w, f->inner, f->limit_s));
    f->err = co->err;
    f->result = co->in;
    f->finished = 1;
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_RETURN(co, co->in);
    CORO_END(co);
}

static task_t *limited(double limit_s, limited_t **frame)
{
    limited_t *f;
    task_t *t = task_create(fx.loop, limited_body, sizeof *f, (void **)&f);

    f->limit_s = limit_s;
    *frame = f;
    return t;
}

/* The inner work: a Task running a block. */
static task_t *work(int steps, double step_s, intptr_t value, block_t **b)
{
    block_t *f;
    task_t *t = task_create(fx.loop, block_body, sizeof *f, (void **)&f);

    f->steps = steps;
    f->step_s = step_s;
    f->value = value;
    if (b)
        *b = f;
    return t;
}

Test(wait_for, work_that_finishes_in_time_gives_its_result)
{
    limited_t *lf;
    task_t *t = limited(1.0, &lf);
    task_t *inner = work(1, 0.5, 99, NULL);

    lf->inner = task_future(inner);
    fixture_advance(&fx, 0.6);
    cr_assert(lf->finished);
    cr_assert_eq(lf->err, 0);
    cr_assert_eq((intptr_t)lf->result, 99);
    cr_assert_eq(loop_timer_count(fx.loop), 0, "the deadline timer stayed");
    task_release(inner);
    task_release(t);
}

Test(wait_for, a_timeout_cancels_the_work_lets_it_clean_up_then_fails)
{
    limited_t *lf;
    block_t *b;
    task_t *t = limited(1.0, &lf);
    task_t *inner = work(1, 5, 1, &b);

    lf->inner = task_future(inner);
    fixture_advance(&fx, 0.99);
    cr_assert(!lf->finished);
    fixture_advance(&fx, 0.02);
    cr_assert_eq(b->seen, ECANCELED, "the work did not see the cancel");
    cr_assert_eq(future_state(task_future(inner)), FUTURE_CANCELLED);
    cr_assert_eq(lf->err, ETIMEDOUT);
    task_release(inner);
    task_release(t);
}

/* CPython 3.12's wait_for on a timeout scope: work that swallows the
 * cancellation and returns a value gives that value. */
Test(wait_for, work_that_swallows_the_cancel_gives_its_value)
{
    limited_t *lf;
    block_t *b;
    task_t *t = limited(0.5, &lf);
    task_t *inner = work(1, 5, 1, &b);

    b->swallow = 1;
    b->value = 17;
    lf->inner = task_future(inner);
    fixture_advance(&fx, 0.6);
    cr_assert(lf->finished);
    cr_assert_eq(lf->err, 0, "got error %d instead of the value", lf->err);
    cr_assert_eq((intptr_t)lf->result, 17);
    cr_assert_eq(future_state(task_future(t)), FUTURE_RESULT);
    task_release(inner);
    task_release(t);
}

Test(wait_for, an_error_in_time_is_passed_through)
{
    limited_t *lf;
    task_t *t = limited(1.0, &lf);
    future_t inner;

    future_init(&inner, fx.loop);
    lf->inner = &inner;
    fixture_advance(&fx, 0.1);
    future_set_error(&inner, EPIPE);
    fixture_settle(&fx);
    cr_assert_eq(lf->err, EPIPE);
    task_release(t);
}

Test(wait_for, on_a_plain_future_times_out_at_the_deadline)
{
    limited_t *lf;
    task_t *t = limited(0.5, &lf);
    future_t inner;

    future_init(&inner, fx.loop);
    lf->inner = &inner;
    fixture_advance(&fx, 0.49);
    cr_assert(!lf->finished);
    fixture_advance(&fx, 0.02);
    cr_assert_eq(future_state(&inner), FUTURE_CANCELLED);
    cr_assert_eq(lf->err, ETIMEDOUT);
    task_release(t);
}

Test(wait_for, cancelling_the_waiter_cancels_the_work)
{
    limited_t *lf;
    block_t *b;
    task_t *t = limited(10, &lf);
    task_t *inner = work(1, 5, 1, &b);

    lf->inner = task_future(inner);
    fixture_settle(&fx);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(b->seen, ECANCELED);
    cr_assert_eq(lf->err, ECANCELED, "an outside cancel became %d", lf->err);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    cr_assert_eq(loop_timer_count(fx.loop), 0);
    task_release(inner);
    task_release(t);
}

/* asyncio.wait_for(coro, 0): times out at once; the coroutine never
 * starts. (The waiter is created first, so its step runs first.) */
Test(wait_for, a_zero_timeout_never_starts_a_task_that_has_not_started)
{
    limited_t *lf;
    block_t *b;
    task_t *t = limited(0, &lf);
    task_t *inner = work(1, 0.1, 5, &b);

    lf->inner = task_future(inner);
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(inner)), FUTURE_CANCELLED,
                 "the task ran instead of being cancelled");
    cr_assert_eq(b->seen, 0, "its body ran");
    cr_assert_eq(lf->err, ETIMEDOUT);
    task_release(inner);
    task_release(t);
}

Test(wait_for, a_zero_timeout_on_a_finished_future_gives_its_result)
{
    limited_t *lf;
    task_t *t = limited(0, &lf);
    future_t inner;

    future_init(&inner, fx.loop);
    future_set_result(&inner, (void *)3);
    lf->inner = &inner;
    fixture_settle(&fx);
    cr_assert_eq(lf->err, 0);
    cr_assert_eq((intptr_t)lf->result, 3);
    task_release(t);
}
