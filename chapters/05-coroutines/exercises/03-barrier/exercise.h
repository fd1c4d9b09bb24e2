/* Exercise 03-barrier: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

#include "sync.h"

/** A cyclic barrier for one loop's coroutines; caller storage. */
typedef struct barrier {
    loop_t *loop;    /**< the loop */
    size_t parties;  /**< how many make a group, at least 1 */
    waitq_t waiting; /**< the members of the current group so far */
} barrier_t;

/** Make a barrier for groups of @p parties (given). */
void barrier_init(barrier_t *b, loop_t *loop, size_t parties);

/** Arrive and wait for the group: YOUR PART. The Future's result is the
 *  arrival index in the group (intptr_t). */
future_t *barrier_wait(barrier_t *b, waiter_t *w);

#endif
