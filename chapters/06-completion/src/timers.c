/*
 * timers.c - what the two timer structures share: the array of pointers,
 * its growth, the ordering, and the dispatch to the chosen structure.
 */
#include "timers.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void timers_init(timers_t *t, loop_timers_kind_t kind)
{
    memset(t, 0, sizeof *t);
    t->ops = kind == LOOP_TIMERS_LIST ? &timers_list_ops : &timers_heap_ops;
}

void timers_deinit(timers_t *t)
{
    for (size_t i = 0; i < t->count; i++)
        t->items[t->first + i]->index = SIZE_MAX;
    free(t->items);
    t->items = NULL;
    t->first = t->count = t->cap = 0;
}

/* [timers-before] */
int timers_before(const loop_timer_t *a, const loop_timer_t *b)
{
    if (a->when_s != b->when_s)
        return a->when_s < b->when_s;
    return a->seq < b->seq; /* equal deadlines: first armed, first out */
}
/* [timers-before] */

/* Make room for one more at the end of the array. The list, which lets
 * @c first creep forward as it pops, slides its timers back to the start
 * before it asks for more memory. */
static int reserve_one(timers_t *t)
{
    if (t->first + t->count < t->cap)
        return 0;
    if (t->first > 0) {
        memmove(t->items, t->items + t->first, t->count * sizeof *t->items);
        t->first = 0;
        for (size_t i = 0; i < t->count; i++)
            t->items[i]->index = i;
        return 0;
    }
    size_t cap = t->cap ? 2 * t->cap : 64;
    loop_timer_t **items = realloc(t->items, cap * sizeof *items);
    if (items == NULL) {
        errno = ENOMEM;
        return -1;
    }
    t->items = items;
    t->cap = cap;
    return 0;
}

int timers_add(timers_t *t, loop_timer_t *timer)
{
    if (reserve_one(t) < 0)
        return -1;
    t->ops->add(t, timer);
    return 0;
}

void timers_remove(timers_t *t, loop_timer_t *timer)
{
    t->ops->remove(t, timer);
}

loop_timer_t *timers_peek(const timers_t *t)
{
    return t->count ? t->items[t->first] : NULL;
}

loop_timer_t *timers_pop(timers_t *t)
{
    return t->count ? t->ops->pop(t) : NULL;
}
