/**
 * @file ticker.h
 * @brief A thread that calls a function every interval until told to stop.
 *
 * This is what chapter 02 adds to `hello`: the periodic work moves to its
 * own thread, so the operating system's scheduler runs it while the main
 * thread is blocked in a read or busy computing fib.
 *
 * Stopping is prompt. The thread does not sleep(); it waits on a condition
 * variable with a deadline on CLOCK_MONOTONIC, so ticker_stop() wakes it at
 * once instead of after up to a whole interval, and a change of the wall
 * clock (NTP, the user) cannot stretch or shrink the wait.
 */
#ifndef TICKER_H
#define TICKER_H

#include <pthread.h>

/**
 * @brief What the ticker calls on every tick.
 * @param arg the pointer given to ticker_start().
 */
typedef void ticker_cb(void *arg);

/**
 * @brief A periodic thread. Caller storage: ticker_start() initialises it,
 *        ticker_stop() ends the thread and releases what start acquired.
 *
 * All fields are private to ticker.c. @c stopping is shared between the two
 * threads and is only read or written with @c lock held.
 */
typedef struct ticker {
    pthread_t thread;     /**< the ticking thread, joined by ticker_stop() */
    pthread_mutex_t lock; /**< guards @c stopping */
    pthread_cond_t wake;  /**< signalled by ticker_stop(); CLOCK_MONOTONIC */
    int stopping;         /**< set once, by ticker_stop() */
    double interval_s;    /**< time between ticks, seconds */
    ticker_cb *cb;        /**< called on the ticking thread */
    void *arg;            /**< passed to @c cb; owned by the caller */
} ticker_t;

/**
 * @brief Start a thread that calls @p cb at once, then every @p interval_s.
 *
 * The call at once is always made, even when ticker_stop() comes before
 * the new thread has had a chance to run.
 *
 * Ticks are scheduled on absolute deadlines (start + k * interval), so a slow
 * callback does not make the ticks drift. If a callback overruns a whole
 * interval the missed ticks are skipped, not bunched up.
 *
 * @param t caller storage, uninitialised; must stay put until ticker_stop().
 * @param interval_s seconds between ticks, > 0.
 * @param cb called on the new thread, never concurrently with itself; it
 *        must be safe to run alongside whatever the caller's threads do.
 * @param arg passed to @p cb.
 * @return 0 on success; -1 with errno set (EAGAIN when the system cannot
 *         make another thread), and then @p t needs no ticker_stop().
 */
int ticker_start(ticker_t *t, double interval_s, ticker_cb *cb, void *arg);

/**
 * @brief Stop the ticker: wake its thread, wait for it to end, clean up.
 *
 * Returns as soon as the callback that is running, or the first one if it
 * has not run yet, has returned; no callback starts after this returns.
 *
 * @param t a ticker started by ticker_start(); call once.
 */
void ticker_stop(ticker_t *t);

#endif
