/*
 * test_task.c - Tasks: steps, awaits, cancellation at every await, the
 * warnings for what would otherwise be lost.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "run.h"
#include "sleep.h"
#include "task.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(task, .init = setup, .fini = teardown, .timeout = 10);

static char log_[256];

static void note(const char *s)
{
    strcat(log_, s);
}

/* Sleeps `delay` then notes `tag`, `times` times; returns times. */
typedef struct napper {
    coro_t co;
    double delay;
    const char *tag;
    int times, i;
    int cleaned_up;
    sleeper_t sleep;
} napper_t;

static int napper_body(coro_t *co)
{
    napper_t *f = (napper_t *)co;

    CORO_BEGIN(co);
    for (f->i = 0; f->i < f->times; f->i++) {
        AWAIT_CATCH(co, sleep_start(&f->sleep, f->delay));
        if (co->err) {
            f->cleaned_up = 1;                 /* the clean-up part */
            note("!");
            CORO_FAIL(co, co->err);
        }
        note(f->tag);
    }
    CORO_RETURN(co, (void *)(intptr_t)f->times);
    CORO_END(co);
}

static task_t *napper(double delay, const char *tag, int times,
                      napper_t **frame)
{
    napper_t *f;
    task_t *t = task_create(fx.loop, napper_body, sizeof *f, (void **)&f);

    cr_assert_not_null(t);
    f->delay = delay;
    f->tag = tag;
    f->times = times;
    if (frame)
        *frame = f;
    return t;
}

Test(task, a_task_does_not_run_before_the_loop_does)
{
    task_t *t = napper(0, "a", 1, NULL);

    log_[0] = 0;
    cr_assert_str_eq(log_, "");
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "a");
    cr_assert(future_done(task_future(t)));
    task_release(t);
}

/* The block a Task is made in may have held anything: a field that
 * task_create() does not set shows what was there before. So hand
 * malloc() blocks of every size near a Task's, filled with ones, back
 * first (glibc reuses the most recently freed block of a size). */
Test(task, a_new_task_counts_no_cancel_requests_even_in_reused_memory)
{
    enum { SIZES = 32, EACH = 8 };
    void *blocks[SIZES][EACH];

    for (int i = 0; i < SIZES; i++)
        for (int j = 0; j < EACH; j++) {
            blocks[i][j] = malloc(sizeof(task_t) + 16 * (size_t)i);
            cr_assert_not_null(blocks[i][j]);
            memset(blocks[i][j], 0xff, sizeof(task_t) + 16 * (size_t)i);
        }
    for (int i = 0; i < SIZES; i++)
        for (int j = 0; j < EACH; j++)
            free(blocks[i][j]);
    task_t *t = napper(0, "a", 1, NULL);

    cr_assert_eq(task_cancelling(t), 0);
    cr_assert_eq(task_uncancel(t), 0);
    fixture_settle(&fx);
    task_release(t);
}

Test(task, sleeps_wake_in_deadline_order)
{
    task_t *a, *b, *c;

    log_[0] = 0;
    a = napper(0.3, "a", 1, NULL);
    b = napper(0.1, "b", 1, NULL);
    c = napper(0.2, "c", 1, NULL);
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "", "nobody should wake before time moves");
    fixture_advance(&fx, 0.15);
    cr_assert_str_eq(log_, "b");
    fixture_advance(&fx, 0.2);
    cr_assert_str_eq(log_, "bca");
    task_release(a);
    task_release(b);
    task_release(c);
}

Test(task, sleep_zero_interleaves_tasks_round_robin)
{
    task_t *a, *b;

    log_[0] = 0;
    a = napper(0, "a", 3, NULL);
    b = napper(0, "b", 3, NULL);
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "ababab");
    task_release(a);
    task_release(b);
}

Test(task, the_task_result_is_the_coroutine_return_value)
{
    /* sleep(0) only: run_until_complete does not move the fake clock */
    task_t *t = napper(0, "x", 2, NULL);
    void *r = NULL;

    log_[0] = 0;
    cr_assert_eq(loop_run_until_complete(fx.loop, task_future(t), &r, NULL),
                 FUTURE_OK);
    cr_assert_eq((intptr_t)r, 2);
    task_release(t);
}

