/*
 * fakeclock.h - a loop on a clock that moves only when a test moves it,
 * shared by the exercise tests of this chapter (the unit tests in tests/
 * have their own, in test_loop.c).
 *
 *     loop_t *loop = fakeclock_loop();      the clock reads 0
 *     fakeclock_run_at(loop, 9.5);          a few iterations at t = 9.5
 *
 * fakeclock_run_at() queues a callback that does nothing before each
 * iteration, so the loop never has a reason to wait in the selector: a
 * test on the fake clock takes no time and cannot sleep for ever.
 */
#ifndef FAKECLOCK_H
#define FAKECLOCK_H

#include <criterion/criterion.h>

#include "loop.h"

static double fakeclock_now_s;

static inline double fakeclock_read(void *arg)
{
    (void)arg;
    return fakeclock_now_s;
}

static inline void fakeclock_nothing(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

/** A new loop whose clock reads 0 until fakeclock_run_at() moves it. */
static inline loop_t *fakeclock_loop(void)
{
    loop_options_t opt = {.clock = fakeclock_read};

    fakeclock_now_s = 0;
    loop_t *loop = loop_create(&opt);
    cr_assert_not_null(loop, "loop_create() failed (out of descriptors?)");
    return loop;
}

/** Set the clock to @p t_s and run a few iterations there, never waiting. */
static inline void fakeclock_run_at(loop_t *loop, double t_s)
{
    fakeclock_now_s = t_s;
    for (int i = 0; i < 5; i++) {
        loop_call_soon(loop, fakeclock_nothing, NULL);
        loop_run_once(loop);
    }
}

#endif
