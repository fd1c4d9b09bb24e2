/*
 * test_minitask.c - the seven steps and nothing else.
 *
 * A Task cut down to the 7-step flow of CHAPTER.md: no cancellation, no
 * reference counts, no step budget, no trace, no Task awaiting itself.
 * CHAPTER.md shows its step before the real one (src/task.c), and the
 * tests check that this much already drives a coroutine: it awaits
 * Futures that the loop finishes later, gets their results and errors
 * back at the await, and the mini Task finishes with what it returns.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "fixture.h"
#include "task.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(minitask, .init = setup, .fini = teardown, .timeout = 10);

/* [mini-task] */
typedef struct mini_task {
    future_t future;          /* the Task is a Future: its outcome */
    loop_t *loop;
    coro_t *coro;             /* the coroutine it drives */
    future_callback_t wakeup; /* its record on the awaited Future */
    void *in;                 /* what the next step sends in */
    int in_err;
} mini_task_t;

static void mini_step(loop_t *loop, void *arg);

/* 6. the awaited Future finished: queue the next step with its outcome */
static void mini_wakeup(future_t *awaited, void *arg)
{
    mini_task_t *t = arg;

    t->in = NULL;
    t->in_err = 0;
    future_result(awaited, &t->in, &t->in_err);
    loop_call_soon(t->loop, mini_step, t);
}

static void mini_step(loop_t *loop, void *arg)
{
    mini_task_t *t = arg;

    (void)loop;
    /* 1, 7. send the value in; the coroutine runs to its next await */
    if (coro_resume(t->coro, t->in, t->in_err) == CORO_RETURNED) {
        if (t->coro->err != 0)
            future_set_error(&t->future, t->coro->err);
        else
            future_set_result(&t->future, t->coro->out);
        return;
    }
    /* 2. it yielded a Future; 3. hang the wake-up on it. 4. Then return
     * to the loop, which runs other things until 5. an event finishes
     * that Future and its done callbacks run: mini_wakeup() is one. */
    future_add_done_callback(t->coro->out, &t->wakeup, mini_wakeup, t);
}

/* asyncio's loop.create_task(coro): queue the first step. */
static void mini_task_start(mini_task_t *t, loop_t *loop, coro_t *coro)
{
    future_init(&t->future, loop);
    t->loop = loop;
    t->coro = coro;
    t->in = NULL;
    t->in_err = 0;
    loop_call_soon(loop, mini_step, t);
}
/* [mini-task] */

/* Awaits a Future that a loop timer finishes after 1 s, then `gate`
 * (finished by the test), and returns what `gate` gave plus one; an error
 * from `gate` goes up to the Task. (Not sleep_start(): it finds its loop
 * through the running Task, and a mini Task is not one.) */
typedef struct waiter {
    coro_t co;
    future_t *gate;
    future_t tick;
    loop_timer_t timer;
    int slept;
} waiter_t;

static void finish_tick(loop_t *loop, void *arg)
{
    (void)loop;
    future_set_result(arg, NULL);
}

static int waiter_body(coro_t *co)
{
    waiter_t *f = (waiter_t *)co;

    CORO_BEGIN(co);
    future_init(&f->tick, fx.loop);
    loop_timer_init(&f->timer);
    cr_assert_eq(loop_call_later(fx.loop, &f->timer, 1.0, finish_tick,
                                 &f->tick), 0);
    AWAIT(co, &f->tick);
    f->slept = 1;
    AWAIT(co, f->gate);
    CORO_RETURN(co, (void *)((intptr_t)co->in + 1));
    CORO_END(co);
}

Test(minitask, drives_a_coroutine_through_its_awaits_to_its_result)
{
    waiter_t w = { .gate = &(future_t){ 0 } };
    mini_task_t t;
    void *out = NULL;

    future_init(w.gate, fx.loop);
    coro_init(&w.co, waiter_body);
    mini_task_start(&t, fx.loop, &w.co);
    fixture_settle(&fx);
    cr_assert_eq(w.slept, 0, "the sleep must suspend the coroutine");
    fixture_advance(&fx, 1.1);
    cr_assert_eq(w.slept, 1, "the timer's Future must wake the Task");
    cr_assert_not(future_done(&t.future));
    future_set_result(w.gate, (void *)41);
    fixture_settle(&fx);
    cr_assert_eq(future_result(&t.future, &out, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)out, 42, "the awaited result must arrive");
}

Test(minitask, an_error_at_the_await_ends_the_task_with_it)
{
    waiter_t w = { .gate = &(future_t){ 0 } };
    mini_task_t t;
    int err = 0;

    future_init(w.gate, fx.loop);
    coro_init(&w.co, waiter_body);
    mini_task_start(&t, fx.loop, &w.co);
    fixture_advance(&fx, 1.1);
    future_set_error(w.gate, EPIPE);
    fixture_settle(&fx);
    cr_assert_eq(future_result(&t.future, NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, EPIPE);
}
