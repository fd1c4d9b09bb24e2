/*
 * sleep.c - asyncio.sleep(): a Future finished by a timer of the loop the
 * sleeping Task runs on.
 *
 * The timer is disarmed from the Future's done callback, the one place
 * every ending passes through (the timer fired, or the awaiting Task was
 * cancelled), so no path leaves a timer pointing into a freed frame.
 */
#include "sleep.h"

#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static void sleep_wake(loop_t *loop, void *arg)
{
    sleeper_t *s = arg;

    (void)loop;
    future_set_result(&s->future, NULL);
}

static void sleep_done(future_t *future, void *arg)
{
    sleeper_t *s = arg;

    loop_cancel(future->loop, &s->timer);   /* harmless if it fired */
}

future_t *sleep_start(sleeper_t *s, double delay_s)
{
    loop_t *loop = running_loop();

    /* Outside a Task nothing could await the sleep, and there is no loop
     * to arm its timer on: a bug in the caller, said before it crashes
     * somewhere less clear (asyncio raises RuntimeError). */
    if (loop == NULL) {
        fprintf(stderr, "sleep_start: called outside a Task: "
                "no running loop\n");
        abort();
    }
    if (delay_s <= 0)
        return NULL;
    future_init(&s->future, loop);
    loop_timer_init(&s->timer);
    if (loop_call_later(loop, &s->timer, delay_s, sleep_wake, s) != 0) {
        future_set_error(&s->future, ENOMEM);   /* raised at the await */
        return &s->future;
    }
    future_add_done_callback(&s->future, &s->done, sleep_done, s);
    return &s->future;
}
