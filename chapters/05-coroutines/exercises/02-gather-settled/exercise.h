/* Exercise 01-gather-settled: the interface your answer implements. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

#include "future.h"

/** Waiting for every child; caller storage. */
typedef struct settled {
    future_t future;            /**< finishes with @c results, never fails */
    future_t **children;        /**< the caller's array of n Futures */
    void **results;             /**< result i, or NULL if child i failed */
    int *errors;                /**< 0, or child i's error (ECANCELED) */
    future_callback_t *records; /**< one per child (the caller's array) */
    size_t n;                   /**< how many children */
    size_t left;                /**< children not finished yet */
} settled_t;

/** Start waiting for all @p n children (given: see starter.c). */
future_t *settled_start(settled_t *s, loop_t *loop, future_t **children,
                        size_t n, void **results, int *errors,
                        future_callback_t *records);

/** The done callback on each child: YOUR PART. @p arg is the settled_t. */
void settled_child_done(future_t *child, void *arg);

#endif
