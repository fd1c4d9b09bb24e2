/**
 * @file task.h
 * @brief A Task drives a coroutine on the loop (asyncio.Task). Running
 *        the loop until a Task ends is in run.h, sleeping in sleep.h.
 *
 * A Task is a Future (its first member) whose result is its coroutine's
 * return value. It resumes the coroutine (coro_resume(), Python's send);
 * the coroutine suspends by yielding a Future (AWAIT), the Task hangs its
 * wake-up record on that Future's done callbacks, and when the Future
 * finishes the wake-up queues the next step, which sends the result back
 * in. That is the 7-step flow of CHAPTER.md, and LOOP_TRACE=1 prints
 * every step and every Future completion so you can watch it.
 *
 * Inside a coroutine body run by a Task:
 * - `AWAIT(co, future)`: suspend until @p future finishes. Afterwards
 *   `co->in` is its result. If it failed, or was cancelled, or this Task
 *   was cancelled meanwhile, the coroutine fails there with that error
 *   (ECANCELED for a cancellation), and so does every frame above it, up
 *   to the Task: `await` raising, as in Python (coro.h, ground rule 6). A
 *   Future that is already finished does not suspend. A NULL future means
 *   "yield once to the loop" (asyncio.sleep(0)).
 * - `AWAIT_CATCH(co, future)`: the same, but an error is left in
 *   `co->err` for the body to handle (`try: await ... except`).
 * - `CORO_AWAIT_CORO(co, &f->sub)` / `CORO_AWAIT_CORO_CATCH`: run a
 *   sub-coroutine in the same Task.
 *
 * A Task may not await its own Future (directly or from a sub-coroutine):
 * that would never end, so the await fails at once with EDEADLK (asyncio:
 * "Task cannot await on itself"). Its outcome is its coroutine's:
 * future_set_result() and the like on it are refused (FUTURE_E_TASK).
 *
 * Cancellation (task_cancel(), or future_cancel() on the Task): the Future
 * the Task awaits is cancelled, so ECANCELED arrives at its current await
 * point (in the innermost sub-coroutine) and, through plain AWAITs,
 * unwinds the whole coroutine: the Task ends cancelled with no code at any
 * level. A level that must clean up catches it (AWAIT_CATCH), may even
 * await more, and then re-raises with CORO_FAIL(co, co->err). If that
 * Future had already finished, the coroutine gets its result at this
 * await and ECANCELED at the next await that suspends, i.e. whose Future
 * is still pending (so a Lock handed over just before is not lost; an
 * await of a finished Future has nothing to cancel and does not
 * suspend). If the coroutine returns
 * before any such await, the Task still ends cancelled. A Task cancelled
 * before its first step never runs its body.
 *
 * Memory: task_create() makes one allocation holding the Task and the
 * coroutine's frame. It is reference-counted: the creator holds one
 * reference (task_release() when done with it) and the loop holds one
 * until the coroutine finishes and the done callbacks have run.
 *
 * Two warnings on stderr, as asyncio prints them, for what would otherwise
 * be lost without a trace:
 * - `Task exception was never retrieved: NAME#ID: ERROR` when a Task that
 *   failed is freed and nobody read its outcome (future_result(), an
 *   await, a gather);
 * - `Task was destroyed but it is pending: NAME#ID` for each Task still
 *   pending when its loop is destroyed. The loop's reference is then
 *   dropped (the frame is freed once the creator's is too); its coroutine
 *   never runs again. No
 * allocation happens per step: the wake-up record lives in the Task, and
 * the only call per step is loop_call_soon().
 *
 * Loop thread only (loop.h).
 */
#ifndef TASK_H
#define TASK_H

#include "coro.h"
#include "future.h"
#include "list.h"

/**
 * @brief What AWAIT accepts (internal): a Future, or NULL (a `void *`).
 *        Checked by the compiler, at no cost when it runs: anything else,
 *        `AWAIT(co, some_coroutine)` say, is a compile error ("not
 *        compatible with any association"); a sub-coroutine is awaited
 *        with CORO_AWAIT_CORO().
 */
#define TASK_AWAITABLE_(future)                                             \
    _Generic((future), future_t *: (future), void *: (future))

/**
 * @brief Suspend the coroutine @p co until @p future finishes (NULL: just
 *        let the loop run once). Python's `await future`.
 */
#define AWAIT(co, future) CORO_YIELD(co, TASK_AWAITABLE_(future))