Test(task, cancelling_a_sleeping_task_runs_its_cleanup_and_reports_cancelled)
{
    napper_t *f;
    task_t *t = napper(10, "z", 1, &f);
    int err = 0;

    log_[0] = 0;
    fixture_settle(&fx);
    cr_assert_eq(task_cancel(t), 1);
    fixture_settle(&fx);
    cr_assert(f->cleaned_up);
    cr_assert_eq(future_result(task_future(t), NULL, &err),
                 FUTURE_E_CANCELLED);
    cr_assert_eq(err, ECANCELED);
    cr_assert_eq(loop_timer_count(fx.loop), 0, "the sleep's timer is left");
    task_release(t);
}

Test(task, cancelling_a_finished_task_does_nothing)
{
    task_t *t = napper(0, "a", 1, NULL);

    fixture_settle(&fx);
    cr_assert_eq(task_cancel(t), 0);
    cr_assert_eq(future_state(task_future(t)), FUTURE_RESULT);
    task_release(t);
}

Test(task, a_task_cancelled_before_its_first_step_never_runs)
{
    task_t *t = napper(0, "a", 1, NULL);

    log_[0] = 0;
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "");
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    task_release(t);
}

/* Awaits a Future given from outside; reports what it got. */
typedef struct waiter_co {
    coro_t co;
    future_t *on;
    void *got;
    int err;
    int steps;
} waiter_co_t;

static int waiter_body(coro_t *co)
{
    waiter_co_t *f = (waiter_co_t *)co;

    CORO_BEGIN(co);
    f->steps++;
    AWAIT_CATCH(co, f->on);
    f->steps++;
    f->got = co->in;
    f->err = co->err;
    CORO_RETURN(co, co->in);
    CORO_END(co);
}

Test(task, the_result_of_an_awaited_future_arrives_at_the_await)
{
    future_t fut;
    waiter_co_t *f;
    task_t *t = task_create(fx.loop, waiter_body, sizeof *f, (void **)&f);

    future_init(&fut, fx.loop);
    f->on = &fut;
    fixture_settle(&fx);
    cr_assert_eq(f->steps, 1, "it should be suspended at the await");
    future_set_result(&fut, (void *)77);
    cr_assert_eq(f->steps, 1, "the wake-up is queued, not run inside set");
    fixture_settle(&fx);
    cr_assert_eq(f->steps, 2);
    cr_assert_eq(f->got, (void *)77);
    task_release(t);
}

Test(task, an_error_of_an_awaited_future_arrives_at_the_await)
{
    future_t fut;
    waiter_co_t *f;
    task_t *t = task_create(fx.loop, waiter_body, sizeof *f, (void **)&f);

    future_init(&fut, fx.loop);
    f->on = &fut;
    fixture_settle(&fx);
    future_set_error(&fut, ECONNRESET);
    fixture_settle(&fx);
    cr_assert_eq(f->err, ECONNRESET);
    task_release(t);
}

Test(task, cancelling_a_task_that_awaits_a_future_cancels_that_future)
{
    future_t fut;
    waiter_co_t *f;
    task_t *t = task_create(fx.loop, waiter_body, sizeof *f, (void **)&f);

    future_init(&fut, fx.loop);
    f->on = &fut;
    fixture_settle(&fx);
    task_cancel(t);
    cr_assert_eq(future_state(&fut), FUTURE_CANCELLED);
    fixture_settle(&fx);
    cr_assert_eq(f->err, ECANCELED, "the coroutine sees it at its await");
    task_release(t);
}

Test(task, an_already_finished_future_does_not_suspend)
{
    future_t fut;
    waiter_co_t *f;
    task_t *t = task_create(fx.loop, waiter_body, sizeof *f, (void **)&f);

    future_init(&fut, fx.loop);
    future_set_result(&fut, (void *)3);
    f->on = &fut;
    loop_run_once(fx.loop);
    cr_assert_eq(f->steps, 2);
    cr_assert(future_done(task_future(t)));
    task_release(t);
}

/* A task awaiting another task: its result, and cancellation through it. */
typedef struct boss {
    coro_t co;
    task_t *worker;
    void *got;
    int err;
} boss_t;

static int boss_body(coro_t *co)
{
    boss_t *f = (boss_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, task_future(f->worker));
    f->got = co->in;
    f->err = co->err;
    CORO_FAIL(co, co->err);
    CORO_END(co);
}

