/* wrong: pop takes the earliest timer out without marking it unarmed (its index stays 0) | expect: it must say SIZE_MAX */
#include "exercise.h"

#include <stdint.h>

#define ARITY 4

static void put(timers_t *t, size_t slot, loop_timer_t *timer)
{
    t->items[slot] = timer;
    timer->index = slot;
}

/* The timer for @p slot, or one of its ancestors' slots: parents due
 * after it move down one level each, then it takes the slot left free. */
static void move_up(timers_t *t, size_t slot, loop_timer_t *timer)
{
    while (slot > 0) {
        size_t parent = (slot - 1) / ARITY;
        if (!timers_before(timer, t->items[parent]))
            break;
        put(t, slot, t->items[parent]);
        slot = parent;
    }
    put(t, slot, timer);
}

/* The earliest child of @p slot, or SIZE_MAX when it has none. */
static size_t earliest_child(const timers_t *t, size_t slot)
{
    size_t first = ARITY * slot + 1;

    if (first >= t->count)
        return SIZE_MAX;
    size_t end = first + ARITY < t->count ? first + ARITY : t->count;
    size_t best = first;
    for (size_t c = first + 1; c < end; c++)
        if (timers_before(t->items[c], t->items[best]))
            best = c;
    return best;
}

static void move_down(timers_t *t, size_t slot, loop_timer_t *timer)
{
    for (;;) {
        size_t child = earliest_child(t, slot);
        if (child == SIZE_MAX || !timers_before(t->items[child], timer))
            break;
        put(t, slot, t->items[child]);
        slot = child;
    }
    put(t, slot, timer);
}

static void quad_add(timers_t *t, loop_timer_t *timer)
{
    t->count++;
    move_up(t, t->count - 1, timer);
}

/* The last timer fills the hole. It came from another branch of the
 * tree, so it may be due before the hole's parent (then it moves up) or
 * after one of the hole's children (then down); never both. */
static void quad_remove(timers_t *t, loop_timer_t *timer)
{
    size_t hole = timer->index;
    loop_timer_t *last = t->items[t->count - 1];

    t->count--;
    timer->index = SIZE_MAX;
    if (last == timer)
        return;
    if (hole > 0 && timers_before(last, t->items[(hole - 1) / ARITY]))
        move_up(t, hole, last);
    else
        move_down(t, hole, last);
}

static loop_timer_t *quad_pop(timers_t *t)
{
    loop_timer_t *earliest = t->items[0];
    loop_timer_t *last = t->items[t->count - 1];

    t->count--;
    if (last != earliest)
        move_down(t, 0, last);
    return earliest;
}

const timers_ops_t quad_heap_ops = {"quad-heap", quad_add, quad_remove,
                                    quad_pop};
