/**
 * @file shield.h
 * @brief Protect a Future from the cancellation of whoever awaits it
 *        (asyncio.shield()).
 *
 * `AWAIT(co, shield_start(&f->guard, loop, task_future(f->save)))` waits
 * for the save as a plain AWAIT would, but cancelling the awaiting Task
 * (or the shield's Future) cancels only the shield: the save goes on, and
 * its outcome still lands on its own Future, for whoever else reads it.
 * @code
 * outer = shield_start(&s, loop, inner);
 * future_cancel(outer);       // outer: cancelled; inner: still pending
 * future_cancel(inner);       // (instead) inner and outer: cancelled
 * @endcode
 *
 * Storage: the shield may be freed as soon as its Future has finished
 * (it takes its callback back from the inner Future then).
 *
 * Loop thread only (loop.h).
 */
#ifndef SHIELD_H
#define SHIELD_H

#include "future.h"

/** @brief A shield; fields private. */
typedef struct shield {
    future_t outer;            /**< what the awaiter sees */
    future_t *inner;           /**< what is protected */
    future_callback_t on_inner; /**< on *inner: passes its outcome out */
    future_callback_t on_outer; /**< on outer: lets go of *inner */
} shield_t;

/**
 * @brief Shield @p inner from cancellation: asyncio.shield(inner).
 *
 * The returned Future finishes as @p inner does: with its result, its
 * error, or cancelled if @p inner itself is cancelled. Cancelling the
 * returned Future finishes it cancelled at once and leaves @p inner
 * running. If @p inner has finished already, it is returned itself (as
 * asyncio returns it): there is nothing left to protect.
 *
 * @param s caller storage, not in use.
 * @param loop the loop.
 * @param inner the Future to protect (a Task's, usually).
 * @return the Future to await: &s->outer, or @p inner when it is done.
 */
future_t *shield_start(shield_t *s, loop_t *loop, future_t *inner);

#endif