Test(task, awaiting_a_task_gives_its_result)
{
    boss_t *b;
    task_t *w = napper(1, "w", 1, NULL);
    task_t *t = task_create(fx.loop, boss_body, sizeof *b, (void **)&b);

    b->worker = w;
    fixture_advance(&fx, 1.01);
    cr_assert_eq((intptr_t)b->got, 1);
    cr_assert_eq(b->err, 0);
    task_release(t);
    task_release(w);
}

Test(task, cancelling_the_awaiting_task_cancels_the_awaited_one)
{
    boss_t *b;
    napper_t *nf;
    task_t *w = napper(5, "w", 1, &nf);
    task_t *t = task_create(fx.loop, boss_body, sizeof *b, (void **)&b);

    b->worker = w;
    fixture_settle(&fx);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert(nf->cleaned_up);
    cr_assert_eq(b->err, ECANCELED);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    cr_assert_eq(future_state(task_future(w)), FUTURE_CANCELLED);
    task_release(t);
    task_release(w);
}

/* Cancellation inside a sub-coroutine: the innermost frame sees it, the
 * outer one sees the sub-coroutine fail with ECANCELED, both clean up. */
typedef struct nest {
    coro_t co;
    napper_t sub;
    int outer_cleanup;
} nest_t;

static int nest_body(coro_t *co)
{
    nest_t *f = (nest_t *)co;

    CORO_BEGIN(co);
    f->sub.delay = 5;
    f->sub.tag = "s";
    f->sub.times = 1;
    coro_init(&f->sub.co, napper_body);
    CORO_AWAIT_CORO_CATCH(co, &f->sub.co);
    if (co->err) {
        f->outer_cleanup = 1;
        CORO_FAIL(co, co->err);
    }
    CORO_END(co);
}

Test(task, cancellation_reaches_the_innermost_sub_coroutine_and_unwinds)
{
    nest_t *f;
    task_t *t = task_create(fx.loop, nest_body, sizeof *f, (void **)&f);

    fixture_settle(&fx);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert(f->sub.cleaned_up);
    cr_assert(f->outer_cleanup);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    task_release(t);
}

Test(task, ten_thousand_tasks_each_yielding_a_hundred_times_all_finish)
{
    enum { N = 10000 };
    static task_t *tasks[N];

    for (int i = 0; i < N; i++)
        tasks[i] = napper(0, "", 100, NULL);
    for (int i = 0; i < 110; i++)
        loop_run_once(fx.loop);
    for (int i = 0; i < N; i++) {
        cr_assert(future_done(task_future(tasks[i])));
        task_release(tasks[i]);
    }
}

/* A coroutine whose every await finds its Future finished: it never
 * suspends by itself. */
typedef struct greedy {
    coro_t co;
    int i, n, at_queue;
    future_t done;
} greedy_t;

static int greedy_body(coro_t *co)
{
    greedy_t *f = (greedy_t *)co;

    CORO_BEGIN(co);
    for (f->i = 0; f->i < f->n; f->i++)
        AWAIT(co, &f->done);
    CORO_RETURN(co, NULL);
    CORO_END(co);
}

static void record_progress(loop_t *loop, void *arg)
{
    greedy_t *f = arg;

    (void)loop;
    cr_assert_lt(f->i, f->n, "the greedy Task ran to the end first");
    /* queued behind at most one step of the Task: one budget's worth */
    cr_assert_leq(f->i - f->at_queue, TASK_STEP_BUDGET);
    f->n = f->i;                         /* and make it stop there */
}

Test(task, a_task_that_never_suspends_still_lets_the_loop_run)
{
    greedy_t *f;
    task_t *t = task_create(fx.loop, greedy_body, sizeof *f, (void **)&f);

    cr_assert_not_null(t);
    f->n = 100000;
    future_init(&f->done, fx.loop);
    future_set_result(&f->done, NULL);
    fixture_settle(&fx);                 /* first step: within budget */
    cr_assert_lt(f->i, 100000);
    f->at_queue = f->i;
    cr_assert_eq(loop_call_soon(fx.loop, record_progress, f), 0);
    fixture_settle(&fx);
    cr_assert(future_done(task_future(t)));
    cr_assert_lt(f->i, 100000);
    task_release(t);
}

