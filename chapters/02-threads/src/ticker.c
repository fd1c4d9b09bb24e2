/*
 * ticker.c - a periodic thread that can be stopped at once.
 *
 * The thread waits with pthread_cond_timedwait() rather than sleeping, so
 * that ticker_stop() can cut the wait short with a signal on the condition
 * variable. The condition variable is set to CLOCK_MONOTONIC: the default
 * (CLOCK_REALTIME) jumps when someone sets the clock.
 */
#include "ticker.h"

#include "timespec.h"

#include <errno.h>
#include <time.h>

/* [ticker-thread] */
static void *ticker_main(void *arg)
{
    ticker_t *t = arg;
    struct timespec deadline, now;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    /* The first tick comes before any look at the stop flag: "at once" is a
     * promise, and ticker_stop() may well run before this thread does. */
    for (;;) {
        /* Never call back with the lock held: ticker_stop() must be able to
         * take it while a slow callback runs. */
        t->cb(t->arg);

        pthread_mutex_lock(&t->lock);
        clock_gettime(CLOCK_MONOTONIC, &now);
        do /* skip the ticks a slow callback missed */
            deadline = timespec_add_s(deadline, t->interval_s);
        while (!timespec_before(now, deadline));

        /* Sleep until the deadline or until ticker_stop() signals. The loop
         * absorbs spurious wake-ups, which POSIX allows. */
        while (!t->stopping &&
               pthread_cond_timedwait(&t->wake, &t->lock, &deadline) != ETIMEDOUT)
            ;
        int stopping = t->stopping;
        pthread_mutex_unlock(&t->lock);
        if (stopping)
            return NULL;
    }
}
/* [ticker-thread] */

int ticker_start(ticker_t *t, double interval_s, ticker_cb *cb, void *arg)
{
    pthread_condattr_t attr;
    int err;

    t->stopping = 0;
    t->interval_s = interval_s;
    t->cb = cb;
    t->arg = arg;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);

    err = pthread_create(&t->thread, NULL, ticker_main, t);
    if (err != 0) {
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        errno = err; /* pthread functions return the error, not -1 */
        return -1;
    }
    return 0;
}

/* [ticker-stop] */
void ticker_stop(ticker_t *t)
{
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);

    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
}
/* [ticker-stop] */
