/*
 * test_asyncio_parity.c - behaviours CPython's own asyncio test suite pins
 * (test_futures, test_tasks with gather, test_waitfor, test_locks,
 * test_queues), restated against this runtime's C API on the fake clock.
 *
 * Each test names the CPython behaviour it restates. Where this runtime
 * differs on purpose, the test pins the C behaviour and cites the row of
 * APPENDIX.md's "Where this runtime differs from asyncio, and why" table.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "gather.h"
#include "run.h"
#include "sleep.h"
#include "sync.h"
#include "task.h"
#include "timeout.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(parity_future, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(parity_task, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(parity_gather, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(parity_wait_for, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(parity_lock, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(parity_event, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(parity_semaphore, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(parity_condition, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(parity_queue, .init = setup, .fini = teardown, .timeout = 10);

/* What happened, in order: one character per event. */
static char log_[256];

static void note(char c)
{
    size_t n = strlen(log_);

    if (n + 1 < sizeof log_) {
        log_[n] = c;
        log_[n + 1] = 0;
    }
}

/*
 * One coroutine for most tests: await what `start` returns (a Lock, a
 * Semaphore unit, a Queue item, a sleep, any Future), note its tag, hold
 * for `hold` seconds, run `after` (a release), and finish. How it reacts
 * to an error at the first await: `swallow` catches ECANCELED and returns
 * `swallow` instead; `on_cancel` fails with that error instead.
 */
typedef struct op op_t;
typedef future_t *op_start_fn(op_t *f);

struct op {
    coro_t co;
    char tag;
    op_start_fn *start;      /* what to await first */
    void (*after)(op_t *f);  /* run once the wait and the hold are over */
    void *obj;               /* the primitive */
    void *item;              /* queue_put: the item */
    double delay;            /* st_sleep: how long */
    double hold;             /* sleep after the wait, if > 0 */
    intptr_t value;          /* the value to return (0: what it got) */
    intptr_t swallow;        /* catch ECANCELED, return this (0: do not) */
    int on_cancel;           /* fail with this on ECANCELED (0: do not) */
    int fail;                /* fail with this after the wait (0: do not) */
    int finished;            /* the first await is over */
    int err;                 /* the error it gave */
    int hold_err;            /* the error of the hold */
    void *got;               /* the value it gave */
    waiter_t w;
    sleeper_t s0;
    sleeper_t sleep;
};

static int op_body(coro_t *co)
{
    op_t *f = (op_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, f->start(f));
    f->finished = 1;
    f->err = co->err;
    f->got = co->in;
    if (f->err) {
        if (f->err == ECANCELED && f->swallow)
            CORO_RETURN(co, (void *)f->swallow);
        if (f->err == ECANCELED && f->on_cancel)
            CORO_FAIL(co, f->on_cancel);
        CORO_FAIL(co, f->err);
    }
    note(f->tag);
    if (f->hold > 0) {
        AWAIT_CATCH(co, sleep_start(&f->sleep, f->hold));
        f->hold_err = co->err;
    }
    if (f->after)
        f->after(f);
    if (f->hold_err)
        CORO_FAIL(co, f->hold_err);
    if (f->fail)
        CORO_FAIL(co, f->fail);
    CORO_RETURN(co, f->value ? (void *)f->value : f->got);
    CORO_END(co);
}

static future_t *st_future(op_t *f) { return f->obj; }
static future_t *st_sleep(op_t *f)
{
    return sleep_start(&f->s0, f->delay);
}
static future_t *st_lock(op_t *f) { return lock_acquire(f->obj, &f->w); }
static future_t *st_sem(op_t *f) { return semaphore_acquire(f->obj, &f->w); }
static future_t *st_event(op_t *f) { return event_wait(f->obj, &f->w); }
static future_t *st_get(op_t *f) { return queue_get(f->obj, &f->w); }
static future_t *st_put(op_t *f) { return queue_put(f->obj, &f->w, f->item); }
static future_t *st_join(op_t *f) { return queue_join(f->obj, &f->w); }

static void af_unlock(op_t *f) { cr_assert_eq(lock_release(f->obj), 0); }
static void af_sem_release(op_t *f)
{
    cr_assert_eq(semaphore_release(f->obj), 0);
}

static task_t *spawn(op_t **frame, char tag, op_start_fn *start, void *obj)
{
    op_t *f;
    task_t *t = task_create(fx.loop, op_body, sizeof *f, (void **)&f);

    cr_assert_not_null(t);
    f->tag = tag;
    f->start = start;
    f->obj = obj;
    if (frame)
        *frame = f;
    return t;
}

/* A sleeping worker: returns `value` after `delay`, or fails with `fail`. */
static task_t *worker(op_t **frame, char tag, double delay, intptr_t value,
                      int fail)
{
    op_t *f;
    task_t *t = spawn(&f, tag, st_sleep, NULL);

    f->delay = delay;
    f->value = value;
    f->fail = fail;
    if (frame)
        *frame = f;
    return t;
}

static future_state_t state_of(task_t *t)
{
    return future_state(task_future(t));
}

static int error_of(future_t *fut)
{
    int err = 0;

    future_result(fut, NULL, &err);
    return err;
}

/* ---- futures (test_futures.py) ----------------------------------------- */

static int calls;
static void count_call(future_t *future, void *arg)
{
    (void)future;
    (void)arg;
    calls++;
}

/* test_cancel: a cancelled Future cannot be given a result or an error
 * afterwards, and its result reads as a cancellation. */
Test(parity_future, a_cancelled_future_refuses_a_result_and_reads_cancelled)
{
    future_t f;
    void *result = (void *)1;
    int err = 0;

    future_init(&f, fx.loop);
    cr_assert_eq(future_cancel(&f), 1);
    cr_assert_eq(future_set_result(&f, (void *)7), FUTURE_E_FINISHED);
    cr_assert_eq(future_set_error(&f, EIO), FUTURE_E_FINISHED);
    cr_assert_eq(future_result(&f, &result, &err), FUTURE_E_CANCELLED);
    cr_assert_eq(err, ECANCELED);
    cr_assert_eq(future_cancel(&f), 0);
}

/* test_remove_done_callback: a callback removed is removed once; removing
 * it again, or from a finished Future, takes nothing back. */
Test(parity_future, removing_a_callback_twice_takes_it_back_once)
{
    future_t f;
    future_callback_t a, b;

    calls = 0;
    future_init(&f, fx.loop);
    future_add_done_callback(&f, &a, count_call, NULL);
    future_add_done_callback(&f, &b, count_call, NULL);
    cr_assert_eq(future_remove_done_callback(&f, &a), 1);
    cr_assert_eq(future_remove_done_callback(&f, &a), 0);
    future_set_result(&f, NULL);
    cr_assert_eq(calls, 1);
    cr_assert_eq(future_remove_done_callback(&f, &b), 0);
    fixture_settle(&fx);
    cr_assert_eq(calls, 1);
}

/* A callback added from inside another callback, while the Future is
 * finishing, is a late one: asyncio schedules it with call_soon, and so
 * does this runtime (it does not run inside the first one). */
