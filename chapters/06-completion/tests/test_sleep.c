/*
 * test_sleep.c - sleep_start(): asyncio.sleep() on the loop of the Task
 * that sleeps, and a clear stop outside any Task. (Wake-up order and
 * cancellation are in test_task.c.)
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>

#include "fixture.h"
#include "sleep.h"
#include "task.h"

static fixture_t fx, other;

static void setup(void)
{
    fixture_start(&fx);
    fixture_start(&other);
}

static void teardown(void)
{
    fixture_stop(&other);
    fixture_stop(&fx);
}

static void quiet_setup(void)
{
    cr_redirect_stderr();
    setup();
}

TestSuite(sleep, .init = setup, .fini = teardown, .timeout = 10);

typedef struct sleepy {
    coro_t co;
    sleeper_t s;
    double delay_s;
    int woke;
} sleepy_t;

static int sleepy_body(coro_t *co)
{
    sleepy_t *f = (sleepy_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, sleep_start(&f->s, f->delay_s));
    f->woke = 1;
    CORO_END(co);
}

static task_t *sleepy(loop_t *loop, double delay_s, sleepy_t **frame)
{
    task_t *t = task_create(loop, sleepy_body, sizeof **frame,
                            (void **)frame);

    cr_assert_not_null(t);
    (*frame)->delay_s = delay_s;
    return t;
}

/* Two loops, a sleeper on each: each timer goes on its own Task's loop
 * (a sleep that took "the" loop from anywhere else would put both on one
 * and wake one of them on the other loop's clock). */
Test(sleep, the_timer_goes_on_the_loop_of_the_sleeping_task)
{
    sleepy_t *here, *there;
    task_t *a = sleepy(fx.loop, 1.0, &here);
    task_t *b = sleepy(other.loop, 2.0, &there);

    fixture_settle(&fx);
    cr_assert_eq(loop_timer_count(fx.loop), 1);
    cr_assert_eq(loop_timer_count(other.loop), 0, "armed on the other loop");
    fixture_settle(&other);
    cr_assert_eq(loop_timer_count(other.loop), 1);
    cr_assert_eq(loop_timer_count(fx.loop), 1);
    fixture_advance(&fx, 1.1);
    cr_assert(here->woke);
    cr_assert(!there->woke, "woken by a clock that is not its loop's");
    fixture_advance(&other, 1.9);
    cr_assert(!there->woke, "woke before its delay on its own clock");
    fixture_advance(&other, 0.2);
    cr_assert(there->woke);
    cr_assert_eq(future_result(task_future(b), NULL, NULL), FUTURE_OK);
    task_release(a);
    task_release(b);
}

/* Nothing outside a Task could await the sleep, and there is no running
 * loop to put its timer on: a programmer error, said and stopped. */
Test(sleep, outside_a_task_it_says_so_and_aborts, .signal = SIGABRT,
     .init = quiet_setup)
{
    sleeper_t s;

    sleep_start(&s, 1.0);
}

Test(sleep, a_zero_delay_outside_a_task_aborts_too, .signal = SIGABRT,
     .init = quiet_setup)
{
    sleeper_t s;

    sleep_start(&s, 0);
}
