/**
 * @file run.h
 * @ingroup ch05
 * @brief Running the loop: run(), a whole program's event loop in one call
 *        (asyncio.run()), and loop_run_until_complete(), the step below it.
 *
 * A program's C `main` parses its arguments and calls run() with its main
 * coroutine. run() makes the loop (and, if asked, an executor), runs the
 * main coroutine to its end, then cancels whatever Tasks are still running
 * and waits for them, shuts the executor down, destroys the loop, and
 * returns the main coroutine's outcome. Nothing of the runtime is left
 * behind, whatever the main coroutine did.
 *
 * @code
 * static int setup(void *frame, executor_t *executor, void *arg)
 * {
 *     main_frame_t *f = frame;
 *     (void)executor;
 *     f->interval_s = *(double *)arg;
 *     return 0;
 * }
 * ...
 * status = run(main_body, sizeof(main_frame_t), setup, &interval_s,
 *              &options, NULL, &err);
 * @endcode
 * A coroutine that needs the loop asks for it (running_loop()); a main
 * coroutine that needs no arguments takes no setup (NULL).
 */
#ifndef RUN_H
#define RUN_H

#include "executor.h"
#include "task.h"

/**
 * @brief Run the loop until @p future finishes (asyncio's
 *        loop.run_until_complete()).
 * @param loop a loop that is not running.
 * @param future the Future (a Task's, for instance).
 * @param result receives the result (may be NULL).
 * @param error receives the error or ECANCELED (may be NULL).
 * @return as future_result(); FUTURE_E_PENDING if the loop failed or
 *         was stopped before @p future finished.
 */
future_status_t loop_run_until_complete(loop_t *loop, future_t *future,
                                        void **result, int *error);

/**
 * @brief The loop of the Task that is running: asyncio.get_running_loop().
 *
 * A coroutine finds its loop here instead of carrying it in its frame:
 * `task_group_init(&f->group, running_loop())`. sleep_start() uses it.
 * It is the loop of task_current(), so it is known only inside a Task's
 * step; a plain callback is handed its loop as a parameter instead.
 *
 * @return the loop, or NULL outside a Task's step (asyncio raises
 *         RuntimeError there: "no running event loop").
 */
loop_t *running_loop(void);

/**
 * @brief Fill the main coroutine's frame before it runs: its arguments,
 *        as asyncio.run(main(args)) passes them. Its loop it finds with
 *        running_loop() once it runs.
 * @param frame the frame, zero-filled, its coro_t initialised.
 * @param executor the executor, or NULL if none was asked for.
 * @param arg the pointer given to run().
 * @return 0, or -1 with errno set: the main coroutine then never runs.
 */
typedef int run_setup_fn(void *frame, executor_t *executor, void *arg);

/** @brief Options for run(); all-zero means the defaults. */
typedef struct run_options {
    loop_options_t loop;       /**< for loop_create() */
    unsigned executor_threads; /**< workers of an executor for the main
                                    coroutine; 0 = no executor */
    int executor_wait;         /**< at the end, wait for jobs still running
                                    (1) or abandon them (0, the default:
                                    see executor_shutdown()) */
    int cancel_on_signals;     /**< SIGINT and SIGTERM cancel the main
                                    Task (asyncio.run does it for SIGINT):
                                    run() unblocks them in its thread while
                                    the loop runs (one pending already
                                    cancels at once), blocks them once main
                                    has ended, so that a late one cannot
                                    kill a decided exit, drops those that
                                    came meanwhile, and gives the caller
                                    its own mask and handlers back */
} run_options_t;

/**
 * @brief Run @p main to completion on a new loop, then clean up.
 *
 * @param main the main coroutine's body.
 * @param frame_size its frame's size.
 * @param setup fills the frame (may be NULL).
 * @param arg for @p setup.
 * @param options NULL for the defaults.
 * @param result receives the main coroutine's result (may be NULL); a
 *        pointer into its frame would be dangling: the frame is freed.
 * @param error receives its error, ECANCELED if it was cancelled (a
 *        signal, with cancel_on_signals), or the errno of a failure to
 *        start (may be NULL).
 * @return FUTURE_OK, FUTURE_E_ERROR (the main coroutine failed, or the
 *         runtime could not start or the loop failed: see @p error), or
 *         FUTURE_E_CANCELLED.
 */
future_status_t run(coro_fn *main, size_t frame_size, run_setup_fn *setup,
                    void *arg, const run_options_t *options, void **result,
                    int *error);

/**
 * @brief Block the stop signals run() handles (SIGINT and SIGTERM) in the
 *        calling thread, for a program whose exit status is decided once
 *        run() returns.
 *
 * With run_options_t::cancel_on_signals, run() unblocks them while the
 * loop runs and gives the caller its own mask back at the end. Called
 * first, before any other thread starts, it makes that mask one that
 * blocks them: a stop signal that arrives before the loop runs waits for
 * it (and cancels the main Task at once), and one that arrives after
 * run() has returned stays pending, so it cannot kill a process on its
 * way to exit 0 (the default action of both is to terminate).
 *
 * @return 0, or -1 with errno set (pthread_sigmask() failed).
 */
int run_block_stop_signals(void);

#endif
