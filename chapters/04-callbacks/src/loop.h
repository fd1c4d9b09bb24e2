/**
 * @file loop.h
 * @brief A callback event loop: a ready queue, timers, descriptor
 *        callbacks on chapter 03's selector, and signals as callbacks.
 *
 * The counterpart of asyncio's BaseEventLoop with the callback API only:
 * call_soon, call_later / call_at, add_reader / add_writer, run_forever,
 * stop, time. One iteration (loop_run_once()) is a short list of phases:
 *
 *  1. wait in the selector, at most until the earliest timer is due (not
 *     at all if callbacks are ready or a stop is pending), and queue the
 *     ready descriptors' callbacks. The wait is measured from a fresh
 *     reading of the clock, so a slow callback does not delay the next
 *     timer by its own run time;
 *  2. read the clock, once per iteration: that is loop_time() until the
 *     next iteration;
 *  3. unlink every due timer, in deadline order (equal deadlines in the
 *     order they were armed), and queue its callback;
 *  4. run the callbacks that were queued when this phase began; the ones
 *     they queue wait for the next iteration.
 *
 * Memory: timers live in caller storage (loop_timer_t), like libuv's
 * handles, so a timer can sit inside the struct of whatever it belongs to
 * (a connection, later a coroutine's frame) and cancelling one that already
 * fired, or cancelling twice, is harmless. Queued call_soon callbacks and
 * descriptor registrations are the loop's own and freed by loop_destroy().
 *
 * Cancelling is safe at any point: a timer that is due and queued but not
 * yet run, or a reader removed by an earlier callback of the same
 * iteration, is skipped, never called.
 *
 * Trace: with loop_options_t::trace (or LOOP_TRACE set in the environment)
 * every iteration prints one line before its callbacks run, for example
 * `[loop #7 t=12.003] wait (timeout 2999 ms): fds ready 0r | timers: 1 due,
 * 0 armed | run 2: 0 soon, 1 timer, 1 reader, 0 writer`.
 *
 * Not thread-safe: a loop and everything registered on it belong to the
 * thread that runs it. Signal handlers only write to the loop's self-pipe.
 */
#ifndef LOOP_H
#define LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "selector.h"

/** @brief An event loop; opaque, made by loop_create(). */
typedef struct loop loop_t;

/**
 * @brief A callback: what call_soon, timers, readers, writers and signal
 *        handlers run.
 * @param loop the loop running it.
 * @param arg the pointer given when it was scheduled.
 */
typedef void loop_cb(loop_t *loop, void *arg);

/**
 * @brief A clock: the loop's idea of "now", in seconds. Monotonic by
 *        default; tests inject a fake one they advance by hand.
 * @param arg the pointer given in loop_options_t::clock_arg.
 * @return the current time in seconds.
 */
typedef double loop_clock_cb(void *arg);

/** @brief How the loop keeps its timers; both pass the same tests. */
typedef enum loop_timers_kind {
    LOOP_TIMERS_HEAP = 0, /**< binary min-heap: O(log n) add and cancel */
    LOOP_TIMERS_LIST,     /**< sorted array, binary-search insertion (like
                               Python's bisect.insort): O(n) add and cancel */
} loop_timers_kind_t;

/** @brief Options for loop_create(); all-zero means the defaults. */
typedef struct loop_options {
    selector_backend_t backend; /**< selector backend; default the best */
    loop_timers_kind_t timers;  /**< timer structure; default the heap */
    loop_clock_cb *clock;       /**< clock; NULL = CLOCK_MONOTONIC */
    void *clock_arg;            /**< passed to @c clock */
    FILE *trace;                /**< print each iteration's phases here;
                                     NULL = stderr if the environment
                                     variable LOOP_TRACE is set, else off */
} loop_options_t;

/**
 * @brief A timer, in caller storage. Set up by loop_timer_init(), armed by
 *        loop_call_later() or loop_call_at(), disarmed by loop_cancel() or
 *        just before its callback runs.
 *
 * Fields are private to the loop. The storage must stay valid while the
 * timer is armed; after loop_cancel() or once the callback has started it
 * may be freed or reused (re-armed from its own callback, for instance).
 */
typedef struct loop_timer {
    double when_s;  /**< deadline on the loop's clock */
    uint64_t seq;   /**< scheduling order; breaks ties between deadlines */
    loop_cb *cb;    /**< what to run */
    void *arg;      /**< its argument */
    size_t index;   /**< position in the loop's timer structure, or
                         SIZE_MAX when not armed */
} loop_timer_t;

/**
 * @brief Make a loop.
 * @param options NULL for the defaults.
 * @return the loop, or NULL with errno set (ENOMEM, ENOSYS for an
 *         unavailable backend, or what pipe() reports).
 */
loop_t *loop_create(const loop_options_t *options);

/**
 * @brief Free the loop and everything it owns: queued callbacks (never
 *        run), descriptor registrations (the descriptors stay open: they
 *        are the caller's), signal handlers (restored to what they were).
 *        Armed timers are disarmed; their storage is the caller's.
 * @param loop a loop that is not running, or NULL.
 */
void loop_destroy(loop_t *loop);

/**
 * @brief Which selector backend the loop uses (never SELECTOR_DEFAULT).
 * @param loop a loop.
 * @return its selector's backend.
 */
selector_backend_t loop_backend(const loop_t *loop);

/**
 * @brief The loop's time: the clock as read once per iteration, after
 *        the selector's wait (loop_create() reads it first).
 * @param loop a loop.
 * @return seconds on the loop's clock.
 */
double loop_time(const loop_t *loop);

