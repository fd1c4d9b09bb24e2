/*
 * timers_list.c - the timers as one sorted array, the simplest timer
 * queue: a Python list kept in order with bisect.insort.
 *
 * The earliest timer is always items[first], so finding it is free and
 * popping it only moves @c first forward (Python's `del timers[0]` moves
 * every element instead). Inserting finds the place by binary search in
 * O(log n) comparisons, but then every later timer moves up one slot and
 * learns its new index: O(n) work per insertion and per cancel. That is
 * the cost the heap in timers_heap.c removes.
 */
#include "timers.h"

#include <stdint.h>
#include <string.h>

/* [list-insort] */
/* The first position in the sorted range whose timer comes after @p timer:
 * bisect_right, so a new timer goes behind those with the same deadline. */
static size_t bisect(const timers_t *t, const loop_timer_t *timer)
{
    size_t lo = t->first, hi = t->first + t->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (timers_before(timer, t->items[mid]))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void list_add(timers_t *t, loop_timer_t *timer)
{
    size_t pos = bisect(t, timer);
    size_t end = t->first + t->count; /* timers_add() made room at end */

    memmove(t->items + pos + 1, t->items + pos,
            (end - pos) * sizeof *t->items);
    for (size_t i = pos + 1; i <= end; i++)
        t->items[i]->index = i; /* the O(n) part */
    t->items[pos] = timer;
    timer->index = pos;
    t->count++;
}
/* [list-insort] */

static void list_remove(timers_t *t, loop_timer_t *timer)
{
    size_t pos = timer->index;
    size_t end = t->first + t->count;

    if (pos == t->first) {
        t->first++; /* the earliest: nothing moves */
    } else {
        memmove(t->items + pos, t->items + pos + 1,
                (end - pos - 1) * sizeof *t->items);
        for (size_t i = pos; i < end - 1; i++)
            t->items[i]->index = i;
    }
    t->count--;
    if (t->count == 0)
        t->first = 0;
    timer->index = SIZE_MAX;
}

static loop_timer_t *list_pop(timers_t *t)
{
    loop_timer_t *timer = t->items[t->first];

    list_remove(t, timer);
    return timer;
}

const timers_ops_t timers_list_ops = {"list", list_add, list_remove,
                                      list_pop};
