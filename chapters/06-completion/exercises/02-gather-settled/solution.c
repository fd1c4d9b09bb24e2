/* Exercise 02-gather-settled: a reference solution. */
#include "exercise.h"

#include <errno.h>

/* Cancelling the settled Future finishes it at once, so its storage may be
 * freed right after: first take every record back from the children (none
 * may call us later), then cancel the children still running. */
static int settled_cancel(future_t *future)
{
    settled_t *s = (settled_t *)future;

    for (size_t i = 0; i < s->n; i++)
        future_remove_done_callback(s->children[i], &s->records[i]);
    for (size_t i = 0; i < s->n; i++)
        future_cancel(s->children[i]);
    future_set_cancelled(future);
    return 1;
}

future_t *settled_start(settled_t *s, loop_t *loop, future_t **children,
                        size_t n, void **results, int *errors,
                        future_callback_t *records)
{
    future_init(&s->future, loop);
    s->future.cancel = settled_cancel;
    s->children = children;
    s->results = results;
    s->errors = errors;
    s->records = records;
    s->n = n;
    s->left = n;
    if (n == 0) {
        future_set_result(&s->future, results);
        return &s->future;
    }
    /* Every outcome arrives through settled_child_done(): called here for
     * a child that finished already, from the child otherwise. (Hanging a
     * record on a finished Future would queue a call on the loop that
     * settled_cancel() could not take back.) */
    for (size_t i = 0; i < n; i++) {
        if (future_done(children[i]))
            settled_child_done(children[i], s);
        else
            future_add_done_callback(children[i], &records[i],
                                     settled_child_done, s);
    }
    return &s->future;
}

void settled_child_done(future_t *child, void *arg)
{
    settled_t *s = arg;

    /* Every index where this child appears (it may be passed twice: each
     * of its records calls us, so each call fills all its slots and
     * counts one). */
    for (size_t i = 0; i < s->n; i++) {
        if (s->children[i] != child)
            continue;
        s->results[i] = NULL;
        s->errors[i] = 0;
        future_result(child, &s->results[i], &s->errors[i]);
    }
    if (--s->left == 0)
        future_set_result(&s->future, s->results);
}