/**
 * @brief AWAIT that catches: the Future's error (ECANCELED when it or this
 *        Task was cancelled) is left in `co->err` instead of failing the
 *        coroutine. `try: await future` / `except`.
 */
#define AWAIT_CATCH(co, future)                                             \
    CORO_YIELD_CATCH(co, TASK_AWAITABLE_(future))

/**
 * @brief The most steps a Task takes in a row before it lets the loop run.
 *
 * An await of a Future that has already finished does not suspend, so a
 * coroutine whose every await finds its Future finished (a socket whose
 * reads and writes never block) would otherwise never give the loop back.
 * After this many steps in one go, the Task queues its next step behind
 * everything already ready, carrying the outcome over, as a wake-up does.
 */
#define TASK_STEP_BUDGET 64

/** @brief A Task; the fields are private. */
typedef struct task {
    future_t future;          /**< the Task is-a Future: its outcome */
    future_t *waiting;        /**< the Future it awaits, or NULL */
    future_callback_t wakeup; /**< hung on *waiting */
    void *in;                 /**< value for the next step */
    int in_err;               /**< error for the next step */
    int refs;                 /**< references: creator + loop */
    unsigned id;              /**< for the trace */
    unsigned char cancel_requested; /**< deliver ECANCELED at the next
                                         await */
    unsigned char woken;      /**< the queued step carries an outcome */
    unsigned short cancelling; /**< cancel requests not withdrawn by
                                    task_uncancel() (timeout scopes);
                                    saturates, in the padding before name */
    const char *name;         /**< for the trace; static string */
    list_t pending;           /**< in the loop's list of pending Tasks */
} task_t;

/**
 * @brief Make a Task for a new coroutine and queue its first step
 *        (asyncio's loop.create_task()).
 *
 * @code
 * hello_frame_t *f;
 * task_t *t = task_create(loop, hello_body, sizeof *f, (void **)&f);
 * f->interval_s = 3;           // fill the frame before the loop runs
 * @endcode
 *
 * @param loop the loop it runs on.
 * @param fn the coroutine body.
 * @param frame_size the size of the frame struct (which starts with a
 *        coro_t); at least sizeof(coro_t).
 * @param frame receives the frame, zero-filled, with its coro_t
 *        initialised. It is freed with the Task.
 * @return the Task (one reference for the caller), or NULL with errno set.
 */
task_t *task_create(loop_t *loop, coro_fn *fn, size_t frame_size,
                    void **frame);

/**
 * @brief The Task as a Future, to await, gather or add callbacks to.
 * @param task a Task.
 * @return its Future.
 */
future_t *task_future(task_t *task);

/**
 * @brief Request cancellation (see the file comment).
 * @param task a Task.
 * @return 1 if it was pending, 0 if it had finished (nothing happens).
 */
int task_cancel(task_t *task);

/**
 * @brief The Task whose step is running on this thread:
 *        asyncio.current_task().
 * @return the Task, or NULL outside a Task's step (in a plain callback).
 */
task_t *task_current(void);

/**
 * @brief How many cancellation requests the Task has had, minus those
 *        withdrawn by task_uncancel(): asyncio's Task.cancelling().
 * @param task a Task.
 * @return the count.
 */
unsigned task_cancelling(const task_t *task);

/**
 * @brief Withdraw one cancellation request: asyncio's Task.uncancel(),
 *        for a timeout scope that turned its own cancel into ETIMEDOUT.
 *        When the count reaches 0, a request not yet delivered is dropped.
 * @param task a Task.
 * @return the count left.
 */
unsigned task_uncancel(task_t *task);

/**
 * @brief Request the cancellation of every pending Task of @p loop (what
 *        run() does once the main coroutine has finished).
 * @param loop a loop.
 * @return how many Tasks were pending.
 */
size_t task_cancel_all(loop_t *loop);

/**
 * @brief How many Tasks of @p loop have not finished.
 * @param loop a loop.
 * @return the count.
 */
size_t task_count_pending(loop_t *loop);

/**
 * @brief Name the Task in the trace.
 * @param task a Task.
 * @param name a string that outlives the Task (a literal).
 */
void task_set_name(task_t *task, const char *name);

/**
 * @brief Take a reference.
 * @param task a Task.
 * @return @p task.
 */
task_t *task_retain(task_t *task);

/**
 * @brief Drop a reference; the last one frees the Task and its frame.
 * @param task a Task, or NULL.
 */
void task_release(task_t *task);

#endif
