/* wrong: keeps the first outcome but lets the losers run to their end, so the race lasts as long as the slowest child | expect: the losers were not cancelled when the winner finished */
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

    if (r->winner == NULL) {
        r->winner = child;              /* before any cancel re-enters us */
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