static future_callback_t nested;
static void add_nested(future_t *future, void *arg)
{
    (void)arg;
    future_add_done_callback(future, &nested, count_call, NULL);
    cr_assert_eq(calls, 0);
}

Test(parity_future, a_callback_added_by_a_callback_runs_later_not_inside)
{
    future_t f;
    future_callback_t first;

    calls = 0;
    future_init(&f, fx.loop);
    future_add_done_callback(&f, &first, add_nested, NULL);
    future_set_result(&f, NULL);
    cr_assert_eq(calls, 0);
    fixture_settle(&fx);
    cr_assert_eq(calls, 1);
}

/* Pins row "a Future's done callbacks are all scheduled with call_soon":
 * in asyncio every callback is scheduled when the Future finishes, so one
 * removed by an earlier callback still runs; here callbacks run inside
 * future_set_result(), and a record taken back before its turn does not. */
static future_callback_t victim;
static void remove_victim(future_t *future, void *arg)
{
    (void)arg;
    cr_assert_eq(future_remove_done_callback(future, &victim), 1);
}

Test(parity_future, a_callback_removed_by_an_earlier_one_does_not_run)
{
    future_t f;
    future_callback_t first;

    calls = 0;
    future_init(&f, fx.loop);
    future_add_done_callback(&f, &first, remove_victim, NULL);
    future_add_done_callback(&f, &victim, count_call, NULL);
    future_set_result(&f, NULL);
    fixture_settle(&fx);
    cr_assert_eq(calls, 0);
}

/* Pins row "errors are exception objects": set_exception(CancelledError())
 * leaves an asyncio Future finished with an exception (cancelled() is
 * False); here ECANCELED *is* the cancellation. */
Test(parity_future, an_ecanceled_error_is_a_cancellation)
{
    future_t f;

    future_init(&f, fx.loop);
    cr_assert_eq(future_set_error(&f, ECANCELED), FUTURE_OK);
    cr_assert_eq(future_state(&f), FUTURE_CANCELLED);
}

/* set_exception() needs an exception; future_set_error() given 0 (no
 * error) still finishes with an error, never as a silent success. */
Test(parity_future, an_error_of_zero_still_finishes_with_an_error)
{
    future_t f;
    int err = 0;

    future_init(&f, fx.loop);
    cr_assert_eq(future_set_error(&f, 0), FUTURE_OK);
    cr_assert_eq(future_result(&f, NULL, &err), FUTURE_E_ERROR);
    cr_assert_neq(err, 0);
}

/* ---- tasks (test_tasks.py) --------------------------------------------- */

/* test_cancel_inner_future: cancelling the Future a Task awaits (not the
 * Task) raises at the await; uncaught, the Task ends cancelled. */
Test(parity_task, cancelling_the_awaited_future_cancels_the_task)
{
    future_t inner;
    op_t *f;
    task_t *t;

    future_init(&inner, fx.loop);
    t = spawn(&f, 'a', st_future, &inner);
    fixture_settle(&fx);
    cr_assert_eq(future_cancel(&inner), 1);
    fixture_settle(&fx);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    task_release(t);
}

/* test_cancel_both_task_and_inner_future. */
Test(parity_task, cancelling_both_the_task_and_its_future_cancels_once)
{
    future_t inner;
    op_t *f;
    task_t *t;

    future_init(&inner, fx.loop);
    t = spawn(&f, 'a', st_future, &inner);
    fixture_settle(&fx);
    cr_assert_eq(future_cancel(&inner), 1);
    cr_assert_eq(task_cancel(t), 1);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    cr_assert_eq(future_state(&inner), FUTURE_CANCELLED);
    task_release(t);
}

/* test_cancel_task_catching: a Task that catches the cancellation and
 * returns a value ends with that value, not cancelled. */
Test(parity_task, a_task_that_catches_its_cancellation_returns_normally)
{
    op_t *f;
    task_t *t = worker(&f, 'a', 10, 0, 0);

    f->swallow = 42;
    fixture_settle(&fx);
    cr_assert_eq(task_cancel(t), 1);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t), FUTURE_RESULT);
    cr_assert_eq(future_result(task_future(t), &f->got, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)f->got, 42);
    task_release(t);
}

/* test_cancel_task_ignoring: caught once, the cancellation is spent; the
 * next await runs to its end. */
typedef struct stubborn {
    coro_t co;
    int first_err;
    int second_err;
    sleeper_t s;
} stubborn_t;

static int stubborn_body(coro_t *co)
{
    stubborn_t *f = (stubborn_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, sleep_start(&f->s, 10));
    f->first_err = co->err;
    AWAIT_CATCH(co, sleep_start(&f->s, 0.1));
    f->second_err = co->err;
    CORO_RETURN(co, (void *)(intptr_t)7);
    CORO_END(co);
}

Test(parity_task, a_caught_cancellation_is_spent_and_the_next_await_runs)
{
    stubborn_t *f;
    task_t *t = task_create(fx.loop, stubborn_body, sizeof *f, (void **)&f);

    fixture_settle(&fx);
    task_cancel(t);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(f->first_err, ECANCELED);
    cr_assert_eq(f->second_err, 0);
    cr_assert_eq(state_of(t), FUTURE_RESULT);
    task_release(t);
}

/* Task.cancel() called twice before the Task runs again: asyncio delivers
 * one CancelledError (the second request only sets _must_cancel, which
 * the step that throws the first one consumes). Caught once, the Task
 * goes on. */
Test(parity_task, two_cancels_before_the_task_runs_deliver_one_cancellation)
{
    stubborn_t *f;
    task_t *t = task_create(fx.loop, stubborn_body, sizeof *f, (void **)&f);

    fixture_settle(&fx);
    cr_assert_eq(task_cancel(t), 1);
    cr_assert_eq(task_cancel(t), 1);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(f->first_err, ECANCELED);
    cr_assert_eq(f->second_err, 0);
    cr_assert_eq(state_of(t), FUTURE_RESULT);
    task_release(t);
}

/* The same, with a Task that has not started: it never runs. */
Test(parity_task, two_cancels_before_the_first_step_never_start_it)
{
    stubborn_t *f;
    task_t *t = task_create(fx.loop, stubborn_body, sizeof *f, (void **)&f);

    cr_assert_eq(task_cancel(t), 1);
    cr_assert_eq(task_cancel(t), 1);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    cr_assert_eq(f->first_err, 0);
    task_release(t);
}

/* test_cancel_current_task: a Task that cancels itself goes on until its
 * next await that suspends; an await on a finished Future does not
 * suspend, so it gets that Future's result. */
typedef struct selfish {
    coro_t co;
    task_t *self;
    future_t ready;
    void *got;
    int err;
    sleeper_t s;
} selfish_t;

static int selfish_body(coro_t *co)
{
    selfish_t *f = (selfish_t *)co;

    CORO_BEGIN(co);
    task_cancel(f->self);
    future_init(&f->ready, fx.loop);
    future_set_result(&f->ready, (void *)(intptr_t)5);
    AWAIT(co, &f->ready);
    f->got = co->in;
    AWAIT_CATCH(co, sleep_start(&f->s, 1));
    f->err = co->err;
    CORO_FAIL(co, co->err);
    CORO_END(co);
}

