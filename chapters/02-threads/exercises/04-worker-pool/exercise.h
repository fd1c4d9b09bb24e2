/*
 * exercise.h - exercise 04-worker-pool: the entry points the tests call.
 * Everything else, including what a pool_t holds, is yours to design.
 */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

/** @brief A pool of worker threads; you define `struct pool` in answer.c. */
typedef struct pool pool_t;

/** @brief A job: called once, on one of the pool's worker threads. */
typedef void pool_job_fn(void *arg);

/**
 * @brief Start @p workers threads that run jobs from a queue of at most
 *        @p queue_capacity jobs waiting to run.
 * @return the pool, or NULL with errno set: EINVAL if either number is 0;
 *         ENOMEM, or EAGAIN (no more threads), with nothing left behind.
 */
pool_t *pool_create(size_t workers, size_t queue_capacity);

/**
 * @brief Queue a job: fn(arg) will run exactly once, on a worker.
 *
 * Waits (asleep) while the queue holds @c queue_capacity jobs. May be
 * called from any thread, including from inside a job.
 *
 * @return 0 once queued; -1 with errno ECANCELED once pool_shutdown() has
 *         been called (the job will never run).
 */
int pool_submit(pool_t *p, pool_job_fn *fn, void *arg);

/**
 * @brief Refuse new jobs, let the workers run every job already queued,
 *        then join them all.
 *
 * When it returns, every job submitted before it has finished and no
 * worker thread is left. Call it once, from a thread that is not a worker.
 */
void pool_shutdown(pool_t *p);

/** @brief Free the pool. Only after pool_shutdown() has returned. */
void pool_destroy(pool_t *p);

#endif
