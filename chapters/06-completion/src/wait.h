/**
 * @file wait.h
 * @brief Waiting on several Futures without taking them over:
 *        asyncio.wait() (done and pending sets) and asyncio.as_completed()
 *        (one at a time, in the order they finish).
 *
 * Unlike gather and wait_for (gather.h), neither ever cancels the Futures
 * it watches, not even on a timeout: what is still pending when they give
 * up stays the caller's to cancel, await again, or leave running.
 * @code
 * AWAIT(co, wait_start(&f->w, loop, f->jobs, 3, WAIT_FIRST_COMPLETED, 2.0,
 *                      &f->sets));
 * // f->sets.done[0 .. ndone) finished, f->sets.pending[0 .. npending) not
 *
 * as_completed_start(&f->ac, loop, f->jobs, 3, -1);
 * while (as_completed_left(&f->ac) > 0) {
 *     AWAIT(co, as_completed_next(&f->ac));  // co->in: the next one done
 *     ...
 * }
 * as_completed_end(&f->ac);
 * @endcode
 *
 * The Futures given must be distinct (asyncio turns its argument into a
 * set). Storage: the caller's; each may be freed once it has finished
 * (wait) or after as_completed_end().
 *
 * Loop thread only (loop.h).
 */
#ifndef WAIT_H
#define WAIT_H

#include "future.h"

/** @brief When wait_start() finishes (asyncio's return_when). */
typedef enum wait_when {
    WAIT_FIRST_COMPLETED, /**< as soon as any Future finishes */
    WAIT_FIRST_EXCEPTION, /**< as soon as any fails with an error (not a
                               cancellation), else when all have finished */
    WAIT_ALL_COMPLETED,   /**< when all have finished */
} wait_when_t;

/**
 * @brief The two sets wait_start() reports, in caller storage: fill in the
 *        two arrays (room for n each); wait_start() fills in the rest.
 */
typedef struct wait_sets {
    future_t **done;    /**< the Futures finished, in argument order */
    size_t ndone;       /**< how many */
    future_t **pending; /**< the others, in argument order */
    size_t npending;    /**< how many */
} wait_sets_t;

/** @brief A wait in progress; fields private. */
typedef struct wait {
    future_t future;            /**< finishes with the wait_sets_t */
    future_t **fs;              /**< the caller's Futures */
    size_t n;                   /**< how many */
    size_t left;                /**< not finished yet */
    wait_when_t when;           /**< the condition */
    wait_sets_t *sets;          /**< where the answer goes */
    future_callback_t *records; /**< one per Future (allocated) */
    loop_timer_t timer;         /**< the timeout, if any */
} wait_t;

/**
 * @brief Wait until @p when holds for @p fs, or @p timeout_s passes:
 *        asyncio.wait(fs, timeout=, return_when=).
 *
 * Finishes with @p sets as result (never with an error: a timeout just
 * reports what is done by then, possibly nothing). The sets are taken at
 * the moment it finishes. Nothing in @p fs is cancelled, ever; cancelling
 * this Future only stops the waiting.
 *
 * @param w caller storage, not in use.
 * @param loop the loop.
 * @param fs @p n distinct Futures; the array must stay valid until this
 *        finishes.
 * @param n how many; at least 1.
 * @param when the condition.
 * @param timeout_s seconds, or a negative number for no timeout.
 * @param sets caller storage, with @c done and @c pending pointing to room
 *        for @p n Futures each.
 * @return &w->future; NULL with errno EINVAL (@p n is 0, @p when unknown,
 *         @p sets incomplete) or ENOMEM.
 */
future_t *wait_start(wait_t *w, loop_t *loop, future_t **fs, size_t n,
                     wait_when_t when, double timeout_s, wait_sets_t *sets);

/** @brief An as_completed iteration; fields private. */
typedef struct as_completed {
    future_t next;              /**< what as_completed_next() hands out */
    loop_t *loop;               /**< the loop */
    future_t **fs;              /**< the caller's Futures */
    size_t n;                   /**< how many */
    future_callback_t *records; /**< one per Future (allocated) */
    future_t **order;           /**< finished ones, in finishing order
                                     (allocated, n) */
    size_t finished;            /**< how many are in @c order */
    size_t taken;               /**< how many were handed out */
    size_t expired;             /**< left unfinished at the deadline */
    int waiting;                /**< @c next is pending, handed out */
    loop_timer_t timer;         /**< the timeout, if any */
} as_completed_t;

/**
 * @brief Start watching @p fs: asyncio.as_completed(fs, timeout=).
 *
 * @param ac caller storage, not in use.
 * @param loop the loop.
 * @param fs @p n distinct Futures; the array must stay valid until
 *        as_completed_end().
 * @param n how many (0 is allowed: nothing to hand out).
 * @param timeout_s seconds, or a negative number for no timeout. At the
 *        deadline, the Futures not finished yet each come out as one
 *        ETIMEDOUT from as_completed_next() (they are not cancelled);
 *        those finished before the deadline still come out first.
 * @return 0; -1 with errno ENOMEM.
 */
int as_completed_start(as_completed_t *ac, loop_t *loop, future_t **fs,
                       size_t n, double timeout_s);

/**
 * @brief How many more as_completed_next() calls have something to give.
 * @param ac a started iteration.
 * @return the Futures not handed out yet (a timed-out one counts until its
 *         ETIMEDOUT has been handed out).
 */
size_t as_completed_left(const as_completed_t *ac);

/**
 * @brief The next Future to finish, as a Future to await: its result is
 *        that finished Future (read its outcome with future_result()), or
 *        it fails with ETIMEDOUT once the deadline has passed. A Future
 *        that finished already is handed out at once (the await does not
 *        suspend). Cancelling what this returns (or the Task awaiting it)
 *        loses nothing: the next call waits again.
 * @param ac a started iteration with as_completed_left() > 0.
 * @return a Future, valid until the next call; NULL with errno ENOENT if
 *         nothing is left.
 */
future_t *as_completed_next(as_completed_t *ac);

/**
 * @brief Stop watching: take the callbacks back, disarm the deadline,
 *        free what as_completed_start() allocated. Call it once, whether
 *        or not everything was handed out; the Futures watched are not
 *        touched. A Future from as_completed_next() still pending is
 *        cancelled.
 * @param ac a started iteration.
 */
void as_completed_end(as_completed_t *ac);

#endif
