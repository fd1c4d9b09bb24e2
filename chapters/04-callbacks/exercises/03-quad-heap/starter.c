/*
 * starter.c - exercise 03-quad-heap: your answer starts here. The three
 * operations compile and do nothing; see exercise.h for what they must
 * do and EXERCISE.md for how the tests and the benchmark use them.
 */
#include "exercise.h"

#include <stdint.h>

static void quad_add(timers_t *t, loop_timer_t *timer)
{
    (void)t;
    (void)timer;
}

static void quad_remove(timers_t *t, loop_timer_t *timer)
{
    (void)t;
    (void)timer;
}

static loop_timer_t *quad_pop(timers_t *t)
{
    (void)t;
    return NULL;
}

const timers_ops_t quad_heap_ops = {"quad-heap", quad_add, quad_remove,
                                    quad_pop};
