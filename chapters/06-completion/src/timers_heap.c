/*
 * timers_heap.c - the timers as a binary min-heap (Python's heapq, and what
 * asyncio keeps in loop._scheduled).
 *
 * The array is a complete binary tree: the children of slot i are 2i+1 and
 * 2i+2. The only order kept is that a parent is due no later than its
 * children, so the earliest timer is items[0] and any change repairs one
 * path from a leaf to the root: O(log n) moves.
 *
 * Each timer remembers its slot in @c index, updated on every move. That is
 * what makes cancel O(log n) too: heapq has no way to find an element, so
 * asyncio marks a cancelled handle and leaves it in the heap until it
 * reaches the top (and rebuilds the heap when too many pile up). libuv
 * does what this file does.
 */
#include "timers.h"

#include <stdint.h>

static void place(timers_t *t, size_t i, loop_timer_t *timer)
{
    t->items[i] = timer;
    timer->index = i;
}

/* [heap-sift] */
/* Move the timer at slot i up while it is due before its parent. */
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

/* Move the timer at slot i down while a child is due before it. */
static void sift_down(timers_t *t, size_t i)
{
    loop_timer_t *timer = t->items[i];

    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= t->count)
            break;
        if (child + 1 < t->count &&
            timers_before(t->items[child + 1], t->items[child]))
            child++; /* the earlier of the two children */
        if (!timers_before(t->items[child], timer))
            break;
        place(t, i, t->items[child]);
        i = child;
    }
    place(t, i, timer);
}
/* [heap-sift] */

static void heap_add(timers_t *t, loop_timer_t *timer)
{
    t->items[t->count] = timer;
    t->count++;
    sift_up(t, t->count - 1);
}

/* [heap-remove] */
/* Fill the hole with the last timer, then repair the order from there:
 * the newcomer may be due earlier than its new parent, or later than a
 * child, never both. */
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
/* [heap-remove] */

static loop_timer_t *heap_pop(timers_t *t)
{
    loop_timer_t *timer = t->items[0];

    heap_remove(t, timer);
    return timer;
}

const timers_ops_t timers_heap_ops = {"heap", heap_add, heap_remove,
                                      heap_pop};