Test(parity_task, a_task_cancelling_itself_is_cancelled_at_its_next_suspension)
{
    selfish_t *f;
    task_t *t = task_create(fx.loop, selfish_body, sizeof *f, (void **)&f);

    f->self = t;
    fixture_settle(&fx);
    cr_assert_eq((intptr_t)f->got, 5);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    task_release(t);
}

/* Pins row "a cancel that arrives after the awaited Future finished":
 * asyncio throws CancelledError at that await and the error is lost; here
 * the awaited Future's own error arrives, and ECANCELED comes next. */
Test(parity_task, a_cancel_after_the_awaited_future_failed_delivers_the_error)
{
    future_t inner;
    op_t *f;
    task_t *t;

    future_init(&inner, fx.loop);
    t = spawn(&f, 'a', st_future, &inner);
    f->hold = 1;
    fixture_settle(&fx);
    future_set_error(&inner, EIO);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(f->err, EIO);
    cr_assert_eq(error_of(task_future(t)), EIO);
    task_release(t);
}

/* The "never retrieved" warning is about exceptions: a Task cancelled and
 * never looked at is not reported (asyncio logs only exceptions). */
Test(parity_task, a_cancelled_task_nobody_looked_at_is_not_reported,
     .init = cr_redirect_stderr)
{
    task_t *t;

    setup();
    t = worker(NULL, 'a', 10, 0, 0);
    fixture_settle(&fx);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    task_release(t);
    fflush(stderr);
    cr_assert_stderr_eq_str("");
}

/* A finished Task still referenced when the loop is destroyed is not
 * "destroyed but pending". */
Test(parity_task, a_finished_task_is_not_reported_pending_at_loop_destroy,
     .init = cr_redirect_stderr)
{
    task_t *t;

    setup();
    t = worker(NULL, 'a', 0.01, 3, 0);
    fixture_advance(&fx, 0.1);
    cr_assert_eq(state_of(t), FUTURE_RESULT);
    fixture_stop(&fx);
    fflush(stderr);
    cr_assert_stderr_eq_str("");
    task_release(t);
    setup();                      /* for the suite's teardown */
}

/* run_until_complete() on a Task that fails returns its error, and that
 * counts as retrieving it: nothing is reported when it is freed. */
Test(parity_task, run_until_complete_retrieves_the_error,
     .init = cr_redirect_stderr)
{
    task_t *t;
    int err = 0;

    setup();
    t = worker(NULL, 'a', 0, 0, EPIPE);
    cr_assert_eq(loop_run_until_complete(fx.loop, task_future(t), NULL,
                                         &err), FUTURE_E_ERROR);
    cr_assert_eq(err, EPIPE);
    task_release(t);
    fflush(stderr);
    cr_assert_stderr_eq_str("");
}

/* ---- gather (test_tasks.py, GatherTests) ------------------------------- */

/* test_one_cancellation: a child cancelled on its own (not through the
 * gather) fails the gather with a cancellation; the other children go
 * on. asyncio's gather then holds CancelledError as its exception, which
 * here is the cancelled state (row "errors are exception objects"). */
Test(parity_gather, a_child_cancelled_alone_fails_it_and_the_others_go_on)
{
    gather_t g;
    void *results[2];
    task_t *t[2] = {worker(NULL, 'a', 1, 1, 0), worker(NULL, 'b', 1, 2, 0)};
    future_t *kids[2] = {task_future(t[0]), task_future(t[1])};

    log_[0] = 0;
    gather_start(&g, fx.loop, kids, 2, results);
    fixture_settle(&fx);
    task_cancel(t[0]);
    fixture_settle(&fx);
    cr_assert_eq(future_state(&g.future), FUTURE_CANCELLED);
    cr_assert_eq(state_of(t[1]), FUTURE_PENDING);
    fixture_advance(&fx, 1.1);
    cr_assert_eq(state_of(t[1]), FUTURE_RESULT);
    cr_assert_str_eq(log_, "b");
    task_release(t[0]);
    task_release(t[1]);
}

/* Issue 32684: cancelling the gather ends it cancelled even if every
 * child swallows its cancellation and returns a value. */
Test(parity_gather, cancelled_it_stays_cancelled_though_children_swallow_it)
{
    gather_t g;
    void *results[2];
    op_t *f[2];
    task_t *t[2] = {worker(&f[0], 'a', 1, 1, 0), worker(&f[1], 'b', 1, 2, 0)};
    future_t *kids[2] = {task_future(t[0]), task_future(t[1])};

    f[0]->swallow = 10;
    f[1]->swallow = 20;
    gather_start(&g, fx.loop, kids, 2, results);
    fixture_settle(&fx);
    cr_assert_eq(future_cancel(&g.future), 1);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t[0]), FUTURE_RESULT);
    cr_assert_eq(state_of(t[1]), FUTURE_RESULT);
    cr_assert_eq(future_state(&g.future), FUTURE_CANCELLED);
    task_release(t[0]);
    task_release(t[1]);
}

/* Pins row "a cancelled gather finishes as soon as its first child ends
 * cancelled": there, the others may still be cleaning up; here it
 * finishes when every child has. */
Test(parity_gather, cancelled_it_finishes_once_every_child_has_finished)
{
    gather_t g;
    void *results[2];
    stubborn_t *slow;
    task_t *t[2];
    future_t *kids[2];

    t[0] = worker(NULL, 'a', 1, 1, 0);
    t[1] = task_create(fx.loop, stubborn_body, sizeof *slow, (void **)&slow);
    kids[0] = task_future(t[0]);
    kids[1] = task_future(t[1]);
    gather_start(&g, fx.loop, kids, 2, results);
    fixture_settle(&fx);
    cr_assert_eq(future_cancel(&g.future), 1);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t[0]), FUTURE_CANCELLED);
    cr_assert_eq(future_state(&g.future), FUTURE_PENDING);
    fixture_advance(&fx, 0.2);            /* slow winds down in 0.1 s */
    cr_assert_eq(state_of(t[1]), FUTURE_RESULT);
    cr_assert_eq(future_state(&g.future), FUTURE_CANCELLED);
    task_release(t[0]);
    task_release(t[1]);
}

/* Pins the same row: a child that fails with another error while the
 * gather is being cancelled. asyncio gives that first outcome (the
 * error); here the gather, once cancelled, ends cancelled. */
Test(parity_gather, cancelled_it_ends_cancelled_though_a_child_fails_instead)
{
    gather_t g;
    void *results[2];
    op_t *f[2];
    task_t *t[2] = {worker(&f[0], 'a', 1, 1, 0), worker(&f[1], 'b', 1, 2, 0)};
    future_t *kids[2] = {task_future(t[0]), task_future(t[1])};

    f[0]->on_cancel = EIO;
    gather_start(&g, fx.loop, kids, 2, results);
    fixture_settle(&fx);
    cr_assert_eq(future_cancel(&g.future), 1);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t[0]), FUTURE_ERROR);
    cr_assert_eq(future_state(&g.future), FUTURE_CANCELLED);
    task_release(t[0]);
    task_release(t[1]);
}

/* After a first error the gather is done: cancelling it is refused (and
 * does not reach the children), as cancel() on a done Future is. */
