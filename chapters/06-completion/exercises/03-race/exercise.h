/* Exercise 03-race: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

#include "future.h"

/** A race among n Futures; caller storage. */
typedef struct race {
    future_t future;            /**< finishes as the winner did */
    future_t **children;        /**< the caller's array of n Futures */
    future_callback_t *records; /**< one per child (the caller's array) */
    size_t n;                   /**< how many children */
    size_t left;                /**< children not finished yet */
    future_t *winner;           /**< the first child to finish, or NULL */
} race_t;

/** Start the race among @p n >= 1 pending children (given). */
future_t *race_start(race_t *r, loop_t *loop, future_t **children, size_t n,
                     future_callback_t *records);

/**
 * @brief The done callback race_start() hangs on each child: YOUR PART.
 *
 * The first child to finish is the winner, and the race finishes as it
 * did: its result, or its error (ECANCELED if it was cancelled). A child
 * that finishes later changes nothing. As soon as the winner is known,
 * every other child is cancelled (a Task may take a while to clean up);
 * the race itself finishes only once every child has finished, so that
 * its storage may be freed as soon as it is done. Cancelling a plain
 * Future runs its callbacks at once, inside future_cancel(): this
 * callback may be entered again while it runs.
 *
 * @param child a child that has finished.
 * @param arg the race_t.
 */
void race_child_done(future_t *child, void *arg);

#endif
