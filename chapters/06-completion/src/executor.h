/**
 * @file executor.h
 * @brief A small thread pool for blocking or CPU-bound work, whose results
 *        come back as Futures on the loop (loop.run_in_executor()).
 *
 * The loop's thread must never block, so a job goes to a worker thread.
 * The worker cannot touch the loop (nothing in it is thread-safe), so it
 * puts the finished job on a list under a mutex and wakes the loop with
 * loop_post_threadsafe() (the loop's one wake-up mechanism, which its
 * signal handlers use too), from a record the pool owns: no memory is
 * needed, so no wake-up is ever lost. The call it posts finishes the
 * Futures on the loop's thread, where their done callbacks can safely
 * run.
 *
 * Workers run with every signal blocked: signals are the loop thread's.
 *
 * Cancelling the Future of a job that a worker has started does not stop
 * it (a thread cannot be interrupted safely); its result is thrown away
 * when it finishes. A job cancelled before a worker took it never starts.
 */
#ifndef EXECUTOR_H
#define EXECUTOR_H

#include "future.h"

/** @brief A thread pool bound to one loop; opaque. */
typedef struct executor executor_t;

/**
 * @brief The work: runs on a worker thread.
 * @param arg the pointer given to executor_submit().
 * @return the Future's result.
 */
typedef void *executor_fn(void *arg);

/**
 * @brief Start @p threads workers that report to @p loop.
 * @param loop the loop the workers report to.
 * @param threads how many workers, at least 1.
 * @return the pool, or NULL with errno set.
 */
executor_t *executor_create(loop_t *loop, unsigned threads);

/**
 * @brief Stop the workers (each finishes its current job first), cancel
 *        the Futures of jobs not started, and free the pool.
 * @param ex a pool, or NULL.
 */
void executor_destroy(executor_t *ex);

/**
 * @brief Stop the pool, waiting for the running jobs or not:
 *        ThreadPoolExecutor.shutdown(wait).
 *
 * Either way the Futures of jobs not started are cancelled, the Futures
 * of jobs done are finished (here, not later on the loop), and the pool
 * may no longer be used. With @p wait, this is executor_destroy(). Without
 * it, the workers still computing are detached rather than joined: each
 * finishes its job, drops the result, and leaves; the last one frees the
 * pool; the Futures of their jobs are cancelled here, so that nothing on
 * the loop waits for them. Their jobs' arguments must stay valid until the
 * jobs end (or the process ends, which ends the threads too). It needs
 * no memory, so it cannot fail.
 *
 * @param ex a pool, or NULL.
 * @param wait nonzero to wait for the running jobs.
 */
void executor_shutdown(executor_t *ex, int wait);

/**
 * @brief Run @p fn(@p arg) on a worker: `AWAIT(co, executor_submit(ex,
 *        &f->job, fib_job, f))`.
 * @param ex the pool.
 * @param future caller storage, initialised here; it must stay valid until
 *        it finishes (it may be cancelled).
 * @param fn the work.
 * @param arg its argument; the worker reads it, so keep it valid and do
 *        not touch it on the loop until the Future finishes.
 * @return @p future, or NULL with errno ENOMEM.
 */
future_t *executor_submit(executor_t *ex, future_t *future, executor_fn *fn,
                          void *arg);

#endif
