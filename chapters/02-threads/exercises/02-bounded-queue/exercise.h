/*
 * exercise.h - exercise 02-bounded-queue: the interface your answer
 * implements.
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <pthread.h>
#include <stddef.h>

/**
 * @brief A first-in first-out queue of at most @c capacity longs, shared by
 *        producer threads (bq_put()) and worker threads (bq_get()).
 *        Caller storage, set up by bq_init(), released by bq_destroy().
 *
 * The tests read these fields only to provoke spurious wake-ups: they lock
 * @c lock and broadcast both condition variables, as POSIX allows a wait to
 * return without any signal.
 */
typedef struct bq {
    pthread_mutex_t lock;     /**< guards every field below */
    pthread_cond_t not_full;  /**< where producers wait for room */
    pthread_cond_t not_empty; /**< where workers wait for an item */
    long *items;              /**< ring buffer of @c capacity; owned here */
    size_t capacity;          /**< slots in @c items */
    size_t head;              /**< index of the oldest item */
    size_t count;             /**< items in the queue */
    int closed;               /**< set by bq_close() */
} bq_t;

/**
 * @brief Make an empty, open queue with room for @p capacity items.
 * @return 0, or -1 with errno set: EINVAL if @p capacity is 0, ENOMEM.
 */
int bq_init(bq_t *q, size_t capacity);

/**
 * @brief Append @p item, waiting (asleep, not spinning) while the queue is
 *        full.
 * @return 0 once the item is queued; -1 if the queue is closed, or is
 *         closed while this call waits (the item is then not queued).
 */
int bq_put(bq_t *q, long item);

/**
 * @brief Take the oldest item into @p *item, waiting (asleep, not
 *        spinning) while the queue is empty and open.
 *
 * Items queued before bq_close() are still handed out after it.
 *
 * @return 1 with an item; 0 once the queue is closed and empty.
 */
int bq_get(bq_t *q, long *item);

/**
 * @brief No more puts. Every thread waiting in bq_put() or bq_get() must
 *        return (puts with -1; gets with what is left, then 0).
 *        Calling it twice is harmless.
 */
void bq_close(bq_t *q);

/** @brief Release the queue. No thread may be using it any more. */
void bq_destroy(bq_t *q);

#endif
