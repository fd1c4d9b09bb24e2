/*
 * gather.c - a Future made of other Futures. Its cancel hook passes the
 * request down, the way asyncio's _GatheringFuture does.
 */
#include "gather.h"

#include <errno.h>
#include <stdlib.h>

static void gather_free(gather_t *g)
{
    free(g->records);
    g->records = NULL;
}

static void gather_fail(gather_t *g, int err)
{
    /* Take our records back from the children still running, so nothing
     * points into g once it has finished. */
    for (size_t k = 0; k < g->n && g->records != NULL; k++)
        future_remove_done_callback(g->children[k], &g->records[k]);
    gather_free(g);
    future_set_error(&g->future, err);
}

static void gather_succeed(gather_t *g)
{
    for (size_t k = 0; k < g->n; k++)
        future_result(g->children[k], &g->results[k], NULL);
    gather_free(g);
    if (g->cancelling)
        future_set_cancelled(&g->future);
    else
        future_set_result(&g->future, g->results);
}

/* [gather-child-done] */
static void gather_child_done(future_t *child, void *arg)
{
    gather_t *g = arg;
    int err = 0;

    g->left--;
    if (future_result(child, NULL, &err) != FUTURE_OK && !g->cancelling) {
        gather_fail(g, err);             /* the first error fails it */
        return;
    }
    if (g->left == 0)
        gather_succeed(g);
}
/* [gather-child-done] */

/* Like asyncio (bpo-26923): cancelling succeeds only if some child took
 * the cancellation. When every child has finished but the gather has not
 * heard yet (its callback comes later in a child's list), there is
 * nothing to cancel: refuse, and let the results arrive. */
static int gather_cancel(future_t *future)
{
    gather_t *g = (gather_t *)future;
    int any = 0;

    g->cancelling = 1;
    for (size_t k = 0; k < g->n; k++)
        any |= future_cancel(g->children[k]);
    if (!any)
        g->cancelling = 0;
    return any;
}

future_t *gather_start(gather_t *g, loop_t *loop, future_t **children,
                       size_t n, void **results)
{
    future_init(&g->future, loop);
    g->future.cancel = gather_cancel;
    g->children = children;
    g->results = results;
    g->n = n;
    g->left = 0;
    g->cancelling = 0;
    g->records = NULL;
    for (size_t k = 0; k < n; k++) {      /* an error that is already in */
        int err = 0;

        if (future_done(children[k]) &&
            future_result(children[k], NULL, &err) != FUTURE_OK) {
            future_set_error(&g->future, err);
            return &g->future;
        }
    }
    if (n > 0 && (g->records = calloc(n, sizeof *g->records)) == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    for (size_t k = 0; k < n; k++) {
        if (!future_done(children[k])) {
            g->left++;
            future_add_done_callback(children[k], &g->records[k],
                                     gather_child_done, g);
        }
    }
    if (g->left == 0)
        gather_succeed(g);
    return &g->future;
}