Test(parity_gather, cancelling_it_after_a_first_error_is_refused)
{
    gather_t g;
    void *results[2];
    task_t *t[2] = {worker(NULL, 'a', 0.1, 0, EIO),
                    worker(NULL, 'b', 1, 2, 0)};
    future_t *kids[2] = {task_future(t[0]), task_future(t[1])};

    gather_start(&g, fx.loop, kids, 2, results);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(error_of(&g.future), EIO);
    cr_assert_eq(future_cancel(&g.future), 0);
    cr_assert_eq(state_of(t[1]), FUTURE_PENDING);
    fixture_advance(&fx, 1);
    cr_assert_eq(state_of(t[1]), FUTURE_RESULT);
    task_release(t[0]);
    task_release(t[1]);
}

/* Pins row "after its first error, gather keeps its callback on the
 * other children": asyncio marks a later child's exception retrieved, so
 * it is never logged; here the gather let go of them at its first error,
 * so a second error nobody reads is reported when that Task is freed. */
Test(parity_gather, a_second_error_after_the_first_is_reported_unretrieved,
     .init = cr_redirect_stderr)
{
    gather_t g;
    void *results[2];
    task_t *t[2];
    future_t *kids[2];

    setup();
    t[0] = worker(NULL, 'a', 0.1, 0, EIO);
    t[1] = worker(NULL, 'b', 0.2, 0, EPIPE);
    task_set_name(t[1], "late");
    kids[0] = task_future(t[0]);
    kids[1] = task_future(t[1]);
    gather_start(&g, fx.loop, kids, 2, results);
    fixture_advance(&fx, 0.3);
    cr_assert_eq(error_of(&g.future), EIO);
    task_release(t[0]);
    task_release(t[1]);
    fflush(stderr);
    cr_assert_stderr_eq_str("Task exception was never retrieved: late#2: "
                            "Broken pipe\n");
}

/* The errors a gather reads are retrieved: its failing child is not
 * reported. */
Test(parity_gather, the_error_it_reports_is_retrieved,
     .init = cr_redirect_stderr)
{
    gather_t g;
    void *results[1];
    task_t *t;
    future_t *kids[1];

    setup();
    t = worker(NULL, 'a', 0.1, 0, EIO);
    kids[0] = task_future(t);
    gather_start(&g, fx.loop, kids, 1, results);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(error_of(&g.future), EIO);
    task_release(t);
    fflush(stderr);
    cr_assert_stderr_eq_str("");
}

/* test_constructor_use_running/finished futures: a gather of Futures that
 * have all finished already gives their results in order. */
Test(parity_gather, of_finished_futures_gives_their_results_in_order)
{
    gather_t g;
    future_t a, b;
    void *results[2];
    future_t *kids[2] = {&a, &b};
    void *out = NULL;

    future_init(&a, fx.loop);
    future_init(&b, fx.loop);
    future_set_result(&a, (void *)(intptr_t)1);
    future_set_result(&b, (void *)(intptr_t)2);
    gather_start(&g, fx.loop, kids, 2, results);
    fixture_settle(&fx);
    cr_assert_eq(future_result(&g.future, &out, NULL), FUTURE_OK);
    cr_assert_eq(out, results);
    cr_assert_eq((intptr_t)results[0], 1);
    cr_assert_eq((intptr_t)results[1], 2);
}

/* test_duplicate_coroutines, cancelled: the same Task twice in a gather
 * is asked to cancel twice, and gets one cancellation; caught, it goes
 * on, and the gather still ends cancelled (issue 32684). */
Test(parity_gather, the_same_task_twice_is_cancelled_once)
{
    gather_t g;
    void *results[2];
    stubborn_t *f;
    task_t *t = task_create(fx.loop, stubborn_body, sizeof *f, (void **)&f);
    future_t *kids[2] = {task_future(t), task_future(t)};

    gather_start(&g, fx.loop, kids, 2, results);
    fixture_settle(&fx);
    cr_assert_eq(future_cancel(&g.future), 1);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(f->first_err, ECANCELED);
    cr_assert_eq(f->second_err, 0);
    cr_assert_eq(state_of(t), FUTURE_RESULT);
    cr_assert_eq(future_state(&g.future), FUTURE_CANCELLED);
    task_release(t);
}

/* test_cancel_gather_2: cancelling the Task that awaits a gather cancels
 * the gather's children, and the Task ends cancelled. */
Test(parity_gather, cancelling_the_awaiting_task_cancels_the_children)
{
    gather_t g;
    void *results[2];
    op_t *f;
    task_t *t[2] = {worker(NULL, 'a', 1, 1, 0), worker(NULL, 'b', 1, 2, 0)};
    future_t *kids[2] = {task_future(t[0]), task_future(t[1])};
    task_t *outer;

    gather_start(&g, fx.loop, kids, 2, results);
    outer = spawn(&f, 'o', st_future, &g.future);
    fixture_settle(&fx);
    cr_assert_eq(task_cancel(outer), 1);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t[0]), FUTURE_CANCELLED);
    cr_assert_eq(state_of(t[1]), FUTURE_CANCELLED);
    cr_assert_eq(future_state(&g.future), FUTURE_CANCELLED);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(state_of(outer), FUTURE_CANCELLED);
    task_release(outer);
    task_release(t[0]);
    task_release(t[1]);
}

/* ---- wait_for (test_waitfor.py) ---------------------------------------- */

/* A Task that awaits wait_for(inner, limit) and keeps what it raised. */
typedef struct wfer {
    coro_t co;
    future_t *inner;
    double limit;
    int finished;
    int err;
    void *got;
    wait_for_t w;
} wfer_t;

static int wfer_body(coro_t *co)
{
    wfer_t *f = (wfer_t *)co;

    CORO_BEGIN(co);
    CORO_AWAIT_CORO_CATCH(co, wait_for(&f->w, f->inner, f->limit));
    f->finished = 1;
    f->err = co->err;
    f->got = co->in;
    if (f->err)
        CORO_FAIL(co, f->err);
    CORO_RETURN(co, f->got);
    CORO_END(co);
}

static task_t *wfer(wfer_t **frame, future_t *inner, double limit)
{
    wfer_t *f;
    task_t *t = task_create(fx.loop, wfer_body, sizeof *f, (void **)&f);

    cr_assert_not_null(t);
    f->inner = inner;
    f->limit = limit;
    *frame = f;
    return t;
}

/* test_wait_for_timeout_less_then_0_or_0: a negative timeout is a zero
 * one: a pending plain Future is cancelled now and it times out. */
Test(parity_wait_for, a_negative_timeout_times_out_at_once)
{
    future_t inner;
    wfer_t *f;
    task_t *t;

    future_init(&inner, fx.loop);
    t = wfer(&f, &inner, -1);
    fixture_settle(&fx);
    cr_assert_eq(future_state(&inner), FUTURE_CANCELLED);
    cr_assert_eq(f->err, ETIMEDOUT);
    cr_assert_eq(error_of(task_future(t)), ETIMEDOUT);
    task_release(t);
}

/* A zero timeout on a Future that failed already: the error that is
 * there is passed on, not a timeout. */
