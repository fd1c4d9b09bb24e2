/**
 * @file timeout.h
 * @ingroup ch05
 * @brief Timeout scopes: a deadline over a block of awaits
 *        (asyncio.timeout(), trio.move_on_after()), and wait_for built on
 *        one, as CPython 3.12 rebuilt asyncio.wait_for().
 *
 * A scope belongs to the Task that enters it. When its deadline passes, it
 * cancels that Task, so ECANCELED arrives at whatever the block awaits
 * then; on leaving, the scope turns that cancellation into ETIMEDOUT,
 * provided it was its own: a cancellation that came from outside (someone
 * called task_cancel()) stays ECANCELED, even if the deadline passed too.
 * It tells the two apart by counting, as asyncio does: the Task counts the
 * cancel requests it gets (task_cancelling()), and the scope withdraws its
 * own (task_uncancel()) when it leaves.
 *
 * The block is usually a sub-coroutine, so that one catching await holds
 * every await inside it (each may raise):
 * @code
 * CORO_AWAIT_CORO(co, timeout_run(&f->scope, 2.0, &f->block.co));
 * // here: the block's result in co->in; ETIMEDOUT raised if it ran late
 * @endcode
 * or, for a single await, enter and leave by hand:
 * @code
 * timeout_enter(&f->scope, 2.0);
 * AWAIT_CATCH(co, sock_recv(...));
 * co->err = timeout_exit(&f->scope, co->err);   // ETIMEDOUT if ours
 * @endcode
 * Leave every scope you enter (timeout_exit(), or timeout_run() does it):
 * its timer lives in the scope's storage.
 *
 * Loop thread only (loop.h).
 */
#ifndef TIMEOUT_H
#define TIMEOUT_H

#include "task.h"

/** @brief Where a scope is in its life (asyncio's _State). */
typedef enum timeout_state {
    TIMEOUT_CREATED = 0, /**< not entered */
    TIMEOUT_ENTERED,     /**< inside, deadline not reached */
    TIMEOUT_EXPIRING,    /**< deadline passed, Task cancelled, not left */
    TIMEOUT_EXPIRED,     /**< left after its deadline passed */
    TIMEOUT_EXITED,      /**< left in time */
} timeout_state_t;

/** @brief A timeout scope, in caller storage (a frame); fields private. */
typedef struct timeout_scope {
    coro_t co;                /**< timeout_run()'s frame */
    coro_t *block;            /**< timeout_run()'s block */
    double delay_s;           /**< timeout_run()'s delay */
    task_t *task;             /**< the Task it bounds (not a reference) */
    loop_timer_t timer;       /**< the deadline, armed while inside */
    double when_s;            /**< the deadline on the loop clock */
    unsigned cancelling;      /**< task_cancelling() when entered */
    timeout_state_t state;    /**< see ::timeout_state_t */
} timeout_scope_t;

/**
 * @brief Enter a scope that ends @p delay_s seconds from now, in the Task
 *        running now (asyncio.timeout(delay) and `async with`).
 * @param s caller storage, not in use (or left before).
 * @param delay_s seconds; 0 or less expires at the next loop iteration;
 *        INFINITY means no deadline (until timeout_reschedule()).
 * @return 0, or -1 with errno EPERM when no Task is running (a scope
 *         bounds a Task's awaits), ENOMEM if the timer could not be armed.
 */
int timeout_enter(timeout_scope_t *s, double delay_s);

/**
 * @brief Move the deadline (Timeout.reschedule()): to @p when_s on the
 *        loop clock (loop_time()), or INFINITY for none. A scope that has
 *        already expired stays expired.
 * @param s an entered scope.
 * @param when_s the new deadline.
 * @return 0, or -1 with errno EINVAL if the scope is not inside (not
 *         entered, expired or left), ENOMEM if the timer could not be
 *         armed.
 */
int timeout_reschedule(timeout_scope_t *s, double when_s);

/**
 * @brief The deadline on the loop clock (Timeout.when()).
 * @param s a scope.
 * @return the deadline, or INFINITY for none.
 */
double timeout_when(const timeout_scope_t *s);

/**
 * @brief Whether the deadline has passed (Timeout.expired()).
 * @param s a scope.
 * @return 1 if it expired (inside or after leaving), else 0.
 */
int timeout_expired(const timeout_scope_t *s);

/**
 * @brief Leave the scope: disarm the deadline and say which error the
 *        block ends with.
 * @param s an entered scope.
 * @param err the error the block ended with (0 for none).
 * @return ETIMEDOUT when @p err is ECANCELED and the cancellation was the
 *         scope's own; otherwise @p err unchanged (an outside
 *         cancellation stays ECANCELED; a block that finished anyway
 *         after the deadline keeps its outcome).
 */
int timeout_exit(timeout_scope_t *s, int err);

/**
 * @brief A coroutine that runs @p block inside a scope of @p delay_s
 *        seconds: `async with asyncio.timeout(delay): return await block`.
 *        Await it with CORO_AWAIT_CORO (or its _CATCH form).
 * @param s caller storage, not in use.
 * @param delay_s as for timeout_enter().
 * @param block an initialised coroutine frame (in the caller's frame).
 * @return the frame to await. It finishes with the block's result, or
 *         its error (ETIMEDOUT as timeout_exit() says).
 */
coro_t *timeout_run(timeout_scope_t *s, double delay_s, coro_t *block);

/** @brief A wait_for in progress (a coroutine frame); fields private. */
typedef struct wait_for {
    coro_t co;                /**< the coroutine */
    future_t *inner;          /**< what is waited for */
    double timeout_s;         /**< the limit */
    unsigned cancelling;      /**< the Task's count, for a zero limit */
    timeout_scope_t scope;    /**< the deadline */
} wait_for_t;

/**
 * @brief Wait for @p inner at most @p timeout_s seconds
 *        (asyncio.wait_for()); a coroutine: `CORO_AWAIT_CORO(co,
 *        wait_for(&f->w, task_future(job), 2.0))`.
 *
 * In time: the outcome of @p inner. Late: @p inner is cancelled and, once
 * it has finished (a Task may clean up first), the await fails with
 * ETIMEDOUT; but if @p inner ended another way after all (it swallowed
 * the cancellation and returned a value, or failed), that outcome is
 * passed on. A limit of 0 or less decides at once: the outcome of a
 * finished @p inner, else @p inner is cancelled now (a Task that has not
 * started never will) and waited for. Cancelling the awaiting Task
 * cancels @p inner, and the await fails with ECANCELED.
 *
 * @param w caller storage, not in use.
 * @param inner the Future (often a Task's).
 * @param timeout_s seconds.
 * @return the coroutine frame to await, from a Task's coroutine (outside
 *         a Task it fails with EPERM: the deadline cancels a Task).
 */
coro_t *wait_for(wait_for_t *w, future_t *inner, double timeout_s);

#endif
