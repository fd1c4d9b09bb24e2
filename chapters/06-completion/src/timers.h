/**
 * @file timers.h
 * @brief The loop's armed timers, ordered by deadline: one small interface,
 *        two structures, one file each (timers_list.c, timers_heap.c).
 *
 * Both keep the same thing, an array of pointers to the caller's
 * loop_timer_t, and store in each timer's @c index where it sits, so a
 * timer can be removed without a search. They differ in the order they keep:
 *
 * - the sorted list (timers_list.c) keeps the whole array sorted, like
 *   Python's `bisect.insort`: the earliest timer is the first, a new one
 *   is placed by binary search and everything behind it moves up one
 *   slot, O(n);
 * - the binary min-heap (timers_heap.c, Python's `heapq`) keeps only the
 *   heap property: each timer is due no later than its two children. The
 *   earliest is still the first, and adding or removing one moves at most
 *   log2(n) timers.
 *
 * Order is the deadline, then the scheduling sequence number, so timers
 * with equal deadlines come out in the order they were armed.
 *
 * The loop is the only user; chapter 04's tests and benchmark drive both
 * structures through it (loop_options_t::timers).
 */
#ifndef TIMERS_H
#define TIMERS_H

#include <stddef.h>

#include "loop.h"

/** @brief The armed timers of one loop; see struct timers. */
typedef struct timers timers_t;

/** @brief One structure's operations; the rest of timers_t is shared. */
typedef struct timers_ops {
    const char *name; /**< "heap" or "list" */
    /**
     * @brief Insert an unarmed timer whose @c when_s and @c seq are set.
     * @param t the timers; room for one more is already reserved.
     * @param timer the timer; its @c index is set.
     */
    void (*add)(timers_t *t, loop_timer_t *timer);
    /**
     * @brief Remove a timer that is in @p t.
     * @param t the timers.
     * @param timer the timer; its @c index becomes SIZE_MAX.
     */
    void (*remove)(timers_t *t, loop_timer_t *timer);
    /**
     * @brief Remove and return the earliest timer.
     * @param t the timers, not empty.
     * @return the timer; its @c index is SIZE_MAX.
     */
    loop_timer_t *(*pop)(timers_t *t);
} timers_ops_t;

/**
 * @brief Armed timers. Caller storage (the loop embeds one).
 *
 * The array holds pointers to the caller's timers, never owns them. The
 * list uses @c items[first .. first + count); the heap keeps @c first at 0.
 */
struct timers {
    const timers_ops_t *ops; /**< the structure in use */
    loop_timer_t **items;    /**< owned array of borrowed timers */
    size_t first;            /**< index of the earliest (list only) */
    size_t count;            /**< how many are armed */
    size_t cap;              /**< room in @c items */
};

/** @brief The sorted list's operations (timers_list.c). */
extern const timers_ops_t timers_list_ops;
/** @brief The heap's operations (timers_heap.c). */
extern const timers_ops_t timers_heap_ops;

/**
 * @brief Prepare an empty structure of the given kind.
 * @param t caller storage.
 * @param kind LOOP_TIMERS_HEAP or LOOP_TIMERS_LIST.
 */
void timers_init(timers_t *t, loop_timers_kind_t kind);

/**
 * @brief Free the array and disarm every timer still in it (their
 *        @c index becomes SIZE_MAX; the timers themselves are the caller's).
 * @param t initialised timers.
 */
void timers_deinit(timers_t *t);

/**
 * @brief Whether @p a is due before @p b: earlier deadline, or the same
 *        deadline and armed earlier.
 * @param a a timer.
 * @param b another timer.
 * @return 1 if @p a comes first, else 0.
 */
int timers_before(const loop_timer_t *a, const loop_timer_t *b);

/**
 * @brief Insert @p timer (its @c when_s and @c seq set, not in @p t).
 * @param t the timers.
 * @param timer the timer.
 * @return 0; -1 with errno ENOMEM (then @p t is unchanged).
 */
int timers_add(timers_t *t, loop_timer_t *timer);

/**
 * @brief Remove a timer that is in @p t.
 * @param t the timers.
 * @param timer a timer whose @c index says where it is in @p t.
 */
void timers_remove(timers_t *t, loop_timer_t *timer);

/**
 * @brief The earliest timer, left in place.
 * @param t the timers.
 * @return the timer, or NULL when there is none.
 */
loop_timer_t *timers_peek(const timers_t *t);

/**
 * @brief Remove and return the earliest timer.
 * @param t the timers.
 * @return the timer (now unarmed), or NULL when there is none.
 */
loop_timer_t *timers_pop(timers_t *t);

#endif