Test(parity_wait_for, a_zero_timeout_on_a_failed_future_gives_its_error)
{
    future_t inner;
    wfer_t *f;
    task_t *t;

    future_init(&inner, fx.loop);
    future_set_error(&inner, EIO);
    t = wfer(&f, &inner, 0);
    fixture_settle(&fx);
    cr_assert_eq(f->err, EIO);
    cr_assert_eq(error_of(task_future(t)), EIO);
    task_release(t);
}

/* test_wait_for_cancel_suppressed: the inner Task catches the timeout's
 * cancellation and returns a value: that value is the result. */
Test(parity_wait_for, work_that_swallows_the_timeout_gives_its_value)
{
    op_t *fw;
    wfer_t *f;
    task_t *work = worker(&fw, 'a', 10, 0, 0);
    task_t *t;

    fw->swallow = 99;
    t = wfer(&f, task_future(work), 0.1);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(f->err, 0);
    cr_assert_eq((intptr_t)f->got, 99);
    task_release(work);
    task_release(t);
}

/* test_wait_for_reraises_exception_during_cancellation: the inner Task
 * fails another way while being cancelled by the timeout: that error is
 * passed on instead of the timeout. */
Test(parity_wait_for, work_that_fails_on_the_timeout_gives_its_error)
{
    op_t *fw;
    wfer_t *f;
    task_t *work = worker(&fw, 'a', 10, 0, 0);
    task_t *t;

    fw->on_cancel = EIO;
    t = wfer(&f, task_future(work), 0.1);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(f->err, EIO);
    cr_assert_eq(error_of(task_future(t)), EIO);
    task_release(work);
    task_release(t);
}

/* Finished in time, the deadline is disarmed: no timer is left behind. */
Test(parity_wait_for, finishing_in_time_disarms_the_deadline)
{
    wfer_t *f;
    task_t *work = worker(NULL, 'a', 0.1, 8, 0);
    task_t *t = wfer(&f, task_future(work), 5);

    fixture_advance(&fx, 0.2);
    cr_assert_eq(f->err, 0);
    cr_assert_eq((intptr_t)f->got, 8);
    cr_assert_eq(loop_timer_count(fx.loop), 0);
    task_release(work);
    task_release(t);
}

/* test_cancel_wait_for: the Task awaiting wait_for is cancelled: the
 * work is cancelled, the deadline disarmed, and the Task ends cancelled
 * (not timed out). */
Test(parity_wait_for, cancelling_the_awaiting_task_cancels_the_work)
{
    wfer_t *f;
    task_t *work = worker(NULL, 'w', 10, 0, 0);
    task_t *t = wfer(&f, task_future(work), 5);

    fixture_settle(&fx);
    cr_assert_eq(task_cancel(t), 1);
    fixture_settle(&fx);
    cr_assert_eq(state_of(work), FUTURE_CANCELLED);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(loop_timer_count(fx.loop), 0);
    task_release(work);
    task_release(t);
}

/* Work that takes 0.1 s to wind down when cancelled, then re-raises. */
typedef struct winddown {
    coro_t co;
    int wind_err;       /* what interrupted the wind-down, if anything */
    sleeper_t s;
} winddown_t;

static int winddown_body(coro_t *co)
{
    winddown_t *f = (winddown_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, sleep_start(&f->s, 10));
    if (co->err != ECANCELED)
        CORO_FAIL(co, co->err ? co->err : EINVAL);
    AWAIT_CATCH(co, sleep_start(&f->s, 0.1));
    f->wind_err = co->err;
    CORO_FAIL(co, ECANCELED);
    CORO_END(co);
}

/* The Task awaiting wait_for is cancelled while the work, already timed
 * out, is still winding down: asyncio's cancellation wins over the
 * timeout (CancelledError, not TimeoutError), so a caller that handles
 * timeouts cannot swallow it by mistake. */
Test(parity_wait_for, a_cancel_during_the_timeout_clean_up_wins_over_it)
{
    winddown_t *fw;
    wfer_t *f;
    task_t *work = task_create(fx.loop, winddown_body, sizeof *fw,
                               (void **)&fw);
    task_t *t = wfer(&f, task_future(work), 0.1);

    fixture_advance(&fx, 0.15);           /* timed out, winding down */
    cr_assert_eq(state_of(work), FUTURE_PENDING);
    cr_assert_eq(task_cancel(t), 1);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(state_of(work), FUTURE_CANCELLED);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    task_release(work);
    task_release(t);
}

/* Timing out does not leave an unretrieved error behind (the timed-out
 * work ends cancelled, and the timeout is read by the awaiting Task). */
Test(parity_wait_for, a_timed_out_task_is_not_reported,
     .init = cr_redirect_stderr)
{
    wfer_t *f;
    task_t *work, *t;

    setup();
    work = worker(NULL, 'a', 10, 0, 0);
    t = wfer(&f, task_future(work), 0.1);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(error_of(task_future(t)), ETIMEDOUT);
    task_release(work);
    task_release(t);
    fflush(stderr);
    cr_assert_stderr_eq_str("");
}

/* ---- locks (test_locks.py, LockTests) ---------------------------------- */

/* test_cancel_race: A holds, B and C wait, B is cancelled; the release
 * goes to C, and the Lock ends unlocked. */
