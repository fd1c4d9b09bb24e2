/* Exercise 02-gather-settled: the interface your answer implements. */
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

/**
 * @brief The done callback settled_start() hangs on each child: YOUR PART.
 *
 * When every child has finished, and not before, the settled Future
 * finishes with @c results as its result; it never fails, whatever the
 * children did. By then, for every index i: @c results[i] is child i's
 * result and @c errors[i] is 0, or @c results[i] is NULL and
 * @c errors[i] is child i's error (ECANCELED for a cancelled child),
 * whatever the arrays held before. Children finish in any order, some
 * perhaps before settled_start() was called, and the same Future may be
 * passed at several indexes (it then has one record, and one call, per
 * index).
 *
 * @param child a child that has finished.
 * @param arg the settled_t.
 */
void settled_child_done(future_t *child, void *arg);

#endif
