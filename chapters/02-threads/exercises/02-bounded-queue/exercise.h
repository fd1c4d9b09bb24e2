/* Exercise 02-bounded-queue: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <pthread.h>
#include <stddef.h>

/** A fixed-capacity FIFO of longs shared by producer and worker threads. */
typedef struct bq {
    pthread_mutex_t lock;     /**< guards every field below */
    pthread_cond_t not_full;  /**< signalled when a slot frees up */
    pthread_cond_t not_empty; /**< signalled when an item arrives */
    long *items;              /**< ring buffer of @c capacity; owned here */
    size_t capacity;          /**< slots in @c items */
    size_t head;              /**< index of the oldest item */
    size_t count;             /**< items in the queue */
    int closed;               /**< set by bq_close() */
} bq_t;

/** Make an empty queue with room for @p capacity items; 0 or -1 (ENOMEM). */
int bq_init(bq_t *q, size_t capacity);

/** Append @p item, waiting while the queue is full.
 *  Returns 0, or -1 if the queue is (or becomes) closed. */
int bq_put(bq_t *q, long item);

/** Take the oldest item into @p *item, waiting while the queue is empty.
 *  Returns 1 with an item, or 0 when the queue is closed and empty. */
int bq_get(bq_t *q, long *item);

/** No more puts: wake every waiting thread. Items already queued remain. */
void bq_close(bq_t *q);

/** Release the queue; no thread may be using it. */
void bq_destroy(bq_t *q);

#endif