Test(parity_lock, a_cancelled_waiter_is_skipped_and_the_lock_ends_free)
{
    lock_t l;
    op_t *f[3];
    task_t *t[3];

    log_[0] = 0;
    lock_init(&l, fx.loop);
    for (int i = 0; i < 3; i++) {
        t[i] = spawn(&f[i], (char)('a' + i), st_lock, &l);
        f[i]->after = af_unlock;
        f[i]->hold = 0.1;
    }
    fixture_settle(&fx);
    task_cancel(t[1]);
    fixture_advance(&fx, 0.5);
    cr_assert_str_eq(log_, "ac");
    cr_assert_eq(f[1]->err, ECANCELED);
    cr_assert_eq(lock_locked(&l), 0);
    cr_assert_eq(l.waiters.count, 0);
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

/* test_finished_waiter_cancelled: every waiter cancelled, the release
 * unlocks, and the next acquire does not wait. */
Test(parity_lock, when_every_waiter_was_cancelled_release_unlocks)
{
    lock_t l;
    waiter_t mine, again;
    op_t *f[2];
    task_t *t[2];

    lock_init(&l, fx.loop);
    cr_assert(future_done(lock_acquire(&l, &mine)));
    t[0] = spawn(&f[0], 'a', st_lock, &l);
    t[1] = spawn(&f[1], 'b', st_lock, &l);
    fixture_settle(&fx);
    task_cancel(t[0]);
    task_cancel(t[1]);
    fixture_settle(&fx);
    cr_assert_eq(lock_release(&l), 0);
    cr_assert_eq(lock_locked(&l), 0);
    cr_assert(future_done(lock_acquire(&l, &again)));
    cr_assert_eq(lock_release(&l), 0);
    cr_assert_eq(lock_release(&l), -1);
    cr_assert_eq(errno, EPERM);
    task_release(t[0]);
    task_release(t[1]);
}

/* ---- events (test_locks.py, EventTests) -------------------------------- */

/* test_clear_with_waiters: a waiter woken by set() returns even if the
 * flag is cleared before it runs. */
Test(parity_event, a_woken_waiter_returns_though_cleared_before_it_runs)
{
    event_t e;
    op_t *f;
    task_t *t;

    event_init(&e, fx.loop);
    t = spawn(&f, 'a', st_event, &e);
    fixture_settle(&fx);
    event_set(&e);
    event_clear(&e);
    fixture_settle(&fx);
    cr_assert_eq(f->finished, 1);
    cr_assert_eq(f->err, 0);
    cr_assert_eq(state_of(t), FUTURE_RESULT);
    task_release(t);
}

/* test_wait_cancel: a cancelled waiter leaves; set() later wakes nobody
 * and leaves no waiter behind. */
Test(parity_event, a_cancelled_waiter_leaves_the_list)
{
    event_t e;
    op_t *f;
    task_t *t;

    event_init(&e, fx.loop);
    t = spawn(&f, 'a', st_event, &e);
    fixture_settle(&fx);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(e.waiters.count, 0);
    event_set(&e);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    task_release(t);
}

/* Pins row "a cancel that arrives after the awaited Future finished":
 * woken by set() and cancelled before it runs, the waiter returns from
 * the wait (asyncio would raise CancelledError there) and is cancelled at
 * its next await. */
Test(parity_event, woken_then_cancelled_it_passes_the_wait_and_stops_later)
{
    event_t e;
    op_t *f;
    task_t *t;

    log_[0] = 0;
    event_init(&e, fx.loop);
    t = spawn(&f, 'a', st_event, &e);
    f->hold = 1;
    fixture_settle(&fx);
    event_set(&e);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(f->err, 0);
    cr_assert_str_eq(log_, "a");
    cr_assert_eq(f->hold_err, ECANCELED);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    task_release(t);
}

/* ---- semaphores (test_locks.py, SemaphoreTests) ------------------------ */

/* test_acquire_cancel_before_awoken: with waiters A, B, C and B
 * cancelled, two releases serve A and C, and no unit is left over. */
Test(parity_semaphore, two_releases_skip_a_cancelled_waiter)
{
    semaphore_t s;
    op_t *f[3];
    task_t *t[3];

    log_[0] = 0;
    semaphore_init(&s, fx.loop, 0);
    for (int i = 0; i < 3; i++)
        t[i] = spawn(&f[i], (char)('a' + i), st_sem, &s);
    fixture_settle(&fx);
    task_cancel(t[1]);
    fixture_settle(&fx);
    semaphore_release(&s);
    semaphore_release(&s);
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "ac");
    cr_assert_eq(s.value, 0);
    cr_assert_eq(s.waiters.count, 0);
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

/* test_release_no_waiters / a plain Semaphore grows past its start. */
Test(parity_semaphore, a_plain_semaphore_may_grow_past_its_initial_value)
{
    semaphore_t s;
    waiter_t w[3];

    semaphore_init(&s, fx.loop, 1);
    cr_assert_eq(semaphore_release(&s), 0);
    cr_assert_eq(s.value, 2);
    for (int i = 0; i < 2; i++)
        cr_assert(future_done(semaphore_acquire(&s, &w[i])));
    cr_assert_not(future_done(semaphore_acquire(&s, &w[2])));
    cr_assert_eq(future_cancel(&w[2].future), 1);
    cr_assert_eq(s.waiters.count, 0);
}

/* BoundedSemaphore: acquired and released in pairs it works; one release
 * more is refused and changes nothing. */
Test(parity_semaphore, a_bounded_one_accepts_pairs_and_refuses_one_more)
{
    semaphore_t s;
    op_t *f[3];
    task_t *t[3];

    bounded_semaphore_init(&s, fx.loop, 2);
    for (int i = 0; i < 3; i++) {
        t[i] = spawn(&f[i], (char)('a' + i), st_sem, &s);
        f[i]->hold = 0.1;
        f[i]->after = af_sem_release;
    }
    fixture_advance(&fx, 0.5);
    cr_assert_eq(s.value, 2);
    cr_assert_eq(semaphore_release(&s), -1);
    cr_assert_eq(errno, EOVERFLOW);
    cr_assert_eq(s.value, 2);
    for (int i = 0; i < 3; i++)
        task_release(t[i]);
}

/* Pins the same row for a Semaphore: a unit handed to a waiter that is
 * cancelled before it runs is received, and given back on the way out
 * (its hold is cancelled), so the next waiter gets it. */
Test(parity_semaphore, a_unit_handed_to_a_cancelled_waiter_reaches_the_next)
{
    semaphore_t s;
    waiter_t mine;
    op_t *f[2];
    task_t *t[2];

    log_[0] = 0;
    semaphore_init(&s, fx.loop, 1);
    cr_assert(future_done(semaphore_acquire(&s, &mine)));
    for (int i = 0; i < 2; i++) {
        t[i] = spawn(&f[i], (char)('a' + i), st_sem, &s);
        f[i]->hold = 0.1;
        f[i]->after = af_sem_release;
    }
    fixture_settle(&fx);
    semaphore_release(&s);               /* handed to a */
    task_cancel(t[0]);
    fixture_advance(&fx, 0.5);
    cr_assert_str_eq(log_, "ab");
    cr_assert_eq(f[0]->hold_err, ECANCELED);
    cr_assert_eq(state_of(t[0]), FUTURE_CANCELLED);
    cr_assert_eq(state_of(t[1]), FUTURE_RESULT);
    cr_assert_eq(s.value, 1);
    for (int i = 0; i < 2; i++)
        task_release(t[i]);
}

/* ---- conditions (test_locks.py, ConditionTests) ------------------------ */

typedef struct condwaiter {
    coro_t co;
    char tag;
    condition_t *cond;
    int err;
    int held_after;     /* the Lock was ours once the wait was over */
    waiter_t w;
    cond_wait_t cw;
} condwaiter_t;

static int condwaiter_body(coro_t *co)
{
    condwaiter_t *f = (condwaiter_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, lock_acquire(f->cond->lock, &f->w));
    CORO_AWAIT_CORO_CATCH(co, condition_wait(f->cond, &f->cw));
    f->err = co->err;
    f->held_after = lock_locked(f->cond->lock);
    if (!f->err)
        note(f->tag);
    lock_release(f->cond->lock);
    if (f->err)
        CORO_FAIL(co, f->err);
    CORO_END(co);
}

static task_t *condwaiter(condwaiter_t **frame, char tag, condition_t *c)
{
    condwaiter_t *f;
    task_t *t = task_create(fx.loop, condwaiter_body, sizeof *f, (void **)&f);

    f->tag = tag;
    f->cond = c;
    *frame = f;
    return t;
}

/* test_notify_all / test_notify with n: each woken waiter takes the Lock
 * in turn, in arrival order; notify reports how many it woke. */
Test(parity_condition, notify_all_wakes_everyone_in_order_each_with_the_lock)
{
    lock_t l;
    condition_t c;
    waiter_t mine;
    condwaiter_t *f[3];
    task_t *t[3];

    log_[0] = 0;
    lock_init(&l, fx.loop);
    condition_init(&c, &l);
    for (int i = 0; i < 3; i++)
        t[i] = condwaiter(&f[i], (char)('a' + i), &c);
    fixture_settle(&fx);
    cr_assert_eq(lock_locked(&l), 0);
    cr_assert(future_done(lock_acquire(&l, &mine)));
    cr_assert_eq(condition_notify_all(&c), 3);
    cr_assert_eq(condition_notify(&c, 5), 0);
    lock_release(&l);
    fixture_settle(&fx);
    cr_assert_str_eq(log_, "abc");
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(f[i]->held_after, 1);
        task_release(t[i]);
    }
    cr_assert_eq(lock_locked(&l), 0);
}

