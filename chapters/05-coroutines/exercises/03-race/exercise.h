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

/** The done callback on each child: YOUR PART. @p arg is the race_t. */
void race_child_done(future_t *child, void *arg);

#endif
