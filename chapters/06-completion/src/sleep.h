/**
 * @file sleep.h
 * @brief Sleeping in a coroutine: asyncio.sleep().
 *
 * A sleep is a Future in caller storage (a ::sleeper_t in the frame)
 * finished by a timer of the running loop (running_loop()): `AWAIT(co,
 * sleep_start(&f->sleep, 0.5))`. Cancelling the awaiting Task cancels the
 * Future, which disarms the timer, so the storage may be reused or freed
 * as soon as the await has returned, however it ended. A deadline over
 * several awaits is a timeout scope instead (timeout.h).
 *
 * Loop thread only.
 */
#ifndef SLEEP_H
#define SLEEP_H

#include "future.h"

/** @brief The state of a sleep, in caller storage (usually the frame). */
typedef struct sleeper {
    future_t future;          /**< finishes with NULL after the delay */
    loop_timer_t timer;       /**< the loop timer behind it */
    future_callback_t done;   /**< disarms the timer if cancelled */
} sleeper_t;

/**
 * @brief Start a sleep: asyncio.sleep(delay). `AWAIT(co,
 *        sleep_start(&f->sleep, 0.5))`.
 *
 * Like asyncio.sleep(), it takes no loop: the timer goes on the loop of
 * the Task that calls it (running_loop()). Called outside a Task's step
 * (where nothing could await it), it prints why on stderr and aborts the
 * program: a programmer error, asyncio's "no running event loop".
 *
 * @param s caller storage, not in use.
 * @param delay_s seconds; 0 or less means "yield once".
 * @return the Future to await: NULL for a zero delay (a bare yield, no
 *         timer), else &s->future, which fails with ENOMEM if the timer
 *         could not be armed (the out-of-memory policy in loop.h).
 */
future_t *sleep_start(sleeper_t *s, double delay_s);

#endif
