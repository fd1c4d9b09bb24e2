/**
 * @file future.h
 * @brief A Future: a value that is not there yet, and the callbacks that
 *        wait for it (asyncio.Future; a JavaScript Promise).
 *
 * A Future separates "the thing happened" from "what to do then". It is
 * pending, then finished exactly once: with a result (a pointer), with an
 * error (an errno-style code), or cancelled. Done callbacks added while it
 * is pending run, in the order they were added, when it finishes; added
 * after it finished, they are queued on the loop with loop_call_soon(), so
 * a callback never runs inside the call that added it.
 *
 * Memory: a Future and its callback records live in caller storage (often
 * a coroutine's frame). Nothing here allocates except what
 * loop_call_soon() does for a callback added after completion.
 *
 * Errors: the functions that can be misused return a ::future_status_t,
 * with future_strerror() to print it.
 *
 * Loop thread only: like the loop (loop.h), none of this may be called
 * from another thread; a worker hands its result back through the
 * executor (executor.h) or loop_call_soon_threadsafe().
 */
#ifndef FUTURE_H
#define FUTURE_H

#include "list.h"
#include "loop.h"

/** @brief Where a Future is in its life. */
typedef enum future_state {
    FUTURE_PENDING = 0, /**< not finished */
    FUTURE_RESULT,      /**< finished with a result */
    FUTURE_ERROR,       /**< finished with an error code */
    FUTURE_CANCELLED,   /**< finished by cancellation */
} future_state_t;

/** @brief What the Future functions report. */
typedef enum future_status {
    FUTURE_OK = 0,      /**< done as asked; the result is there */
    FUTURE_E_PENDING,   /**< the result of a pending Future was read */
    FUTURE_E_FINISHED,  /**< a finished Future was set again */
    FUTURE_E_ERROR,     /**< the Future finished with an error */
    FUTURE_E_CANCELLED, /**< the Future was cancelled */
    FUTURE_E_NOMEM,     /**< the loop could not queue a callback */
    FUTURE_E_TASK,      /**< a Task's outcome was set from outside: only
                             its coroutine may finish it */
} future_status_t;

/** @brief A Future; see struct future. */
typedef struct future future_t;

/**
 * @brief A done callback.
 * @param future the Future that finished.
 * @param arg the pointer given to future_add_done_callback().
 */
typedef void future_cb(future_t *future, void *arg);

/**
 * @brief How a Future subclass is cancelled (Task, gather, wait_for
 *        override asyncio's Future.cancel the same way).
 * @param future the Future to cancel, pending.
 * @return 1 if cancellation happened or was requested, 0 if refused.
 */
typedef int future_cancel_fn(future_t *future);

/**
 * @brief A done callback record, in caller storage. It is linked into the
 *        Future's list while pending, and free again once its callback has
 *        started (or after future_remove_done_callback()).
 */
typedef struct future_callback {
    future_cb *cb;                /**< what to call */
    void *arg;                    /**< its argument */
    future_t *future;             /**< the Future it waits on */
    list_t link;                  /**< in the Future's list (private) */
} future_callback_t;

/** @brief A Future; fields are private, use the functions. */
struct future {
    unsigned char state;        /**< a ::future_state_t (one byte: a Task
                                     holds several Futures) */
    unsigned char sealed;       /**< a Task's: only the Task may finish it
                                     (future_set_* refuse: FUTURE_E_TASK) */
    unsigned char retrieved;    /**< future_result() has read the outcome
                                     (for "exception never retrieved") */
    int error;                  /**< the error, when FUTURE_ERROR */
    void *result;               /**< the result, when FUTURE_RESULT */
    loop_t *loop;               /**< where late callbacks are queued */
    list_t callbacks;           /**< future_callback_t.link, oldest
                                     first */
    future_cancel_fn *cancel;   /**< NULL: cancel finishes it at once */
};

/**
 * @brief Make a pending Future.
 * @param future caller storage.
 * @param loop the loop its late callbacks are queued on.
 */
void future_init(future_t *future, loop_t *loop);

/**
 * @brief Finish with a result and run the done callbacks.
 * @param future a Future.
 * @param result the result (any pointer; integers via intptr_t).
 * @return FUTURE_OK, or FUTURE_E_FINISHED if it had finished already
 *         (nothing changes then), or FUTURE_E_TASK if it is a Task's (a
 *         Task's outcome is its coroutine's; asyncio raises here too).
 */
future_status_t future_set_result(future_t *future, void *result);

/**
 * @brief Finish with an error and run the done callbacks.
 * @param future a Future.
 * @param error an errno-style code, not 0 (ECANCELED is taken as a
 *        cancellation).
 * @return FUTURE_OK, FUTURE_E_FINISHED or FUTURE_E_TASK.
 */
future_status_t future_set_error(future_t *future, int error);

/**
 * @brief Cancel: a plain Future finishes as cancelled at once; a Task,
 *        gather or wait_for passes the request on to what it waits for.
 * @param future a Future.
 * @return 1 if it was pending (cancelled or cancellation requested), 0 if
 *         it had finished (cancelling a finished Future does nothing).
 */
int future_cancel(future_t *future);

/**
 * @brief Finish as cancelled, whatever the subclass: what its cancel hook
 *        calls once the cancellation has gone through.
 * @param future a Future.
 * @return FUTURE_OK, FUTURE_E_FINISHED or FUTURE_E_TASK (a Task is
 *         cancelled with task_cancel()).
 */
future_status_t future_set_cancelled(future_t *future);

/**
 * @brief Whether the Future has finished (any way).
 * @param future a Future.
 * @return 1 or 0.
 */
int future_done(const future_t *future);

/**
 * @brief Its state.
 * @param future a Future.
 * @return see ::future_state_t.
 */
future_state_t future_state(const future_t *future);

/**
 * @brief Read the outcome; once it has finished, this marks it retrieved
 *        (a Task freed with an error never read says so on stderr).
 * @param future a Future.
 * @param result receives the result when FUTURE_OK (may be NULL).
 * @param error receives the error when FUTURE_E_ERROR, ECANCELED when
 *        FUTURE_E_CANCELLED (may be NULL).
 * @return FUTURE_OK, FUTURE_E_ERROR, FUTURE_E_CANCELLED, or
 *         FUTURE_E_PENDING when there is nothing to read yet.
 */
future_status_t future_result(future_t *future, void **result,
                              int *error);

/**
 * @brief Call @p cb(future, arg) when the Future finishes.
 *
 * Pending: the record is appended, and the callbacks run in order inside
 * the call that finishes the Future. Finished: the call is queued on the
 * loop with loop_call_soon() and runs in a later phase.
 *
 * @param future a Future.
 * @param record caller storage, not in use; it must stay valid until the
 *        callback has started or the record was removed.
 * @param cb the callback.
 * @param arg its argument.
 * @return FUTURE_OK, or FUTURE_E_NOMEM if it could not be queued.
 */
future_status_t future_add_done_callback(future_t *future,
                                         future_callback_t *record,
                                         future_cb *cb, void *arg);

/**
 * @brief Take back a callback that has not run yet.
 * @param future the Future it was added to.
 * @param record the record; a record already queued on the loop (added
 *        after completion) cannot be taken back. It may be taken back
 *        while the Future is running its callbacks (one of them may do
 *        it), if its own turn has not come yet.
 * @return 1 if removed, 0 if it was not waiting on @p future.
 */
int future_remove_done_callback(future_t *future, future_callback_t *record);

/**
 * @brief Name a status.
 * @param status a status.
 * @return a static string.
 */
const char *future_strerror(future_status_t status);

#endif