/* ---- defects found by restating CPython's own tests (issue 11) -------- */

/* test_cancel_at_end: the coroutine cancels its own Task, then returns a
 * value without awaiting again: the Task still ends cancelled. */
typedef struct self_cancel {
    coro_t co;
    task_t *self;
} self_cancel_t;

static int self_cancel_body(coro_t *co)
{
    self_cancel_t *f = (self_cancel_t *)co;

    CORO_BEGIN(co);
    task_cancel(f->self);
    CORO_RETURN(co, (void *)12);
    CORO_END(co);
}

Test(task, a_cancel_requested_while_running_wins_over_the_return_value)
{
    self_cancel_t *f;
    task_t *t = task_create(fx.loop, self_cancel_body, sizeof *f,
                            (void **)&f);

    f->self = t;
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    task_release(t);
}

/* A Task awaiting its own Future, directly or from a sub-coroutine: asyncio
 * refuses at the await ("Task cannot await on itself"). Here the await
 * fails with EDEADLK, which then propagates like any error. */
typedef struct narcissus {
    coro_t co;
    task_t *self;
    int err;
} narcissus_t;

static int narcissus_body(coro_t *co)
{
    narcissus_t *f = (narcissus_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, task_future(f->self));
    f->err = co->err;
    CORO_FAIL(co, co->err);
    CORO_END(co);
}

typedef struct narcissus_outer {
    coro_t co;
    narcissus_t sub;
} narcissus_outer_t;

static int narcissus_outer_body(coro_t *co)
{
    narcissus_outer_t *f = (narcissus_outer_t *)co;

    CORO_BEGIN(co);
    CORO_AWAIT_CORO(co, &f->sub.co);     /* its EDEADLK raises here */
    CORO_RETURN(co, (void *)1);
    CORO_END(co);
}

