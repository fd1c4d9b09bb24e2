/**
 * @file gather.h
 * @brief Combining Futures: gather (all of them, results in argument
 *        order). wait_for is in timeout.h, built on a timeout scope.
 *
 * A gather is a Future of its own, made in caller storage, so a coroutine
 * awaits it like anything else:
 * @code
 * AWAIT(co, gather_start(&f->all, loop, f->children, 3, f->results));
 * @endcode
 *
 * Lifetime rule: it finishes only once nothing it started still points
 * into its storage, so the storage may be freed as soon as it has
 * finished. A gather that fails on a first error takes
 * its callback records back from the other children (which keep running:
 * cancel them yourself if you want them stopped, as in asyncio).
 *
 * Loop thread only (loop.h).
 */
#ifndef GATHER_H
#define GATHER_H

#include "future.h"

/** @brief A gather in progress; fields private. */
typedef struct gather {
    future_t future;            /**< finishes with the results array */
    future_t **children;        /**< the caller's array of Futures */
    void **results;             /**< the caller's array for the results */
    future_callback_t *records; /**< one per child (allocated) */
    size_t n;                   /**< how many children */
    size_t left;                /**< children not finished yet */
    int cancelling;             /**< cancel requested: finish cancelled */
} gather_t;

/**
 * @brief Wait for all of @p children: asyncio.gather().
 *
 * Finishes with @p results (result i of child i) when all have results;
 * with the first error (or ECANCELED) as soon as a child fails or is
 * cancelled. Cancelling the gather cancels every child still pending and
 * finishes it, cancelled, when they all have finished; if no child took
 * the cancellation (all had finished), future_cancel() returns 0 and the
 * results stand (asyncio, bpo-26923). The same Future may appear more than
 * once.
 *
 * @param g caller storage, not in use.
 * @param loop the loop.
 * @param children @p n Futures (Tasks' Futures, usually); the array must
 *        stay valid until the gather finishes.
 * @param n how many; 0 finishes at once.
 * @param results room for @p n results.
 * @return &g->future, or NULL with errno ENOMEM.
 */
future_t *gather_start(gather_t *g, loop_t *loop, future_t **children,
                       size_t n, void **results);

#endif