/* test_notify_unacquired / notify_all without the Lock: RuntimeError. */
Test(parity_condition, notifying_without_the_lock_fails_with_eperm)
{
    lock_t l;
    condition_t c;

    lock_init(&l, fx.loop);
    condition_init(&c, &l);
    errno = 0;
    cr_assert_eq(condition_notify(&c, 1), -1);
    cr_assert_eq(errno, EPERM);
    errno = 0;
    cr_assert_eq(condition_notify_all(&c), -1);
    cr_assert_eq(errno, EPERM);
}

/* test_wait_cancel_contested: cancelled while someone else holds the
 * Lock, the waiter raises only once it has the Lock back. */
Test(parity_condition, cancelled_while_the_lock_is_held_it_waits_for_the_lock)
{
    lock_t l;
    condition_t c;
    waiter_t mine;
    condwaiter_t *f;
    task_t *t;

    lock_init(&l, fx.loop);
    condition_init(&c, &l);
    t = condwaiter(&f, 'a', &c);
    fixture_settle(&fx);
    cr_assert(future_done(lock_acquire(&l, &mine)));
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t), FUTURE_PENDING);
    lock_release(&l);
    fixture_settle(&fx);
    cr_assert_eq(f->err, ECANCELED);
    cr_assert_eq(f->held_after, 1);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    cr_assert_eq(lock_locked(&l), 0);
    task_release(t);
}

/* test_cancelled_error_re_aquire: notified, then cancelled while taking
 * the Lock back, a waiter still takes it, passes the notification on to
 * the next waiter, and only then raises. */
Test(parity_condition, cancelled_while_taking_the_lock_back_it_passes_it_on)
{
    lock_t l;
    condition_t c;
    waiter_t mine;
    condwaiter_t *f[2];
    task_t *t[2];

    log_[0] = 0;
    lock_init(&l, fx.loop);
    condition_init(&c, &l);
    t[0] = condwaiter(&f[0], 'a', &c);
    t[1] = condwaiter(&f[1], 'b', &c);
    fixture_settle(&fx);
    cr_assert(future_done(lock_acquire(&l, &mine)));
    cr_assert_eq(condition_notify(&c, 1), 1);
    fixture_settle(&fx);                  /* a now waits for the Lock */
    task_cancel(t[0]);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t[0]), FUTURE_PENDING);
    lock_release(&l);
    fixture_settle(&fx);
    cr_assert_eq(f[0]->err, ECANCELED);
    cr_assert_eq(f[0]->held_after, 1);
    cr_assert_eq(state_of(t[0]), FUTURE_CANCELLED);
    cr_assert_str_eq(log_, "b");
    cr_assert_eq(state_of(t[1]), FUTURE_RESULT);
    cr_assert_eq(lock_locked(&l), 0);
    task_release(t[0]);
    task_release(t[1]);
}

/* test_timeout_in_block: wait_for around a Condition wait times out, and
 * the wait still gives the Lock back before it ends. */
Test(parity_condition, a_timed_out_wait_still_takes_the_lock_back)
{
    lock_t l;
    condition_t c;
    wfer_t *fw;
    condwaiter_t *f;
    task_t *t, *outer;

    lock_init(&l, fx.loop);
    condition_init(&c, &l);
    t = condwaiter(&f, 'a', &c);
    outer = wfer(&fw, task_future(t), 0.1);
    fixture_advance(&fx, 0.2);
    cr_assert_eq(fw->err, ETIMEDOUT);
    cr_assert_eq(error_of(task_future(outer)), ETIMEDOUT);
    cr_assert_eq(f->held_after, 1);
    cr_assert_eq(lock_locked(&l), 0);
    cr_assert_eq(c.waiters.count, 0);
    task_release(t);
    task_release(outer);
}

/* ---- queues (test_queues.py) ------------------------------------------- */

/* test_nonblocking_get_exception: get_nowait on an empty queue fails
 * (QueueEmpty); the unbounded default takes any number of puts, in
 * order. */
Test(parity_queue, unbounded_takes_many_and_get_nowait_fails_when_empty)
{
    queue_t q;
    void *item;

    cr_assert_eq(queue_init(&q, fx.loop, 0), 0);
    errno = 0;
    cr_assert_eq(queue_get_nowait(&q, &item), -1);
    cr_assert_eq(errno, EAGAIN);
    for (intptr_t i = 1; i <= 1000; i++)
        cr_assert_eq(queue_put_nowait(&q, (void *)i), 0);
    cr_assert_eq(queue_size(&q), 1000);
    for (intptr_t i = 1; i <= 1000; i++) {
        cr_assert_eq(queue_get_nowait(&q, &item), 0);
        cr_assert_eq((intptr_t)item, i);
    }
    queue_deinit(&q);
}

/* test_nonblocking_put with a waiting getter: put_nowait gives the item to
 * the getter; the queue stays empty. */
Test(parity_queue, put_nowait_feeds_a_waiting_getter)
{
    queue_t q;
    op_t *f;
    task_t *t;

    queue_init(&q, fx.loop, 1);
    t = spawn(&f, 'a', st_get, &q);
    fixture_settle(&fx);
    cr_assert_eq(queue_put_nowait(&q, (void *)(intptr_t)7), 0);
    cr_assert_eq(queue_size(&q), 0);
    fixture_settle(&fx);
    cr_assert_eq((intptr_t)f->got, 7);
    task_release(t);
    queue_deinit(&q);
}

/* test_nonblocking_get with a waiting putter: get_nowait on a full queue
 * takes the oldest item and lets the putter's item in. */
Test(parity_queue, get_nowait_lets_a_waiting_putter_in)
{
    queue_t q;
    void *item;
    op_t *f;
    task_t *t;

    queue_init(&q, fx.loop, 1);
    queue_put_nowait(&q, (void *)(intptr_t)1);
    t = spawn(&f, 'p', st_put, &q);
    f->item = (void *)(intptr_t)2;
    fixture_settle(&fx);
    cr_assert_eq(f->finished, 0);
    cr_assert_eq(queue_get_nowait(&q, &item), 0);
    cr_assert_eq((intptr_t)item, 1);
    cr_assert_eq(queue_size(&q), 1);
    fixture_settle(&fx);
    cr_assert_eq(f->finished, 1);
    cr_assert_eq(f->err, 0);
    cr_assert_eq(queue_get_nowait(&q, &item), 0);
    cr_assert_eq((intptr_t)item, 2);
    task_release(t);
    queue_deinit(&q);
}