Test(task, a_task_awaiting_itself_fails_at_the_await_with_edeadlk)
{
    narcissus_t *f;
    task_t *t = task_create(fx.loop, narcissus_body, sizeof *f, (void **)&f);
    int err = 0;

    f->self = t;
    fixture_settle(&fx);
    cr_assert_eq(f->err, EDEADLK);
    cr_assert_eq(future_result(task_future(t), NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, EDEADLK);
    cr_assert_eq(task_cancel(t), 0, "finished: nothing to cancel");
    task_release(t);
}

Test(task, a_task_awaiting_itself_from_a_sub_coroutine_fails_too)
{
    narcissus_outer_t *f;
    task_t *t = task_create(fx.loop, narcissus_outer_body, sizeof *f,
                            (void **)&f);
    int err = 0;

    coro_init(&f->sub.co, narcissus_body);
    f->sub.self = t;
    fixture_settle(&fx);
    cr_assert_eq(future_result(task_future(t), NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, EDEADLK, "the error propagated up through the outer");
    task_release(t);
}

/* A Task's outcome is its coroutine's: setting it from outside is refused
 * (asyncio: "Task does not support set_result operation"). */
Test(task, its_outcome_cannot_be_set_from_outside)
{
    future_t fut;
    waiter_co_t *f;
    task_t *t = task_create(fx.loop, waiter_body, sizeof *f, (void **)&f);
    void *r = NULL;

    future_init(&fut, fx.loop);
    f->on = &fut;
    fixture_settle(&fx);
    cr_assert_eq(future_set_result(task_future(t), (void *)5), FUTURE_E_TASK);
    cr_assert_eq(future_set_error(task_future(t), EIO), FUTURE_E_TASK);
    cr_assert_eq(future_set_cancelled(task_future(t)), FUTURE_E_TASK);
    cr_assert(!future_done(task_future(t)));
    future_set_result(&fut, (void *)9);
    cr_assert_eq(loop_run_until_complete(fx.loop, task_future(t), &r, NULL),
                 FUTURE_OK);
    cr_assert_eq((intptr_t)r, 9, "the coroutine's own result");
    cr_assert_str_neq(future_strerror(FUTURE_E_TASK), "unknown future status");
    task_release(t);
}

/* ---- errors travel through await (coro.h, ground rule 6) -------------- */

/* Three levels: outer awaits middle awaits inner, inner awaits a Future.
 * Each level notes when its code after the await runs. `catching` makes
 * the middle level use the catching form and swallow the error. */
typedef struct inner_lvl {
    coro_t co;
    future_t *on;
    int after;
} inner_lvl_t;

typedef struct middle_lvl {
    coro_t co;
    inner_lvl_t inner;
    int catching, caught, after;
} middle_lvl_t;

typedef struct outer_lvl {
    coro_t co;
    middle_lvl_t middle;
    int after;
} outer_lvl_t;

static int inner_lvl_body(coro_t *co)
{
    inner_lvl_t *f = (inner_lvl_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, f->on);
    f->after = 1;
    CORO_RETURN(co, co->in);
    CORO_END(co);
}

static int middle_lvl_body(coro_t *co)
{
    middle_lvl_t *f = (middle_lvl_t *)co;

    CORO_BEGIN(co);
    coro_init(&f->inner.co, inner_lvl_body);
    if (f->catching) {
        CORO_AWAIT_CORO_CATCH(co, &f->inner.co);
        f->caught = co->err;
    } else {
        CORO_AWAIT_CORO(co, &f->inner.co);
    }
    f->after = 1;
    CORO_RETURN(co, (void *)41);
    CORO_END(co);
}

static int outer_lvl_body(coro_t *co)
{
    outer_lvl_t *f = (outer_lvl_t *)co;

    CORO_BEGIN(co);
    coro_init(&f->middle.co, middle_lvl_body);
    CORO_AWAIT_CORO(co, &f->middle.co);
    f->after = 1;
    CORO_RETURN(co, (void *)((intptr_t)co->in + 1));
    CORO_END(co);
}

static task_t *levels(future_t *on, int catching, outer_lvl_t **frame)
{
    task_t *t = task_create(fx.loop, outer_lvl_body, sizeof **frame,
                            (void **)frame);

    cr_assert_not_null(t);
    (*frame)->middle.inner.on = on;
    (*frame)->middle.catching = catching;
    return t;
}

Test(task, an_error_ignored_by_every_level_reaches_the_task)
{
    future_t fut;
    outer_lvl_t *f;
    task_t *t;
    int err = 0;

    future_init(&fut, fx.loop);
    t = levels(&fut, 0, &f);
    fixture_settle(&fx);
    future_set_error(&fut, EPIPE);
    fixture_settle(&fx);
    cr_assert(!f->middle.inner.after && !f->middle.after && !f->after,
              "code after a failed await ran");
    cr_assert_eq(future_result(task_future(t), NULL, &err), FUTURE_E_ERROR,
                 "the Task reported success with the error dropped");
    cr_assert_eq(err, EPIPE);
    task_release(t);
}

Test(task, the_catching_form_stops_the_error_where_it_is_handled)
{
    future_t fut;
    outer_lvl_t *f;
    task_t *t;
    void *r = NULL;

    future_init(&fut, fx.loop);
    t = levels(&fut, 1, &f);
    fixture_settle(&fx);
    future_set_error(&fut, EPIPE);
    fixture_settle(&fx);
    cr_assert(!f->middle.inner.after);
    cr_assert_eq(f->middle.caught, EPIPE);
    cr_assert(f->middle.after && f->after);
    cr_assert_eq(future_result(task_future(t), &r, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)r, 42);
    task_release(t);
}

Test(task, a_result_goes_up_through_every_level)
{
    future_t fut;
    outer_lvl_t *f;
    task_t *t;
    void *r = NULL;

    future_init(&fut, fx.loop);
    t = levels(&fut, 0, &f);
    fixture_settle(&fx);
    future_set_result(&fut, (void *)1);
    fixture_settle(&fx);
    cr_assert(f->middle.inner.after && f->middle.after && f->after);
    cr_assert_eq(future_result(task_future(t), &r, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)r, 42);
    task_release(t);
}

Test(task, a_cancelled_task_unwinds_every_level_with_no_code_in_them)
{
    future_t fut;
    outer_lvl_t *f;
    task_t *t;

    future_init(&fut, fx.loop);
    t = levels(&fut, 0, &f);
    fixture_settle(&fx);
    cr_assert_eq(task_cancel(t), 1);
    fixture_settle(&fx);
    cr_assert_eq(future_state(&fut), FUTURE_CANCELLED);
    cr_assert(!f->middle.inner.after && !f->middle.after && !f->after);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    task_release(t);
}

Test(task, a_caught_cancellation_can_be_swallowed)
{
    future_t fut;
    outer_lvl_t *f;
    task_t *t;
    void *r = NULL;

    future_init(&fut, fx.loop);
    t = levels(&fut, 1, &f);
    fixture_settle(&fx);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(f->middle.caught, ECANCELED);
    cr_assert_eq(future_result(task_future(t), &r, NULL), FUTURE_OK,
                 "handled like `except CancelledError: return 41`");
    cr_assert_eq((intptr_t)r, 42);
    task_release(t);
}

/* ---- the two warnings asyncio prints ---------------------------------- */

/* Each test runs in a process of its own (Criterion), so Task ids start
 * at 1 and the lines are known exactly. */
typedef struct failer {
    coro_t co;
} failer_t;

static int failer_body(coro_t *co)
{
    CORO_BEGIN(co);
    CORO_FAIL(co, EPIPE);
    CORO_END(co);
}

Test(task, an_error_nobody_retrieved_is_reported_when_the_task_is_freed,
     .init = cr_redirect_stderr)
{
    failer_t *f;
    task_t *t;

    fixture_start(&fx);
    t = task_create(fx.loop, failer_body, sizeof *f, (void **)&f);
    task_set_name(t, "doomed");
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(t)), FUTURE_ERROR);
    task_release(t);                     /* the last reference */
    fflush(stderr);
    cr_assert_stderr_eq_str("Task exception was never retrieved: doomed#1: "
                            "Broken pipe\n");
}

