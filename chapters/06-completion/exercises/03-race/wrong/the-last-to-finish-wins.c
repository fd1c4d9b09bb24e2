/* wrong: records every child that finishes as the winner, so the outcome is the last loser's | expect: is the outcome taken from the first child to finish, and from no later one? */
#include "exercise.h"

#include <errno.h>

/* Cancelling the race finishes it at once, so its storage may be freed
 * right after: first take every record back from the children still
 * running (none may call us later), then cancel them. */
static int race_cancel(future_t *future)
{
    race_t *r = (race_t *)future;

    for (size_t i = 0; i < r->n; i++)
        future_remove_done_callback(r->children[i], &r->records[i]);
    for (size_t i = 0; i < r->n; i++)
        future_cancel(r->children[i]);
    future_set_cancelled(future);
    return 1;
}

future_t *race_start(race_t *r, loop_t *loop, future_t **children, size_t n,
                     future_callback_t *records)
{
    future_init(&r->future, loop);
    r->future.cancel = race_cancel;
    r->children = children;
    r->records = records;
    r->n = n;
    r->left = n;
    r->winner = NULL;
    for (size_t i = 0; i < n; i++)
        future_add_done_callback(children[i], &records[i], race_child_done,
                                 r);
    return &r->future;
}

void race_child_done(future_t *child, void *arg)
{
    race_t *r = arg;

    r->winner = child;
    if (r->left == r->n) {                  /* the first one in */
        for (size_t i = 0; i < r->n; i++)
            if (r->children[i] != child)
                future_cancel(r->children[i]);
    }
    if (--r->left == 0) {
        void *result = NULL;
        int err = 0;

        if (future_result(r->winner, &result, &err) == FUTURE_OK)
            future_set_result(&r->future, result);
        else
            future_set_error(&r->future, err);
    }
}
