/* Exercise 04-crawler: the entry point the tests call. */
#ifndef EXERCISE_H
#define EXERCISE_H

#include <stddef.h>

#include "sync.h"
#include "task.h"

/**
 * @brief Start fetching one URL: the tests' stand-in for an HTTP GET.
 * @param arg crawl_t::fetch_arg.
 * @param url one of crawl_t::urls.
 * @return a pending Future that finishes with the body (any pointer) or
 *         with an error code. Nobody but the crawler ever cancels it;
 *         cancelled, it stops at once. Never NULL.
 */
typedef future_t *fetch_fn(void *arg, const char *url);

/** @brief What to crawl and how; the caller's storage. */
typedef struct crawl {
    loop_t *loop;          /**< the loop it runs on */
    const char **urls;     /**< the URLs, @c n of them */
    size_t n;              /**< how many URLs (0 is allowed) */
    size_t workers;        /**< fetches this crawl may have in flight at
                                once, at least 1 */
    semaphore_t *limit;    /**< shared with other crawls: one unit per
                                fetch in flight, whichever crawl it is */
    double timeout_s;      /**< the longest one fetch may take */
    fetch_fn *fetch;       /**< how to fetch a URL */
    void *fetch_arg;       /**< its first argument */
    void **bodies;         /**< out: room for @c n bodies */
    int *errors;           /**< out: room for @c n error codes */
} crawl_t;

/**
 * @brief Fetch every URL of @p c, several at once.
 *
 * The Task finishes with result NULL once every URL has its outcome:
 * `bodies[i]` and `errors[i] == 0` for URL i fetched, or `bodies[i] ==
 * NULL` and `errors[i]` the fetch's error, ETIMEDOUT for a fetch that took
 * longer than @c timeout_s (that fetch is cancelled). A failed URL does
 * not stop the others: the Task never fails because of one.
 *
 * At any moment at most @c workers fetches of this crawl are in flight,
 * and each holds one unit of @c limit from before it starts until it has
 * finished, however it finishes. Each URL is fetched once.
 *
 * Cancelled (task_cancel()), the crawl cancels every fetch in flight,
 * gives back every unit of @c limit it holds, leaves no timer armed and
 * ends cancelled, within a few turns of the loop and without the clock
 * having to move; once it has ended, no fetch of it starts.
 *
 * @param c the crawl; it and the arrays it points to must stay valid
 *        until the Task has finished.
 * @return the Task (one reference for the caller: task_release()), or
 *         NULL with errno EINVAL (no loop, workers 0, no limit, no fetch,
 *         or n > 0 without urls, bodies or errors) or ENOMEM.
 */
task_t *crawl_start(const crawl_t *c);

#endif