/**
 * @brief Queue @p cb to run in a later phase, after what is already queued.
 *
 * Callbacks queued while the loop runs callbacks wait for the next
 * iteration, so a callback that re-queues itself cannot starve the rest.
 *
 * @param loop a loop.
 * @param cb the callback.
 * @param arg its argument.
 * @return 0; -1 with errno ENOMEM.
 */
int loop_call_soon(loop_t *loop, loop_cb *cb, void *arg);

/**
 * @brief Prepare a timer: unarmed, so loop_cancel() on it does nothing.
 * @param timer caller storage.
 */
void loop_timer_init(loop_timer_t *timer);

/**
 * @brief Arm @p timer to run @p cb at loop_time() + @p delay_s.
 * @param loop a loop.
 * @param timer an initialised timer; if it is armed already, it is
 *        re-armed with the new deadline.
 * @param delay_s seconds from now; a negative delay counts as 0.
 * @param cb the callback.
 * @param arg its argument.
 * @return 0; -1 with errno ENOMEM.
 */
int loop_call_later(loop_t *loop, loop_timer_t *timer, double delay_s,
                    loop_cb *cb, void *arg);

/**
 * @brief Arm @p timer to run @p cb when the loop's clock reaches @p when_s.
 * @param loop a loop.
 * @param timer an initialised timer (re-armed if armed).
 * @param when_s a deadline on the loop's clock.
 * @param cb the callback.
 * @param arg its argument.
 * @return 0; -1 with errno ENOMEM.
 */
int loop_call_at(loop_t *loop, loop_timer_t *timer, double when_s,
                 loop_cb *cb, void *arg);

/**
 * @brief Disarm a timer. Harmless if it is not armed (never armed, already
 *        fired, already cancelled).
 * @param loop the loop it was armed on.
 * @param timer an initialised timer.
 */
void loop_cancel(loop_t *loop, loop_timer_t *timer);

/**
 * @brief Whether a timer is armed.
 * @param timer an initialised timer.
 * @return 1 if armed, else 0.
 */
int loop_timer_armed(const loop_timer_t *timer);

/**
 * @brief How many timers are armed.
 * @param loop a loop.
 * @return the count.
 */
size_t loop_timer_count(const loop_t *loop);

/**
 * @brief Run @p cb whenever @p fd is readable (level-triggered), replacing
 *        an earlier reader for @p fd.
 * @param loop a loop.
 * @param fd an open descriptor, best non-blocking; the caller keeps it.
 * @param cb the callback.
 * @param arg its argument.
 * @return 0; -1 with errno as selector_register() reports it.
 */
int loop_add_reader(loop_t *loop, int fd, loop_cb *cb, void *arg);

/**
 * @brief Stop watching @p fd for reading.
 * @param loop a loop.
 * @param fd a descriptor.
 * @return 1 if a reader was removed, 0 if there was none.
 */
int loop_remove_reader(loop_t *loop, int fd);

/**
 * @brief Run @p cb whenever @p fd is writable, replacing an earlier writer.
 * @param loop a loop.
 * @param fd an open descriptor; the caller keeps it.
 * @param cb the callback.
 * @param arg its argument.
 * @return 0; -1 with errno as selector_register() reports it.
 */
int loop_add_writer(loop_t *loop, int fd, loop_cb *cb, void *arg);

/**
 * @brief Stop watching @p fd for writing.
 * @param loop a loop.
 * @param fd a descriptor.
 * @return 1 if a writer was removed, 0 if there was none.
 */
int loop_remove_writer(loop_t *loop, int fd);

/**
 * @brief Run @p cb on the loop, as an ordinary callback, after @p signo
 *        arrives. The C handler only writes the signal number to the
 *        loop's self-pipe. It is installed without SA_RESTART: a
 *        blocking call it interrupts, in any thread that does not block
 *        @p signo, fails with EINTR.
 * @param loop a loop (one loop per process may handle signals).
 * @param signo a signal number, such as SIGINT.
 * @param cb the callback.
 * @param arg its argument.
 * @return 0; -1 with errno set (EINVAL for a bad signal number).
 */
int loop_add_signal_handler(loop_t *loop, int signo, loop_cb *cb, void *arg);

/**
 * @brief Restore the signal's previous disposition.
 * @param loop a loop.
 * @param signo a signal number.
 * @return 1 if a handler was removed, 0 if there was none.
 */
int loop_remove_signal_handler(loop_t *loop, int signo);

/**
 * @brief Has @p signo arrived, its callback not run yet? The C handler
 *        notes the signal at once; the callback runs later, in an
 *        iteration of the loop. A program about to block outside the loop
 *        (a write to a full pipe) asks here first, with the signal blocked:
 *        a signal taken before it blocked interrupts nothing any more.
 * @param loop the loop that handles @p signo.
 * @param signo a signal number.
 * @return 1 if it has arrived and its callback is still to run, else 0.
 * @note The loop's thread; async-signal-safe.
 */
int loop_signal_pending(const loop_t *loop, int signo);

/**
 * @brief Run one iteration (the phases listed at the top of this file).
 *
 * The loop is not re-entrant: called from inside one of its own callbacks
 * (while loop_run_once() or loop_run_forever() is running), it refuses.
 * @param loop a loop.
 * @return 0; -1 with errno set when the selector fails, or EBUSY when the
 *         loop is already running.
 */
int loop_run_once(loop_t *loop);

/**
 * @brief Run iterations until loop_stop() is called.
 * @param loop a loop.
 * @return 0 after a stop; -1 with errno set when the selector fails, or
 *         EBUSY when the loop is already running (called from one of its
 *         callbacks).
 */
int loop_run_forever(loop_t *loop);

/**
 * @brief Make loop_run_forever() return after the current iteration.
 * @param loop a loop.
 */
void loop_stop(loop_t *loop);

#endif
