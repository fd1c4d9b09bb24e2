/**
 * @file taskgroup.h
 * @ingroup ch05
 * @brief Task groups: children that cannot outlive the code that started
 *        them (asyncio.TaskGroup, a trio nursery, a libdill bundle).
 *
 * task_create() alone starts work that nobody has to wait for: if its
 * creator returns, fails or is cancelled, the Task runs on, and an error
 * it ends with is seen by nobody (at best the "never retrieved" warning).
 * A group ties children to their owner:
 * @code
 * task_group_init(&f->group, running_loop());
 * task_group_create_task(&f->group, ticker_body, sizeof *t, (void **)&t);
 * task_group_create_task(&f->group, reader_body, sizeof *r, (void **)&r);
 * AWAIT(co, task_group_wait(&f->group));   // leaves when all have ended
 * @endcode
 * (each create_task checked in real code: see the owner's rule below).
 *
 * What a group guarantees:
 * - Leaving (task_group_wait()'s Future finishing) happens only once
 *   every child has finished; the group's storage can then be freed.
 *   That is the group's whole end: it holds nothing else, so there is no
 *   deinit to call (asyncio's `async with` ends at the same point).
 * - The first child that fails (with an error other than ECANCELED)
 *   cancels all the others, and the group then fails with that error. The
 *   errors of children that fail after it are not raised (C has no
 *   ExceptionGroup) but not lost silently either: task_group_failures()
 *   counts every child that failed, each one's error has been retrieved
 *   by the group (so no "never retrieved" warning), and a child you still
 *   hold a reference to (task_retain()) tells its own code with
 *   future_result(). Only the first code is kept by the group itself.
 * - A child cancelled from outside is not a failure: the others go on.
 * - Cancelling the Future of task_group_wait() (which cancelling the Task
 *   awaiting it does) cancels every child; the Future then finishes, once
 *   they all have, cancelled, or with the first error if a child failed.
 *
 * The owner's rule: once the group has children, reach the await of
 * task_group_wait() on every path, and free the group's storage only
 * after it (the storage is usually the owner's frame, freed with the
 * owner's Task once its coroutine has ended). An await between (inside the
 * `async with` block) uses the _CATCH form; if it fails, call
 * task_group_abort() with the error and go on to the wait, which then
 * fails with it once the children are cancelled (asyncio's __aexit__ does
 * that for you). Work that awaits is simplest put in a child of its own.
 *
 * Memory: the group is caller storage; each child is one task_create()
 * block, with the group's bookkeeping for it inside. The group holds a
 * reference to each child until it finishes.
 *
 * Loop thread only (loop.h).
 */
#ifndef TASKGROUP_H
#define TASKGROUP_H

#include "task.h"

#include <stddef.h>

/** @brief A task group, in caller storage; fields private. */
typedef struct task_group {
    future_t done;                    /**< task_group_wait()'s Future */
    loop_t *loop;                     /**< where the children run */
    list_t children;                  /**< the running children */
    size_t running;                   /**< how many */
    size_t failures;                  /**< children that failed */
    int error;                        /**< the first failure, or 0 */
    int aborting;                     /**< cancelling the children */
    int cancelled;                    /**< the wait's Future was cancelled */
    int waiting;                      /**< task_group_wait() was called */
} task_group_t;

/**
 * @brief Make an empty group.
 * @param g caller storage.
 * @param loop the loop the children run on.
 */
void task_group_init(task_group_t *g, loop_t *loop);

/**
 * @brief Start a child in the group (TaskGroup.create_task()): as
 *        task_create(), and the group holds the reference.
 * @param g a group that has not finished.
 * @param fn the coroutine body.
 * @param frame_size its frame's size.
 * @param frame receives the frame, as for task_create().
 * @return the Task, borrowed: valid until it finishes (task_retain() it
 *         to keep it longer); or NULL with errno ECANCELED when the group
 *         is cancelling its children (a child failed, or it was
 *         cancelled), EINVAL when it has finished, or ENOMEM.
 */
task_t *task_group_create_task(task_group_t *g, coro_fn *fn,
                               size_t frame_size, void **frame);

/**
 * @brief Leave the group: a Future that finishes once every child has.
 *        `AWAIT(co, task_group_wait(&f->group))`.
 * @param g a group.
 * @return its Future: result NULL if no child failed; else the first
 *         failure's error; cancelled if it was cancelled and no child
 *         failed.
 */
future_t *task_group_wait(task_group_t *g);

/**
 * @brief End the group early, normally: cancel every child; the wait then
 *        finishes without an error (unless a child failed). trio's
 *        `nursery.cancel_scope.cancel()`: "this work is no longer wanted".
 * @param g a group.
 */
void task_group_cancel(task_group_t *g);

/**
 * @brief Cancel every child and make the group fail with @p error (if no
 *        child failed first): what the owner calls when its own code
 *        inside the group failed.
 * @param g a group.
 * @param error an errno-style code, not 0.
 */
void task_group_abort(task_group_t *g, int error);

/**
 * @brief How many children failed (with an error, not cancelled),
 *        including the first one, whose error the group ends with.
 * @param g a group.
 * @return the count.
 */
size_t task_group_failures(const task_group_t *g);

/**
 * @brief How many children are running.
 * @param g a group.
 * @return the count.
 */
size_t task_group_running(const task_group_t *g);

#endif
