/**
 * @file ready.h
 * @brief The loop's ready queue: callbacks waiting for their turn, first
 *        in, first out (asyncio's loop._ready, a deque of handles).
 *
 * A growable ring buffer. Positions are counted from the queue's creation
 * and never reused, so an item can be found again (and cancelled in place)
 * by the position ready_push() returned, however the ring grows meanwhile.
 *
 * Items are small values, not allocations: queuing a callback allocates
 * nothing once the ring is big enough.
 */
#ifndef READY_H
#define READY_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

/** @brief What a queued item runs. */
typedef enum ready_kind {
    READY_CALL,      /**< loop_call_soon(): @c cb (@c arg) */
    READY_TIMER,     /**< a due timer: its own cb and arg, read at run time */
    READY_READER,    /**< the reader of @c fd, if still the one registered */
    READY_WRITER,    /**< the writer of @c fd, likewise */
    READY_CANCELLED, /**< cancelled while queued: skipped */
} ready_kind_t;

/** @brief One queued item; a plain value. */
typedef struct ready_item {
    ready_kind_t kind;   /**< what to run */
    loop_cb *cb;         /**< READY_CALL: the callback */
    void *arg;           /**< READY_CALL: its argument */
    loop_timer_t *timer; /**< READY_TIMER: the caller's timer (borrowed) */
    int fd;              /**< READY_READER / READY_WRITER: the descriptor */
    unsigned gen;        /**< ... and its registration's generation */
} ready_item_t;

/** @brief The queue. Caller storage; zero-filled is an empty queue. */
typedef struct ready_queue {
    ready_item_t *items; /**< owned ring of @c cap items (a power of two) */
    size_t cap;          /**< ring size */
    uint64_t head;       /**< position of the oldest item */
    uint64_t tail;       /**< position the next push gets */
} ready_queue_t;

/**
 * @brief Free the ring.
 * @param q a queue; it is empty afterwards.
 */
void ready_deinit(ready_queue_t *q);

/**
 * @brief How many items are queued.
 * @param q a queue.
 * @return the count.
 */
size_t ready_len(const ready_queue_t *q);

/**
 * @brief Make sure @p n more items fit without allocating.
 * @param q a queue.
 * @param n how many pushes must not fail.
 * @return 0; -1 with errno ENOMEM.
 */
int ready_reserve(ready_queue_t *q, size_t n);

/**
 * @brief Append an item.
 * @param q a queue.
 * @param item copied into the queue.
 * @param[out] pos the item's position, if not NULL (for ready_at()).
 * @return 0; -1 with errno ENOMEM.
 */
int ready_push(ready_queue_t *q, const ready_item_t *item, uint64_t *pos);

/**
 * @brief Take the oldest item out.
 * @param q a queue, not empty.
 * @return the item.
 */
ready_item_t ready_pop(ready_queue_t *q);

/**
 * @brief The item still queued at position @p pos.
 * @param q a queue.
 * @param pos a position ready_push() gave, not yet popped.
 * @return the item, to be changed in place (to READY_CANCELLED, say).
 */
ready_item_t *ready_at(ready_queue_t *q, uint64_t pos);

#endif
