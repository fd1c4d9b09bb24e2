/*
 * test_shield.c - shield against asyncio.shield's behaviour (CPython's
 * test_tasks.py: shield_result, shield_exception, shield_cancel_inner,
 * shield_cancel_outer, shield_shortcut, shield_effect).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "shield.h"
#include "sleep.h"
#include "task.h"

static fixture_t fx;
static void setup(void) { fixture_start(&fx); }
static void teardown(void) { fixture_stop(&fx); }

TestSuite(shield, .init = setup, .fini = teardown, .timeout = 10);

Test(shield, passes_the_inner_result_out)
{
    future_t inner;
    shield_t s;
    void *result = NULL;

    future_init(&inner, fx.loop);
    future_t *outer = shield_start(&s, fx.loop, &inner);
    cr_assert_neq(outer, &inner);
    cr_assert(!future_done(outer));
    future_set_result(&inner, (void *)42);
    cr_assert_eq(future_result(outer, &result, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)result, 42);
}

Test(shield, passes_the_inner_error_out)
{
    future_t inner;
    shield_t s;
    int err = 0;

    future_init(&inner, fx.loop);
    future_t *outer = shield_start(&s, fx.loop, &inner);
    future_set_error(&inner, ECONNRESET);
    cr_assert_eq(future_result(outer, NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, ECONNRESET);
}

Test(shield, cancelling_the_inner_future_cancels_the_outer)
{
    future_t inner;
    shield_t s;

    future_init(&inner, fx.loop);
    future_t *outer = shield_start(&s, fx.loop, &inner);
    cr_assert_eq(future_cancel(&inner), 1);
    cr_assert_eq(future_state(outer), FUTURE_CANCELLED);
}

Test(shield, cancelling_the_outer_leaves_the_inner_running)
{
    future_t inner;
    shield_t s;
    void *result = NULL;

    future_init(&inner, fx.loop);
    future_t *outer = shield_start(&s, fx.loop, &inner);
    cr_assert_eq(future_cancel(outer), 1);
    cr_assert_eq(future_state(outer), FUTURE_CANCELLED);
    cr_assert_eq(future_state(&inner), FUTURE_PENDING);
    /* The shield let go of the inner Future: its storage may be reused
     * now, and the inner outcome still lands, on the inner Future. */
    memset(&s, 0xa5, sizeof s);
    cr_assert_eq(future_set_result(&inner, (void *)7), FUTURE_OK);
    cr_assert_eq(future_result(&inner, &result, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)result, 7);
}

Test(shield, a_finished_future_is_returned_itself)
{
    future_t inner;
    shield_t s;

    future_init(&inner, fx.loop);
    future_set_result(&inner, NULL);
    cr_assert_eq(shield_start(&s, fx.loop, &inner), &inner);
}

/* The asyncio example: a Task awaits a shielded child Task; cancelling
 * the parent does not cancel the child, which runs to its end. */
typedef struct child {
    coro_t co;
    sleeper_t sleep;
    int finished;
} child_t;

static int child_body(coro_t *co)
{
    child_t *f = (child_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, sleep_start(&f->sleep, 0.5));
    f->finished = 1;
    CORO_RETURN(co, (void *)99);
    CORO_END(co);
}

typedef struct parent {
    coro_t co;
    task_t *child;
    shield_t guard;
    int got_err;
    void *got;
} parent_t;

static int parent_body(coro_t *co)
{
    parent_t *f = (parent_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, shield_start(&f->guard, fx.loop, task_future(f->child)));
    f->got_err = co->err;
    f->got = co->in;
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_RETURN(co, co->in);
    CORO_END(co);
}

Test(shield, cancelling_the_awaiting_task_spares_the_shielded_task)
{
    child_t *c;
    parent_t *p;
    task_t *child = task_create(fx.loop, child_body, sizeof *c, (void **)&c);
    task_t *parent = task_create(fx.loop, parent_body, sizeof *p,
                                 (void **)&p);
    void *result = NULL;

    p->child = child;
    fixture_advance(&fx, 0.1);
    cr_assert_eq(task_cancel(parent), 1);
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(parent)), FUTURE_CANCELLED);
    cr_assert_eq(p->got_err, ECANCELED);
    cr_assert_eq(future_state(task_future(child)), FUTURE_PENDING);
    fixture_advance(&fx, 0.5);
    cr_assert_eq(c->finished, 1);
    cr_assert_eq(future_result(task_future(child), &result, NULL), FUTURE_OK);
    cr_assert_eq((intptr_t)result, 99);
    task_release(parent);
    task_release(child);
}

Test(shield, an_uncancelled_awaiter_gets_the_inner_result)
{
    child_t *c;
    parent_t *p;
    task_t *child = task_create(fx.loop, child_body, sizeof *c, (void **)&c);
    task_t *parent = task_create(fx.loop, parent_body, sizeof *p,
                                 (void **)&p);
    void *result = NULL;

    p->child = child;
    fixture_advance(&fx, 0.6);
    cr_assert_eq(future_result(task_future(parent), &result, NULL),
                 FUTURE_OK);
    cr_assert_eq((intptr_t)result, 99);
    task_release(parent);
    task_release(child);
}
