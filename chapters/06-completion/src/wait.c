/*
 * wait.c - asyncio.wait and asyncio.as_completed: one done callback per
 * Future watched, and a timer for the deadline. Neither cancels what it
 * watches; both take their callbacks back before their storage can go.
 */
#include "wait.h"

#include <errno.h>
#include <stdlib.h>

/* ---- wait ------------------------------------------------------------------ */

/* Stop watching and answer: the records come back from the Futures still
 * pending, so nothing points into w once it has finished. */
static void wait_finish(wait_t *w)
{
    wait_sets_t *sets = w->sets;

    loop_cancel(w->future.loop, &w->timer);
    sets->ndone = sets->npending = 0;
    for (size_t k = 0; k < w->n; k++) {
        future_remove_done_callback(w->fs[k], &w->records[k]);
        if (future_done(w->fs[k]))
            sets->done[sets->ndone++] = w->fs[k];
        else
            sets->pending[sets->npending++] = w->fs[k];
    }
    free(w->records);
    w->records = NULL;
    future_set_result(&w->future, sets);
}

/* Whether @p f, just finished, ends the wait. */
static int wait_satisfied(const wait_t *w, const future_t *f)
{
    if (w->left == 0 || w->when == WAIT_FIRST_COMPLETED)
        return 1;
    /* A cancellation is not an exception for FIRST_EXCEPTION (asyncio
     * looks at f.exception() only when not f.cancelled()). */
    return w->when == WAIT_FIRST_EXCEPTION &&
           future_state(f) == FUTURE_ERROR;
}

static void wait_one_done(future_t *f, void *arg)
{
    wait_t *w = arg;

    w->left--;
    if (wait_satisfied(w, f))
        wait_finish(w);
}

static void wait_expired(loop_t *loop, void *arg)
{
    (void)loop;
    wait_finish(arg);              /* a timeout is an answer, not an error */
}

/* Cancelling the wait stops the waiting, never the Futures waited for. */
static int wait_cancel(future_t *future)
{
    wait_t *w = (wait_t *)future;

    loop_cancel(future->loop, &w->timer);
    for (size_t k = 0; k < w->n; k++)
        future_remove_done_callback(w->fs[k], &w->records[k]);
    free(w->records);
    w->records = NULL;
    future_set_cancelled(future);
    return 1;
}

future_t *wait_start(wait_t *w, loop_t *loop, future_t **fs, size_t n,
                     wait_when_t when, double timeout_s, wait_sets_t *sets)
{
    if (n == 0 || sets == NULL || sets->done == NULL ||
        sets->pending == NULL || (when != WAIT_FIRST_COMPLETED &&
        when != WAIT_FIRST_EXCEPTION && when != WAIT_ALL_COMPLETED)) {
        errno = EINVAL;    /* asyncio: ValueError */
        return NULL;
    }
    w->records = calloc(n, sizeof *w->records);
    if (w->records == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    future_init(&w->future, loop);
    w->future.cancel = wait_cancel;
    w->fs = fs;
    w->n = n;
    w->when = when;
    w->sets = sets;
    w->left = n;
    loop_timer_init(&w->timer);
    for (size_t k = 0; k < n; k++) {
        if (future_done(fs[k]))
            w->left--;
    }
    /* Decide at once if what is done already is enough. */
    for (size_t k = 0; k < n; k++) {
        if (future_done(fs[k]) && wait_satisfied(w, fs[k])) {
            wait_finish(w);
            return &w->future;
        }
    }
    if (timeout_s >= 0 &&
        loop_call_later(loop, &w->timer, timeout_s, wait_expired, w) < 0) {
        free(w->records);
        w->records = NULL;
        errno = ENOMEM;
        return NULL;
    }
    for (size_t k = 0; k < n; k++) {
        if (!future_done(fs[k]))
            future_add_done_callback(fs[k], &w->records[k], wait_one_done,
                                     w);
    }
    return &w->future;
}

/* ---- as_completed ---------------------------------------------------------- */

/* Whether a Future handed out is still waiting for an answer: one that
 * was cancelled (with the Task awaiting it) is not, and takes nothing. */
static int as_completed_waiting(const as_completed_t *ac)
{
    return ac->waiting && !future_done(&ac->next);
}

/* Hand out the next answer on ac->next, if there is one. */
static void as_completed_give(as_completed_t *ac)
{
    if (ac->taken < ac->finished) {
        ac->waiting = 0;
        future_set_result(&ac->next, ac->order[ac->taken++]);
    } else if (ac->expired > 0 && ac->taken < ac->n) {
        ac->waiting = 0;
        ac->taken++;
        future_set_error(&ac->next, ETIMEDOUT);
    }
}

static void as_completed_one_done(future_t *f, void *arg)
{
    as_completed_t *ac = arg;

    ac->order[ac->finished++] = f;
    if (as_completed_waiting(ac))
        as_completed_give(ac);
}

/* The deadline: what is not finished now will only ever come out as
 * ETIMEDOUT, so stop listening to it. */
static void as_completed_expired(loop_t *loop, void *arg)
{
    as_completed_t *ac = arg;

    (void)loop;
    for (size_t k = 0; k < ac->n; k++) {
        if (future_remove_done_callback(ac->fs[k], &ac->records[k]))
            ac->expired++;
    }
    if (as_completed_waiting(ac))
        as_completed_give(ac);
}

int as_completed_start(as_completed_t *ac, loop_t *loop, future_t **fs,
                       size_t n, double timeout_s)
{
    ac->loop = loop;
    ac->fs = fs;
    ac->n = n;
    ac->finished = ac->taken = ac->expired = 0;
    ac->waiting = 0;
    loop_timer_init(&ac->timer);
    future_init(&ac->next, loop);
    ac->records = calloc(n ? n : 1, sizeof *ac->records);
    ac->order = calloc(n ? n : 1, sizeof *ac->order);
    if (ac->records == NULL || ac->order == NULL ||
        (timeout_s >= 0 && n > 0 && loop_call_later(loop, &ac->timer,
                    timeout_s, as_completed_expired, ac) < 0)) {
        free(ac->records);
        free(ac->order);
        ac->records = NULL;
        ac->order = NULL;
        errno = ENOMEM;
        return -1;
    }
    /* Those finished already come out first, in argument order. */
    for (size_t k = 0; k < n; k++) {
        if (future_done(fs[k]))
            ac->order[ac->finished++] = fs[k];
    }
    for (size_t k = 0; k < n; k++) {
        if (!future_done(fs[k]))
            future_add_done_callback(fs[k], &ac->records[k],
                                     as_completed_one_done, ac);
    }
    return 0;
}

size_t as_completed_left(const as_completed_t *ac)
{
    return ac->n - ac->taken;
}

future_t *as_completed_next(as_completed_t *ac)
{
    if (as_completed_left(ac) == 0) {
        errno = ENOENT;
        return NULL;
    }
    if (as_completed_waiting(ac))  /* handed out before, still pending */
        return &ac->next;
    future_init(&ac->next, ac->loop);
    ac->waiting = 1;
    as_completed_give(ac);
    return &ac->next;
}

void as_completed_end(as_completed_t *ac)
{
    loop_cancel(ac->loop, &ac->timer);
    for (size_t k = 0; k < ac->n && ac->records != NULL; k++)
        future_remove_done_callback(ac->fs[k], &ac->records[k]);
    if (as_completed_waiting(ac))
        future_cancel(&ac->next);
    ac->waiting = 0;
    free(ac->records);
    free(ac->order);
    ac->records = NULL;
    ac->order = NULL;
}
