/*
 * shield.c - asyncio.shield: a second Future in front of the first. The
 * cancellation of the front one is not passed on; the outcome of the back
 * one is passed forward.
 */
#include "shield.h"

#include <errno.h>

static void shield_inner_done(future_t *inner, void *arg)
{
    shield_t *s = arg;
    void *result = NULL;
    int err = 0;
    future_status_t st = future_result(inner, &result, &err);

    /* Finishing outer runs shield_outer_done(), whose removal finds
     * nothing: inner has let go of our record before calling us. */
    if (st == FUTURE_OK)
        future_set_result(&s->outer, result);
    else if (st == FUTURE_E_CANCELLED)
        future_set_cancelled(&s->outer);
    else
        future_set_error(&s->outer, err);
}

/* The outer Future finished: if that was a cancellation, inner is still
 * pending and holds our record; take it back so the storage may go. */
static void shield_outer_done(future_t *outer, void *arg)
{
    shield_t *s = arg;

    (void)outer;
    future_remove_done_callback(s->inner, &s->on_inner);
}

future_t *shield_start(shield_t *s, loop_t *loop, future_t *inner)
{
    if (future_done(inner))
        return inner;
    future_init(&s->outer, loop);
    s->inner = inner;
    future_add_done_callback(inner, &s->on_inner, shield_inner_done, s);
    future_add_done_callback(&s->outer, &s->on_outer, shield_outer_done, s);
    return &s->outer;
}
