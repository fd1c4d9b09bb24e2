/* wrong: keeps the whole array sorted (sorted order is heap order too), moving every later timer at each add and pop | expect: or does it keep the whole array sorted */
#include "exercise.h"

#include <stdint.h>

#define ARITY 4

/* The array stays sorted: every slot is due no earlier than the one
 * before it, so it is in heap order too. */
static void quad_add(timers_t *t, loop_timer_t *timer)
{
    size_t slot = t->count++;

    while (slot > 0 && timers_before(timer, t->items[slot - 1])) {
        t->items[slot] = t->items[slot - 1];
        t->items[slot]->index = slot;
        slot--;
    }
    t->items[slot] = timer;
    timer->index = slot;
}

static void quad_remove(timers_t *t, loop_timer_t *timer)
{
    for (size_t i = timer->index; i + 1 < t->count; i++) {
        t->items[i] = t->items[i + 1];
        t->items[i]->index = i;
    }
    t->count--;
    timer->index = SIZE_MAX;
}

static loop_timer_t *quad_pop(timers_t *t)
{
    loop_timer_t *earliest = t->items[0];

    quad_remove(t, earliest);
    return earliest;
}

const timers_ops_t quad_heap_ops = {"quad-heap", quad_add, quad_remove,
                                    quad_pop};
