/*
 * timeout.c - timeout scopes and wait_for on top of them.
 *
 * The scope does not watch the block's Futures itself: it cancels the
 * Task, and the Task's own cancellation (task.c) interrupts whatever it
 * awaits, at any depth of sub-coroutines. So one mechanism serves a
 * single await, a block of them, and nested scopes.
 */
#include "timeout.h"

#include <errno.h>
#include <math.h>

static void timeout_expire(loop_t *loop, void *arg)
{
    timeout_scope_t *s = arg;

    (void)loop;
    s->state = TIMEOUT_EXPIRING;
    task_cancel(s->task);
}

static int arm(timeout_scope_t *s, double when_s)
{
    loop_t *loop = task_future(s->task)->loop;

    loop_cancel(loop, &s->timer);
    s->when_s = when_s;
    if (isinf(when_s))
        return 0;
    if (loop_call_at(loop, &s->timer, when_s, timeout_expire, s) != 0) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int timeout_enter(timeout_scope_t *s, double delay_s)
{
    s->task = task_current();
    if (s->task == NULL) {
        errno = EPERM;
        return -1;
    }
    loop_timer_init(&s->timer);
    s->cancelling = task_cancelling(s->task);
    s->state = TIMEOUT_ENTERED;
    if (isinf(delay_s))
        return arm(s, INFINITY);
    return arm(s, loop_time(task_future(s->task)->loop) + delay_s);
}

int timeout_reschedule(timeout_scope_t *s, double when_s)
{
    if (s->state != TIMEOUT_ENTERED) {
        errno = EINVAL;
        return -1;
    }
    return arm(s, when_s);
}

double timeout_when(const timeout_scope_t *s)
{
    return s->when_s;
}

int timeout_expired(const timeout_scope_t *s)
{
    return s->state == TIMEOUT_EXPIRING || s->state == TIMEOUT_EXPIRED;
}

/* [timeout-exit] */
int timeout_exit(timeout_scope_t *s, int err)
{
    loop_cancel(task_future(s->task)->loop, &s->timer);
    if (s->state != TIMEOUT_EXPIRING) {
        s->state = TIMEOUT_EXITED;
        return err;
    }
    s->state = TIMEOUT_EXPIRED;
    /* Take our cancel request back. If none is left beyond what the Task
     * had when we entered, the ECANCELED that ended the block was ours. */
    if (task_uncancel(s->task) <= s->cancelling && err == ECANCELED)
        return ETIMEDOUT;
    return err;
}
/* [timeout-exit] */

static int scope_body(coro_t *co)
{
    timeout_scope_t *s = (timeout_scope_t *)co;

    CORO_BEGIN(co);
    if (timeout_enter(s, s->delay_s) != 0)
        CORO_FAIL(co, errno);
    CORO_AWAIT_CORO_CATCH(co, s->block);
    co->err = timeout_exit(s, co->err);
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_RETURN(co, co->in);
    CORO_END(co);
}

coro_t *timeout_run(timeout_scope_t *s, double delay_s, coro_t *block)
{
    coro_init(&s->co, scope_body);
    s->block = block;
    s->delay_s = delay_s;
    s->state = TIMEOUT_CREATED;
    return &s->co;
}

/* [wait-for] */
static int wait_for_body(coro_t *co)
{
    wait_for_t *w = (wait_for_t *)co;

    CORO_BEGIN(co);
    if (w->timeout_s <= 0) {
        /* No time at all: what is there, or cancel now and wait for the
         * cancellation to finish (no timer: it would fire only after the
         * steps already queued, and an unstarted Task would start). */
        if (task_current() == NULL)      /* a scope needs its Task */
            CORO_FAIL(co, EPERM);
        if (future_done(w->inner)) {
            AWAIT_CATCH(co, w->inner);
        } else {
            w->cancelling = task_cancelling(task_current());
            future_cancel(w->inner);
            AWAIT_CATCH(co, w->inner);
            if (co->err == ECANCELED &&
                task_cancelling(task_current()) <= w->cancelling)
                co->err = ETIMEDOUT;   /* the cancel was ours, not outside */
        }
    } else {
        if (timeout_enter(&w->scope, w->timeout_s) != 0)
            CORO_FAIL(co, errno);
        AWAIT_CATCH(co, w->inner);
        co->err = timeout_exit(&w->scope, co->err);
    }
    if (co->err)
        CORO_FAIL(co, co->err);
    CORO_RETURN(co, co->in);
    CORO_END(co);
}
/* [wait-for] */

coro_t *wait_for(wait_for_t *w, future_t *inner, double timeout_s)
{
    coro_init(&w->co, wait_for_body);
    w->inner = inner;
    w->timeout_s = timeout_s;
    return &w->co;
}
