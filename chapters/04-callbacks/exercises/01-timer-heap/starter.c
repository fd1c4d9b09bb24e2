/* Exercise 01-timer-heap: your answer. See EXERCISE.md. */
#include "exercise.h"

#include <stdint.h>

static void place(timers_t *t, size_t i, loop_timer_t *timer)
{
    t->items[i] = timer;
    timer->index = i;
}

/* Move the timer at slot i up while it is due before its parent. */
static void sift_up(timers_t *t, size_t i)
{
    /* ---- TODO(exercise): your code here --------------------------------
     * While i > 0 and the timer is due before its parent (i - 1) / 2,
     * move the parent down into slot i and continue from the parent's
     * slot. Then place() the timer where it stopped.
     * ------------------------------------------------------------------- */
    (void)t;
    (void)i;
    (void)place;
}

/* Move the timer at slot i down while a child is due before it. */
static void sift_down(timers_t *t, size_t i)
{
    /* ---- TODO(exercise): your code here --------------------------------
     * Children of i are 2i + 1 and 2i + 2 (when < t->count). Take the
     * earlier one; if it is due before the timer, move it up into slot i
     * and continue from its slot. Then place() the timer.
     * ------------------------------------------------------------------- */
    (void)t;
    (void)i;
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
