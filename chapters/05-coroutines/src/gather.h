/**
 * @file gather.h
 * @brief Combining Futures: gather (all of them, results in argument
 *        order) and wait_for (one of them, with a timeout that cancels it).
 *
 * Both are Futures of their own, made in caller storage, so a coroutine
 * awaits them like anything else:
 * @code
 * AWAIT(co, gather_start(&f->all, loop, f->children, 3, f->results));
 * AWAIT_CATCH(co, wait_for_start(&f->limit, loop, task_future(f->job), 2.0));
 * if (co->err == ETIMEDOUT) ...       // caught; any other error: re-raise
 * @endcode
 *
 * Lifetime rule, the same for both: they finish only once nothing they
 * started still points into their storage, so the storage may be freed
 * as soon as they have finished. gather that fails on a first error takes
 * its callback records back from the other children (which keep running:
 * cancel them yourself if you want them stopped, as in asyncio).
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

/** @brief A wait_for in progress; fields private. */
typedef struct timeout {
    future_t future;          /**< the outcome */
    future_t *inner;          /**< what is waited for */
    loop_timer_t timer;       /**< the deadline */
    future_callback_t record; /**< on inner */
    int timed_out;            /**< the deadline passed first */
} timeout_t;

/**
 * @brief Wait for @p inner at most @p timeout_s seconds:
 *        asyncio.wait_for().
 *
 * If @p inner finishes in time, this finishes the same way. If the
 * deadline passes first, @p inner is cancelled and, once it has finished
 * (a Task may run clean-up code first), this fails with ETIMEDOUT; if
 * @p inner ended another way after all (its clean-up returned a value or
 * failed), that outcome is passed on instead, as asyncio does. A timeout
 * of 0 or less decides at once: the outcome of a finished @p inner, else
 * @p inner is cancelled now (a Task that has not started never will).
 * Cancelling this cancels @p inner; once cancelled, it ends cancelled
 * (or with @p inner's own outcome), not timed out, even if the deadline
 * had passed and @p inner was still cleaning up.
 *
 * @param w caller storage, not in use.
 * @param loop the loop.
 * @param inner the Future (often a Task's).
 * @param timeout_s seconds.
 * @return &w->future, or NULL with errno ENOMEM.
 */
future_t *wait_for_start(timeout_t *w, loop_t *loop, future_t *inner,
                         double timeout_s);

#endif
