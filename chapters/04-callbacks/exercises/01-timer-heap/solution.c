/* Exercise 01-timer-heap: the reference solution. */
#include "exercise.h"

#include <stdint.h>

static void place(timers_t *t, size_t i, loop_timer_t *timer)
{
    t->items[i] = timer;
    timer->index = i;
}

static void sift_up(timers_t *t, size_t i)
{
    loop_timer_t *timer = t->items[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timers_before(timer, t->items[parent]))
            break;
        place(t, i, t->items[parent]);
        i = parent;
    }
    place(t, i, timer);
}

static void sift_down(timers_t *t, size_t i)
{
    loop_timer_t *timer = t->items[i];

    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= t->count)
            break;
        if (child + 1 < t->count &&
            timers_before(t->items[child + 1], t->items[child]))
            child++;
        if (!timers_before(t->items[child], timer))
            break;
        place(t, i, t->items[child]);
        i = child;
    }
    place(t, i, timer);
}

/* ---- given: the operations built on the two sifts ---------------------- */

static void heap_add(timers_t *t, loop_timer_t *timer)
{
    t->items[t->count] = timer;
    t->count++;
    sift_up(t, t->count - 1);
}

static void heap_remove(timers_t *t, loop_timer_t *timer)
{
    size_t i = timer->index;
    loop_timer_t *last = t->items[t->count - 1];

    t->count--;
    timer->index = SIZE_MAX;
    if (last == timer)
        return;
    place(t, i, last);
    if (i > 0 && timers_before(last, t->items[(i - 1) / 2]))
        sift_up(t, i);
    else
        sift_down(t, i);
}

static loop_timer_t *heap_pop(timers_t *t)
{
    loop_timer_t *timer = t->items[0];

    heap_remove(t, timer);
    return timer;
}

const timers_ops_t exercise_heap_ops = {"exercise-heap", heap_add,
                                        heap_remove, heap_pop};