Test(task, an_error_retrieved_is_not_reported, .init = cr_redirect_stderr)
{
    failer_t *f;
    task_t *t;
    int err = 0;

    fixture_start(&fx);
    t = task_create(fx.loop, failer_body, sizeof *f, (void **)&f);
    fixture_settle(&fx);
    cr_assert_eq(future_result(task_future(t), NULL, &err), FUTURE_E_ERROR);
    task_release(t);
    fflush(stderr);
    cr_assert_stderr_eq_str("");
}

Test(task, an_error_awaited_by_another_task_is_retrieved,
     .init = cr_redirect_stderr)
{
    failer_t *f;
    boss_t *b;
    task_t *w, *t;

    fixture_start(&fx);
    w = task_create(fx.loop, failer_body, sizeof *f, (void **)&f);
    t = task_create(fx.loop, boss_body, sizeof *b, (void **)&b);
    b->worker = w;
    task_set_name(w, "worker");
    task_set_name(t, "boss");
    fixture_settle(&fx);
    cr_assert_eq(b->err, EPIPE);
    task_release(w);
    task_release(t);                     /* failed too: awaited by nobody */
    fflush(stderr);
    cr_assert_stderr_eq_str("Task exception was never retrieved: boss#2: "
                            "Broken pipe\n",
                            "the worker's error was read by its awaiter");
}

Test(task, destroying_a_loop_with_pending_tasks_reports_each_one,
     .init = cr_redirect_stderr)
{
    loop_t *loop = loop_create(NULL);
    future_t never, other;
    waiter_co_t *f;
    task_t *t[2];

    fixture_start(&fx);                  /* for the suite's teardown */
    cr_assert_not_null(loop);
    future_init(&never, loop);
    future_init(&other, loop);
    for (int i = 0; i < 2; i++) {
        t[i] = task_create(loop, waiter_body, sizeof *f, (void **)&f);
        f->on = i ? &other : &never;
        task_set_name(t[i], i ? "second" : "first");
    }
    loop_run_once(loop);                 /* both now wait */
    for (int i = 0; i < 2; i++)
        task_release(t[i]);              /* the loop's reference is left */
    loop_destroy(loop);                  /* ... and dropped here (ASan) */
    cr_assert(list_empty(&never.callbacks),
              "a wake-up record was left on the Future");
    cr_assert(list_empty(&other.callbacks));
    fflush(stderr);
    /* oldest first, as they were created */
    cr_assert_stderr_eq_str("Task was destroyed but it is pending: first#1\n"
                            "Task was destroyed but it is pending: second#2\n");
}