/* test_cancelled_getters_not_being_held_in_self_getters and the same for
 * putters: cancelled waiters leave the lists at once. */
Test(parity_queue, cancelled_getters_and_putters_leave_the_lists)
{
    queue_t empty, full;
    op_t *f[2];
    task_t *t[2];

    queue_init(&empty, fx.loop, 1);
    queue_init(&full, fx.loop, 1);
    queue_put_nowait(&full, NULL);
    t[0] = spawn(&f[0], 'g', st_get, &empty);
    t[1] = spawn(&f[1], 'p', st_put, &full);
    fixture_settle(&fx);
    cr_assert_eq(empty.getters.count, 1);
    cr_assert_eq(full.putters.count, 1);
    task_cancel(t[0]);
    task_cancel(t[1]);
    fixture_settle(&fx);
    cr_assert_eq(empty.getters.count, 0);
    cr_assert_eq(full.putters.count, 0);
    cr_assert_eq(queue_size(&full), 1);
    task_release(t[0]);
    task_release(t[1]);
    queue_deinit(&empty);
    queue_deinit(&full);
}

/* test_task_done_too_many / test_join_empty_queue: join with nothing put
 * does not wait; task_done more often than puts is ValueError. */
Test(parity_queue, join_on_a_fresh_queue_passes_and_extra_task_done_fails)
{
    queue_t q;
    waiter_t w;
    void *item;

    queue_init(&q, fx.loop, 0);
    cr_assert(future_done(queue_join(&q, &w)));
    errno = 0;
    cr_assert_eq(queue_task_done(&q), -1);
    cr_assert_eq(errno, EINVAL);
    queue_put_nowait(&q, NULL);
    queue_get_nowait(&q, &item);
    cr_assert_eq(queue_task_done(&q), 0);
    cr_assert_eq(queue_task_done(&q), -1);
    cr_assert_eq(errno, EINVAL);
    queue_deinit(&q);
}

/* test_join: getting items is not enough; join waits for a task_done per
 * put, and a cancelled joiner does not stop the others. */
Test(parity_queue, join_waits_for_every_task_done_and_survives_a_cancel)
{
    queue_t q;
    void *item;
    op_t *f[2];
    task_t *t[2];

    queue_init(&q, fx.loop, 0);
    queue_put_nowait(&q, NULL);
    queue_put_nowait(&q, NULL);
    t[0] = spawn(&f[0], 'x', st_join, &q);
    t[1] = spawn(&f[1], 'y', st_join, &q);
    fixture_settle(&fx);
    queue_get_nowait(&q, &item);
    queue_get_nowait(&q, &item);
    fixture_settle(&fx);
    cr_assert_eq(f[1]->finished, 0);
    task_cancel(t[0]);
    queue_task_done(&q);
    fixture_settle(&fx);
    cr_assert_eq(f[1]->finished, 0);
    queue_task_done(&q);
    fixture_settle(&fx);
    cr_assert_eq(state_of(t[0]), FUTURE_CANCELLED);
    cr_assert_eq(f[1]->finished, 1);
    cr_assert_eq(state_of(t[1]), FUTURE_RESULT);
    task_release(t[0]);
    task_release(t[1]);
    queue_deinit(&q);
}

/* test_cancelled_put_silence_value_error_exception: a putter cancelled
 * while waiting on a full queue leaves no item; the next get_nowait sees
 * only what was put before. */
Test(parity_queue, a_cancelled_putter_adds_nothing_even_after_room_appears)
{
    queue_t q;
    void *item;
    op_t *f;
    task_t *t;

    queue_init(&q, fx.loop, 1);
    queue_put_nowait(&q, (void *)(intptr_t)1);
    t = spawn(&f, 'p', st_put, &q);
    f->item = (void *)(intptr_t)2;
    fixture_settle(&fx);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(queue_get_nowait(&q, &item), 0);
    cr_assert_eq((intptr_t)item, 1);
    cr_assert_eq(queue_size(&q), 0);
    cr_assert_eq(queue_get_nowait(&q, &item), -1);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    task_release(t);
    queue_deinit(&q);
}

/* test_join after more work arrives: once join has passed, a new put
 * makes the next join wait again. */
Test(parity_queue, a_new_put_makes_join_wait_again)
{
    queue_t q;
    waiter_t w1, w2;
    void *item;

    queue_init(&q, fx.loop, 0);
    queue_put_nowait(&q, NULL);
    queue_get_nowait(&q, &item);
    queue_task_done(&q);
    cr_assert(future_done(queue_join(&q, &w1)));
    queue_put_nowait(&q, NULL);
    cr_assert_not(future_done(queue_join(&q, &w2)));
    queue_get_nowait(&q, &item);
    queue_task_done(&q);
    cr_assert(future_done(&w2.future));
    queue_deinit(&q);
}

/* With putters A and B on a full queue and A cancelled, a get lets B's
 * item in (nothing of A's). */
Test(parity_queue, a_get_lets_in_the_putter_after_a_cancelled_one)
{
    queue_t q;
    void *item;
    op_t *f[2];
    task_t *t[2];

    queue_init(&q, fx.loop, 1);
    queue_put_nowait(&q, (void *)(intptr_t)1);
    for (int i = 0; i < 2; i++) {
        t[i] = spawn(&f[i], (char)('a' + i), st_put, &q);
        f[i]->item = (void *)(intptr_t)(10 + i);
    }
    fixture_settle(&fx);
    task_cancel(t[0]);
    fixture_settle(&fx);
    cr_assert_eq(queue_get_nowait(&q, &item), 0);
    cr_assert_eq((intptr_t)item, 1);
    fixture_settle(&fx);
    cr_assert_eq(queue_get_nowait(&q, &item), 0);
    cr_assert_eq((intptr_t)item, 11);
    cr_assert_eq(state_of(t[0]), FUTURE_CANCELLED);
    cr_assert_eq(state_of(t[1]), FUTURE_RESULT);
    for (int i = 0; i < 2; i++)
        task_release(t[i]);
    queue_deinit(&q);
}

/* test_put_cancelled_race, pinning row "a cancel that arrives after the
 * awaited Future finished": a putter whose item went in when room
 * appeared, cancelled before it runs, has put its item; asyncio's putter
 * puts its item itself once it runs, so there put() raises CancelledError
 * and the item is not put (the room goes to the next putter). Here the
 * cancellation reaches it at its next await. */
Test(parity_queue, a_putter_cancelled_after_its_item_went_in_has_put_it)
{
    queue_t q;
    void *item;
    op_t *f;
    task_t *t;

    queue_init(&q, fx.loop, 1);
    queue_put_nowait(&q, (void *)(intptr_t)1);
    t = spawn(&f, 'p', st_put, &q);
    f->item = (void *)(intptr_t)2;
    f->hold = 1;
    fixture_settle(&fx);
    cr_assert_eq(queue_get_nowait(&q, &item), 0);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(f->err, 0);
    cr_assert_eq(f->hold_err, ECANCELED);
    cr_assert_eq(state_of(t), FUTURE_CANCELLED);
    cr_assert_eq(queue_get_nowait(&q, &item), 0);
    cr_assert_eq((intptr_t)item, 2);
    task_release(t);
    queue_deinit(&q);
}
