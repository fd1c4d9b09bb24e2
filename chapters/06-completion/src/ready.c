/*
 * ready.c - the ready queue as a ring buffer that doubles when full.
 *
 * A linked list of malloc'ed nodes would do, at one allocation per
 * callback; the ring allocates only when it grows, which is what makes
 * call_soon cheap enough to benchmark against libuv.
 */
#include "ready.h"

#include <errno.h>
#include <stdlib.h>

void ready_deinit(ready_queue_t *q)
{
    free(q->items);
    q->items = NULL;
    q->cap = 0;
    q->head = q->tail = 0;
}

size_t ready_len(const ready_queue_t *q)
{
    return (size_t)(q->tail - q->head);
}

/* The ring's slots are positions modulo cap; a bigger cap moves each item
 * to its new slot, and positions stay what they were. */
int ready_reserve(ready_queue_t *q, size_t n)
{
    size_t need = (size_t)(q->tail - q->head) + n;
    if (need <= q->cap)
        return 0;
    size_t cap = q->cap ? q->cap : 64;
    while (cap < need)
        cap *= 2;
    ready_item_t *items = malloc(cap * sizeof *items);
    if (items == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (uint64_t pos = q->head; pos != q->tail; pos++)
        items[pos & (cap - 1)] = q->items[pos & (q->cap - 1)];
    free(q->items);
    q->items = items;
    q->cap = cap;
    return 0;
}

int ready_push(ready_queue_t *q, const ready_item_t *item, uint64_t *pos)
{
    /* Room is checked here, without a call: every callback queued and
     * every event reported comes through this function. */
    if (q->tail - q->head >= q->cap && ready_reserve(q, 1) < 0)
        return -1;
    q->items[q->tail & (q->cap - 1)] = *item;
    if (pos)
        *pos = q->tail;
    q->tail++;
    return 0;
}

ready_item_t ready_pop(ready_queue_t *q)
{
    ready_item_t item = q->items[q->head & (q->cap - 1)];
    q->head++;
    return item;
}

ready_item_t *ready_at(ready_queue_t *q, uint64_t pos)
{
    return &q->items[pos & (q->cap - 1)];
}
